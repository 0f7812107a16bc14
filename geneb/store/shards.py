"""Direct decoding of our sharded embedding arrays (the fast read path and verify).

zarr's generic pipeline costs tens of microseconds per inner chunk; reading a whole
matrix is ~12k chunks. Because the store writes one fixed codec chain (see
``schema.embedding_codecs``), we decode shards here with numcodecs, one read per
shard, checking every crc32c on the way. Arrays with any other codec chain are
read with zarr instead (``ShardCodec.from_metadata`` returns None).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import crc32c
import numpy as np

from .errors import CorruptData

#: Offset and length a shard index records for a chunk it does not store.
MISSING_CHUNK = np.uint64(2**64 - 1)


def checked_payload(data, where: str) -> memoryview:
    """The payload of a chunk stored as payload + crc32c (little-endian), its checksum
    checked: CorruptData naming ``where`` when it is shorter than the checksum or differs."""
    mv = memoryview(data)
    n = len(mv)
    if n < 4:
        raise CorruptData(f"{where}: chunk shorter than its checksum")
    body = mv[: n - 4]
    if crc32c.crc32c(body) != int.from_bytes(mv[n - 4:], "little"):
        raise CorruptData(f"{where}: chunk checksum mismatch (crc32c)")
    return body


def _crc(data) -> int:
    return crc32c.crc32c(data)


@dataclass(frozen=True)
class ShardCodec:
    """What is needed to decode one shard of an X array without zarr."""

    shard_rows: int
    chunk_rows: int
    dim: int
    dtype: np.dtype
    compressor: Any  # numcodecs codec or None

    @property
    def chunks_per_shard(self) -> int:
        return self.shard_rows // self.chunk_rows

    @property
    def index_nbytes(self) -> int:
        return 16 * self.chunks_per_shard + 4

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> ShardCodec | None:
        """Recognise the store's own layout in an array ``zarr.json``; else None."""
        try:
            if sys.byteorder != "little" or len(meta["shape"]) != 2:
                return None
            (shard,) = [c for c in meta["codecs"] if c["name"] == "sharding_indexed"]
            if len(meta["codecs"]) != 1:
                return None
            cfg = shard["configuration"]
            if cfg.get("index_location", "end") != "end":
                return None
            if [c["name"] for c in cfg["index_codecs"]] != ["bytes", "crc32c"]:
                return None
            names = [c["name"] for c in cfg["codecs"]]
            if names[0] != "bytes" or names[-1] != "crc32c" or len(names) > 3:
                return None
            if cfg["codecs"][0].get("configuration", {}).get("endian", "little") != "little":
                return None
            compressor = None
            if len(names) == 3:
                compressor = _numcodecs_compressor(cfg["codecs"][1])
                if compressor is None:
                    return None
            shard_rows, dim = meta["chunk_grid"]["configuration"]["chunk_shape"]
            chunk_rows, cdim = cfg["chunk_shape"]
            if cdim != dim or dim != meta["shape"][1] or shard_rows % chunk_rows:
                return None
            return cls(int(shard_rows), int(chunk_rows), int(dim), np.dtype(meta["data_type"]), compressor)
        except (KeyError, ValueError, TypeError):
            return None

    # -- decoding --------------------------------------------------------------
    def decode_index(self, raw: bytes, where: str) -> np.ndarray:
        """(chunks_per_shard, 2) uint64 offsets/lengths; raises CorruptData on a bad crc."""
        if len(raw) != self.index_nbytes:
            raise CorruptData(f"{where}: shard is truncated (shorter than its {self.index_nbytes}-byte index)")
        body, crc = raw[:-4], int.from_bytes(raw[-4:], "little")
        if _crc(body) != crc:
            raise CorruptData(f"{where}: shard index checksum mismatch (truncated or damaged shard)")
        return np.frombuffer(body, dtype="<u8").reshape(self.chunks_per_shard, 2)

    def decode_chunk(self, data, out: np.ndarray, where: str) -> None:
        """Decode one inner chunk's bytes (payload + crc32c) into ``out`` (chunk_rows x dim)."""
        body = checked_payload(data, where)
        target = out.reshape(-1).view(np.uint8)
        if self.compressor is None:
            if len(body) != target.nbytes:
                raise CorruptData(f"{where}: chunk has {len(body)} bytes, expected {target.nbytes}")
            target[:] = np.frombuffer(body, dtype=np.uint8)
            return
        try:
            got = self._decompress(body, target)
        except Exception as exc:  # numcodecs raises RuntimeError/ValueError variously
            raise CorruptData(f"{where}: chunk does not decompress ({exc})") from None
        if got is not None and len(memoryview(got).cast("B")) != target.nbytes:
            raise CorruptData(f"{where}: chunk decompressed to the wrong size")

    @property
    def _decompress(self):
        """Module-level numcodecs decompress(source, dest): far less per-call overhead."""
        from numcodecs import blosc, zstd

        return blosc.decompress if self.compressor.codec_id == "blosc" else zstd.decompress

    def decode_shard(
        self, raw, where: str, chunk_ids: list[int] | None = None, check_bounds: bool = True,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Decode a whole shard (or only ``chunk_ids``) into a (shard_rows x dim) array
        (``out`` if given: C-contiguous, that shape and the stored dtype).

        Chunks not stored in the shard are filled with NaN (zarr's fill value here).
        """
        index = self.decode_index(bytes(raw[-self.index_nbytes:]) if len(raw) >= self.index_nbytes else bytes(raw), where)
        if out is None:
            out = np.empty((self.shard_rows, self.dim), dtype=self.dtype)
        elif out.shape != (self.shard_rows, self.dim) or out.dtype != self.dtype or not out.flags.c_contiguous:
            raise ValueError("decode_shard: out must be a C-contiguous (shard_rows, dim) array of the stored dtype")
        flat = out.reshape(self.chunks_per_shard, -1).view(np.uint8)
        limit = len(raw) - self.index_nbytes
        ids = range(self.chunks_per_shard) if chunk_ids is None else chunk_ids
        mv = memoryview(raw)
        entries = index.tolist()
        crc = crc32c.crc32c
        dec = self._decompress if self.compressor is not None else None
        nbytes = flat.shape[1]
        missing = int(MISSING_CHUNK)
        for i in ids:
            off, n = entries[i]
            if off == missing and n == missing:
                out[i * self.chunk_rows:(i + 1) * self.chunk_rows].fill(np.nan)
                continue
            if check_bounds and off + n > limit:
                raise CorruptData(f"{where}: chunk {i} lies past the end of the shard (truncated shard)")
            if n < 4 or crc(mv[off:off + n - 4]) != int.from_bytes(mv[off + n - 4:off + n], "little"):
                raise CorruptData(f"{where} chunk {i}: chunk checksum mismatch (crc32c)")
            body = mv[off:off + n - 4]
            if dec is None:
                if len(body) != nbytes:
                    raise CorruptData(f"{where} chunk {i}: chunk has {len(body)} bytes, expected {nbytes}")
                flat[i] = np.frombuffer(body, dtype=np.uint8)
                continue
            try:
                dec(body, flat[i])
            except Exception as exc:
                raise CorruptData(f"{where} chunk {i}: chunk does not decompress ({exc})") from None
        return out

    def encode_shard(self, data: np.ndarray) -> bytes:
        """Encode rows [0, len(data)) of a shard exactly as zarr's sharding codec would:
        edge chunks padded with NaN (the fill value), chunks past the end omitted."""
        return b"".join(self.encode_shard_parts(data))

    def encode_shard_parts(self, data: np.ndarray) -> list[bytes | memoryview]:
        """The shard's bytes as consecutive pieces (each chunk's payload, its crc32c, ...,
        then the index), so a local write can stream them without joining copies. Pieces
        may be views of ``data``: write them before changing it."""
        if data.dtype != self.dtype or data.ndim != 2 or data.shape[1] != self.dim or len(data) > self.shard_rows:
            raise ValueError(f"shard data must be (<= {self.shard_rows}, {self.dim}) {self.dtype}, got {data.shape} {data.dtype}")
        parts: list[bytes | memoryview] = []
        index = np.full((self.chunks_per_shard, 2), MISSING_CHUNK, dtype="<u8")
        offset = 0
        cr = self.chunk_rows
        for i in range(-(-len(data) // cr)):
            chunk = data[i * cr:(i + 1) * cr]
            if len(chunk) < cr:
                padded = np.full((cr, self.dim), np.nan, dtype=self.dtype)
                padded[: len(chunk)] = chunk
                chunk = padded
            chunk = np.ascontiguousarray(chunk)
            # uncompressed: a view of the rows themselves (a copy per chunk cost a quarter of a write)
            body = bytes(self.compressor.encode(chunk)) if self.compressor is not None else memoryview(chunk).cast("B")
            index[i] = (offset, len(body) + 4)
            offset += len(body) + 4
            parts += (body, crc32c.crc32c(body).to_bytes(4, "little"))
        ib = index.tobytes()
        parts += (ib, crc32c.crc32c(ib).to_bytes(4, "little"))
        return parts

    def missing_chunks(self, index: np.ndarray) -> list[int]:
        return [i for i in range(self.chunks_per_shard) if index[i, 0] == MISSING_CHUNK and index[i, 1] == MISSING_CHUNK]


def _numcodecs_compressor(codec: dict[str, Any]) -> Any:
    """numcodecs equivalent of a zarr v3 blosc/zstd codec entry (None if unknown)."""
    from numcodecs import Blosc, Zstd

    cfg = codec.get("configuration", {})
    if codec["name"] == "blosc":
        shuffle = {"noshuffle": Blosc.NOSHUFFLE, "shuffle": Blosc.SHUFFLE, "bitshuffle": Blosc.BITSHUFFLE}
        return Blosc(cname=cfg.get("cname", "zstd"), clevel=int(cfg.get("clevel", 5)),
                     shuffle=shuffle[cfg.get("shuffle", "shuffle")], blocksize=int(cfg.get("blocksize", 0)))
    if codec["name"] == "zstd":
        return Zstd(level=int(cfg.get("level", 0)), checksum=bool(cfg.get("checksum", False)))
    return None


_HALF_PAIRS = {(np.dtype(np.float16), np.dtype(np.float32)), (np.dtype(np.float32), np.dtype(np.float16))}


def cast_into(out: np.ndarray, src: np.ndarray) -> None:
    """``out[...] = src`` with dtype conversion. numpy converts float16 <-> float32 element
    by element (~1.6 ns each); torch uses F16C SIMD (~20x faster) with the same IEEE
    round-to-nearest-even, so the bits are identical (tested). torch is used only when
    the process has already imported it (the extractor has; the analysis half need not)."""
    torch = sys.modules.get("torch")
    if (torch is not None and (src.dtype, out.dtype) in _HALF_PAIRS and src.size >= 4096
            and out.shape == src.shape and out.flags.c_contiguous and src.flags.c_contiguous):
        try:
            torch.from_numpy(out).copy_(torch.from_numpy(src))
            return
        except (RuntimeError, TypeError, ValueError):  # e.g. read-only or unsupported buffer
            pass
    if (src.dtype == np.float16 and out.dtype == np.float32 and src.size >= 1 << 16 and out.shape == src.shape
            and out.flags.c_contiguous and src.flags.c_contiguous):
        from .halfcast import half_to_float32

        half_to_float32(src, out)
        return
    np.copyto(out, src, casting="unsafe")
