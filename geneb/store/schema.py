"""The on-disk schema (``geneb-embeddings`` 1.0.0): names, group documents, layout.

Documented in ``stores/README.md``. Everything about *where* things live and *how*
they are chunked is decided here, so the writer, the reader and verify agree.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidArgument
from .errors import StoreError, UnknownEncoding

ENCODING_VERSION = "1.0.0"
SUPPORTED_VERSIONS = frozenset({"1.0.0"})
TYPE_STORE = "geneb-store"
TYPE_MODEL = "geneb-model"
TYPE_PAIR = "geneb-embeddings"
TYPE_SPLIT = "geneb-split"

STORAGE_DTYPES = ("float16", "float32")
#: Pair locks live beside the store, ``<store>.locks/`` (a folder inside would be a
#: non-Zarr object in the hierarchy, which zarr and xarray warn about); a wrapped zarr
#: Store object, which has no "beside", keeps them in ``.locks/`` inside.
LOCK_SUFFIX = ".locks"
LOCK_DIR = ".locks"

#: Target sizes: inner chunks small enough that a random row gather decodes little but
#: large enough that whole reads make few decode calls (16 KiB measured 60 % more CPU
#: on full reads, no faster gathers); shards (= write blocks) a few MiB so that
#: 40 x 100 x 2 arrays stay at thousands of files.
TARGET_CHUNK_BYTES = 64 * 1024
TARGET_SHARD_BYTES = 4 * 1024 * 1024
LABEL_CHUNK_ROWS = 1 << 20

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+\-]*$")


def validate_id(kind: str, value: str) -> str:
    """Model, task and split ids become path segments: refuse anything unsafe."""
    if not isinstance(value, str) or not _ID_RE.match(value) or len(value) > 200:
        raise InvalidArgument(
            f"invalid {kind} id {value!r}: use letters, digits, '.', '_', '+', '-' "
            "(no '/', not starting with '.', at most 200 characters)"
        )
    return value


def pair_path(model: str, task: str) -> str:
    return f"{model}/{task}"


def split_path(model: str, task: str, split: str) -> str:
    return f"{model}/{task}/{split}"


#: Split attributes holding the sha256 of y and row_index (int64, little-endian): a chunk
#: that is missing (it would read as the fill value), truncated or changed is corruption.
DIGEST_ATTRS = {"y": "y_sha256", "row_index": "row_index_sha256"}


#: Split attribute: array name -> sha256 of its zarr.json as written.
META_DIGESTS = "array_meta_sha256"
#: Group attribute: sha256 of the other attributes (canonical JSON), so a changed byte in
#: any geneb metadata document is detected, not only in the fields readers use.
CHECKSUM_ATTR = "geneb-checksum"
#: Root attribute of stores whose every document carries CHECKSUM_ATTR (older stores: absent).
CHECKSUMS_ATTR, CHECKSUM_ALGO = "checksums", "sha256"


def bytes_digest(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def attrs_checksum(attrs: dict[str, Any]) -> str:
    """The `geneb-checksum` of a group's attributes (every other attribute, canonical JSON)."""
    return bytes_digest(json.dumps(attrs, sort_keys=True, separators=(",", ":"), allow_nan=False).encode())


def int_digest(values: Any) -> str:
    """sha256 of an integer array as little-endian int64 bytes."""
    import numpy as np

    return bytes_digest(np.ascontiguousarray(values, dtype="<i8").tobytes())


def check_array_meta(meta: Any, lay: Layout, name: str, where: str) -> None:
    """An array's zarr.json against the split's recorded layout (what every reader and
    `verify` check before reading): shape, data type, chunking and encoding version."""
    try:
        _check_array_meta(meta, lay, name, where)
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:  # a damaged document's shape
        raise StoreError(f"{where}: malformed array metadata ({type(exc).__name__}: {exc})") from None


