"""Package the published GENEB results (40 submissions, model_meta.json, leaderboard.json)
into geneb/catalog/data/published/geneb-v1.tar.xz, byte for byte, with a manifest of git
blob hashes (geneb-v1.toml), so the package ships the published data with its provenance.

Run once by a maintainer from a copy of the official files:
    python scripts/package_published.py /path/to/geneb_published
(`submissions/*.json`, `model_meta.json`, `leaderboard.json` as in the official repository)."""

from __future__ import annotations

import hashlib
import io
import sys
import tarfile
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "geneb" / "catalog" / "data" / "published"
# where each file lives in the official repository
LAYOUT = {"model_meta.json": "benchmark/model_meta.json", "leaderboard.json": "leaderboard/leaderboard.json"}


def blob_sha1(data: bytes) -> str:
    """The git blob hash (what `git hash-object` prints), checkable against the repository."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def main(src: Path) -> None:
    files = {f"submissions/{p.name}": p for p in sorted((src / "submissions").glob("*.json"))}
    files.update({LAYOUT[k]: src / k for k in LAYOUT})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz", preset=9 | 0x80000000) as tar:  # PRESET_EXTREME
        for name, path in files.items():
            data = path.read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o444  # reproducible archive
            tar.addfile(info, io.BytesIO(data))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "geneb-v1.tar.xz").write_bytes(buf.getvalue())
    lines = [f'"{name}" = "{blob_sha1(p.read_bytes())}"' for name, p in files.items()]
    manifest = (OUT / "geneb-v1.toml").read_text(encoding="utf-8").split("\n[files]\n")[0] + "\n"
    (OUT / "geneb-v1.toml").write_text(manifest + "[files]\n" + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(files)} files, {len(buf.getvalue())} bytes -> {OUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