def _check_array_meta(meta: Any, lay: Layout, name: str, where: str) -> None:
    if not isinstance(meta, dict) or meta.get("node_type") != "array" or meta.get("zarr_format") != 3:
        raise StoreError(f"{where}: not a Zarr v3 array")
    if name == "X":
        want_shape, want_dtype = [lay.n_rows, lay.dim], lay.dtype
        want_chunks = [lay.block_rows, lay.dim]
    else:
        want_shape, want_dtype, want_chunks = [lay.n_rows], "int64", None
    shape, dtype = list(meta.get("shape") or []), meta.get("data_type")
    if shape != want_shape or dtype != want_dtype:
        raise StoreError(f"{where}: {name} is {shape} {dtype}, the split's layout says {want_shape} {want_dtype}")
    chunks = ((meta.get("chunk_grid") or {}).get("configuration") or {}).get("chunk_shape")
    if want_chunks is not None and list(chunks or []) != want_chunks:
        raise StoreError(f"{where}: {name} chunks are {chunks}, the split's layout says {want_chunks}")
    if name == "X":
        inner = [c for c in meta.get("codecs") or [] if c.get("name") == "sharding_indexed"]
        got = inner[0]["configuration"].get("chunk_shape") if inner else None
        if inner and list(got or []) != [lay.chunk_rows, lay.dim]:
            raise StoreError(f"{where}: X inner chunks are {got}, the split's layout says {[lay.chunk_rows, lay.dim]}")
    attrs = meta.get("attributes") or {}
    if "encoding-version" in attrs and attrs["encoding-version"] not in SUPPORTED_VERSIONS:
        raise UnknownEncoding(f"{where}: encoding-version {attrs['encoding-version']!r} of {name} is not supported "
                              f"by this geneb (supported: {', '.join(sorted(SUPPORTED_VERSIONS))})")


def meta_key(path: str) -> str:
    return f"{path}/zarr.json" if path else "zarr.json"


def group_document(encoding_type: str, attrs: dict[str, Any]) -> bytes:
    """A complete Zarr v3 group ``zarr.json`` carrying our encoding attributes."""
    attributes = {"encoding-type": encoding_type, "encoding-version": ENCODING_VERSION, **attrs}
    attributes.pop(CHECKSUM_ATTR, None)
    attributes[CHECKSUM_ATTR] = attrs_checksum(attributes)
    doc = {"zarr_format": 3, "node_type": "group", "attributes": attributes}
    return json.dumps(doc, indent=1, sort_keys=True, allow_nan=False).encode()


def parse_group_document(raw: bytes, expected_type: str, where: str, require_checksum: bool = False) -> dict[str, Any]:
    """Parse a group ``zarr.json``, check its encoding and its checksum (required in stores
    that declare checksums, and in a root document that declares them); returns the attributes."""
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise StoreError(f"{where}: metadata is not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("zarr_format") != 3 or doc.get("node_type") != "group":
        raise StoreError(f"{where}: not a Zarr v3 group")
    attrs = dict(doc.get("attributes") or {})
    want = attrs.pop(CHECKSUM_ATTR, None)  # documents of geneb < this check have none
    check_encoding(attrs, expected_type, where)  # first: another version may checksum differently
    if want is None and (require_checksum or CHECKSUMS_ATTR in attrs):
        from .errors import CorruptData

        raise CorruptData(f"{where}: metadata checksum missing in a store that checksums every document (damaged)")
    if want is not None and attrs_checksum(attrs) != want:
        from .errors import CorruptData

        raise CorruptData(f"{where}: metadata checksum mismatch (the file was changed or damaged)")
    return attrs


def check_encoding(attrs: dict[str, Any], expected_type: str, where: str) -> None:
    etype, ever = attrs.get("encoding-type"), attrs.get("encoding-version")
    if etype != expected_type:
        raise UnknownEncoding(f"{where}: encoding-type is {etype!r}, expected {expected_type!r}")
    if ever not in SUPPORTED_VERSIONS:
        raise UnknownEncoding(
            f"{where}: encoding-version {ever!r} of {etype} is not supported by this geneb "
            f"(supported: {', '.join(sorted(SUPPORTED_VERSIONS))}); upgrade geneb or re-create the store"
        )


@dataclass(frozen=True)
class Layout:
    """Row blocking of one split's matrix: a block is exactly one shard."""

    n_rows: int
    dim: int
    dtype: str
    chunk_rows: int
    block_rows: int

    @property
    def n_blocks(self) -> int:
        return math.ceil(self.n_rows / self.block_rows)

    def block_bounds(self, index: int) -> tuple[int, int]:
        start = index * self.block_rows
        return start, min(start + self.block_rows, self.n_rows)

    def to_attrs(self) -> dict[str, int | str]:
        return {
            "n_rows": self.n_rows,
            "dim": self.dim,
            "dtype": self.dtype,
            "chunk_rows": self.chunk_rows,
            "block_rows": self.block_rows,
            "n_blocks": self.n_blocks,
        }

    @classmethod
    def from_attrs(cls, a: dict[str, Any]) -> Layout:
        return cls(int(a["n_rows"]), int(a["dim"]), str(a["dtype"]), int(a["chunk_rows"]), int(a["block_rows"]))


def plan_layout(n_rows: int, dim: int, dtype: str, block_rows: int | None = None) -> Layout:
    """Choose inner-chunk and block (shard) row counts for an (n_rows x dim) matrix."""
    row_bytes = dim * (2 if dtype == "float16" else 4)
    chunk_rows = 1 << max(0, int(math.floor(math.log2(max(1, TARGET_CHUNK_BYTES // row_bytes)))))
    if block_rows is None:
        block_rows = chunk_rows * max(1, TARGET_SHARD_BYTES // (chunk_rows * row_bytes))
    else:
        if block_rows < 1:
            raise InvalidArgument(f"block_rows must be >= 1, got {block_rows}")
        chunk_rows = math.gcd(chunk_rows, block_rows)
    # small splits: one block, just big enough
    block_rows = min(block_rows, max(chunk_rows, math.ceil(n_rows / chunk_rows) * chunk_rows))
    return Layout(n_rows, dim, dtype, chunk_rows, block_rows)


def embedding_codecs(compressor: str) -> list[dict[str, Any]]:
    """Inner-chunk codec chain for X: bytes -> compressor (shuffle) -> crc32c."""
    chain: list[dict[str, Any]] = [{"name": "bytes", "configuration": {"endian": "little"}}]
    chain += compressor_codec(compressor)
    chain.append({"name": "crc32c"})
    return chain


COMPRESSORS = ("blosc-lz4", "blosc-zstd", "zstd", "none")

#: The X compressor new pairs get. Lossless embeddings hardly compress (blosc-lz4 with
#: byte-shuffle saves 5.6 % on float32, nothing on float16: the mantissas are noise),
#: while compressing halves whole reads and writes (benchmarks/STORE_RESULTS.md,
#: 2026-12-07T20:45): every chunk keeps its crc32c either way. Any chain is readable;
#: the compressor is provenance, not part of the cache key.
DEFAULT_COMPRESSOR = "none"


def compressor_codec(compressor: str) -> list[dict[str, Any]]:
    if compressor == "blosc-lz4":
        return [{"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle", "blocksize": 0}}]
    if compressor == "blosc-zstd":
        return [{"name": "blosc", "configuration": {"cname": "zstd", "clevel": 3, "shuffle": "shuffle", "blocksize": 0}}]
    if compressor == "zstd":
        return [{"name": "zstd", "configuration": {"level": 3, "checksum": False}}]
    if compressor == "none":
        return []
    raise InvalidArgument(f"unknown compressor {compressor!r}; choose one of {', '.join(COMPRESSORS)}")


def encoding_bitmap(done: list[bool] | bytearray) -> str:
    """Done flags as a hex string, one bit per block (JSON-friendly and compact)."""
    n = len(done)
    buf = bytearray((n + 7) // 8)
    for i, d in enumerate(done):
        if d:
            buf[i >> 3] |= 1 << (i & 7)
    return buf.hex()


def decode_bitmap(hexstr: str, n: int) -> list[bool]:
    buf = bytes.fromhex(hexstr) if hexstr else b""
    if len(buf) != (n + 7) // 8:
        raise StoreError(f"done bitmap has {len(buf)} bytes, expected {(n + 7) // 8} for {n} blocks")
    return [bool(buf[i >> 3] & (1 << (i & 7))) for i in range(n)]


def drop_pair(kv, model: str, task: str) -> None:
    """Delete a pair: its metadata first, so an interrupted delete leaves no pair that
    claims to be complete over missing data, only invisible leftovers."""
    key = meta_key(pair_path(model, task))
    if kv.exists(key):
        kv.delete(key)
    kv.delete_prefix(pair_path(model, task))
