"""A small synchronous key-value facade over a Zarr v3 store.

The store layer needs only bytes in and out: get (whole or a byte range), an atomic
set, listing, deletion and sizes. Local directories are read with plain file I/O
(fast path for whole-matrix reads); anything else goes through zarr's store API, so
any fsspec URL zarr supports works.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from .errors import StoreError

_tls = threading.local()


def _sync(coro):
    from zarr.core.sync import sync

    return sync(coro)


def _proto():
    from zarr.core.buffer import default_buffer_prototype

    return default_buffer_prototype()


#: Suffix of the temporary file an atomic local put writes before renaming it over its key.
TEMP_SUFFIX = ".partial"


def is_temp(name: str) -> bool:
    """Whether a directory entry is the temporary file of an atomic put (one that a killed
    writer left behind is debris, never store content)."""
    return name.endswith(TEMP_SUFFIX)


class KV:
    """Bytes access to one Zarr store; ``local_root`` is set for local directories."""

    def __init__(self, zstore: Any, local_root: Path | None, url: str, read_only: bool) -> None:
        self.zstore = zstore
        self.local_root = local_root
        self.url = url
        self.read_only = read_only

    def beside(self, suffix: str) -> KV | None:
        """A writable space next to the store, ``<store><suffix>`` (local directory or the same
        fsspec file system), for state that is not part of the Zarr hierarchy (pair locks);
        None for a wrapped zarr Store object, which has no "next to"."""
        if self.local_root is not None:
            from zarr.storage import LocalStore

            root = self.local_root.with_name(self.local_root.name + suffix)
            return KV(LocalStore(root), root, str(root), False)
        fs, path = getattr(self.zstore, "fs", None), getattr(self.zstore, "path", None)
        if fs is None or not path:
            return None
        from zarr.storage import FsspecStore

        return KV(FsspecStore(fs, read_only=False, path=path.rstrip("/") + suffix), None,
                  self.url.rstrip("/") + suffix, False)

    # -- reads ---------------------------------------------------------------
    def get(self, key: str) -> bytes | None:
        if self.local_root is not None:
            try:
                with open(self.local_root / key, "rb") as f:
                    return f.read()
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                return None
        buf = _sync(self.zstore.get(key, prototype=_proto()))
        return None if buf is None else buf.to_bytes()

    def get_reusable(self, key: str):
        """Whole value as a memoryview into a per-thread buffer that the next call in
        the same thread overwrites: for decode-immediately reads, without allocating
        (and page-faulting) a fresh multi-MiB bytes object per shard."""
        if self.local_root is None:
            return self.get(key)
        try:
            f = open(self.local_root / key, "rb", buffering=0)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        with f:
            size = os.fstat(f.fileno()).st_size
            buf = getattr(_tls, "buf", None)
            if buf is None or len(buf) < size:
                buf = _tls.buf = bytearray(max(size, 1 << 20))
            mv = memoryview(buf)[:size]
            got = 0
            while got < size:
                n = f.readinto(mv[got:])
                if not n:
                    break
                got += n
            return mv[:got]

    def _open_local(self, key: str) -> int | None:
        """A read-only descriptor of a local key, None when it does not exist."""
        try:
            return os.open(self.local_root / key, os.O_RDONLY)
        except (FileNotFoundError, NotADirectoryError):
            return None

    def get_range(self, key: str, start: int, length: int) -> bytes | None:
        if self.local_root is not None:
            got = self.get_ranges(key, [(start, length)])
            return None if got is None else got[0]
        from zarr.abc.store import RangeByteRequest

        buf = _sync(self.zstore.get(key, prototype=_proto(), byte_range=RangeByteRequest(start, start + length)))
        return None if buf is None else buf.to_bytes()

    def ranged(self, key: str) -> _Ranged | None:
        """A handle for several byte-range reads of one key (one open file locally)."""
        if self.local_root is not None:
            fd = self._open_local(key)
            if fd is None:
                return None
            return _Ranged(os.fstat(fd).st_size, lambda start, n: os.pread(fd, n, start), lambda: os.close(fd))
        size = self.size(key)
        if size is None:
            return None
        return _Ranged(size, lambda start, n: self.get_range(key, start, n) or b"", lambda: None)

    def mapped(self, key: str) -> _Mapped | None:
        """A read-only memory map of a local key (None when the store is not a local
        directory, the key does not exist or is empty): a sparse read then checks and copies
        only what it uses, without a system call per range. Keys are replaced by rename,
        never rewritten in place, so a map stays valid while a writer replaces the key."""
        if self.local_root is None:
            return None
        fd = self._open_local(key)
        if fd is None:
            return None
        try:
            size = os.fstat(fd).st_size
            if not size:
                return None
            import mmap

            return _Mapped(mmap.mmap(fd, size, access=mmap.ACCESS_READ))
        finally:
            os.close(fd)

    def get_ranges(self, key: str, ranges: list[tuple[int, int]]) -> list[bytes] | None:
        """Several (start, length) ranges of one key: one open file for local stores."""
        if self.local_root is not None:
            fd = self._open_local(key)
            if fd is None:
                return None
            try:
                return [os.pread(fd, n, start) for start, n in ranges]
            finally:
                os.close(fd)
        out = []
        for start, n in ranges:
            b = self.get_range(key, start, n)
            if b is None:
                return None
            out.append(b)
        return out

    def exists(self, key: str) -> bool:
        if self.local_root is not None:
            return (self.local_root / key).is_file()
        return bool(_sync(self.zstore.exists(key)))

    def list_dir(self, prefix: str) -> list[str]:
        """Immediate children (keys and sub-prefixes) of ``prefix`` (no trailing '/')."""
        if self.local_root is not None:
            d = self.local_root / prefix if prefix else self.local_root
            try:
                return sorted(os.listdir(d))
            except (FileNotFoundError, NotADirectoryError):
                return []

        async def _collect():
            p = f"{prefix}/" if prefix else ""
            return [k async for k in self.zstore.list_dir(p)]

        return sorted({k.rstrip("/") for k in _sync(_collect())})

    def size_prefix(self, prefix: str) -> int:
        if self.local_root is not None:
            total = 0
            for root, _dirs, files in os.walk(self.local_root / prefix):
                for f in files:
                    try:
                        total += os.path.getsize(os.path.join(root, f))
                    except FileNotFoundError:
                        pass
            return total
        return int(_sync(self.zstore.getsize_prefix(prefix)))

    def size(self, key: str) -> int | None:
        if self.local_root is not None:
            try:
                return os.path.getsize(self.local_root / key)
            except FileNotFoundError:
                return None
        try:
            return int(_sync(self.zstore.getsize(key)))
        except (FileNotFoundError, KeyError):
            return None

    def list_prefix(self, prefix: str) -> list[str]:
        """All keys under ``prefix`` (recursive)."""
        if self.local_root is not None:
            base = self.local_root
            out = []
            for root, _dirs, files in os.walk(base / prefix):
                for f in files:
                    out.append(os.path.relpath(os.path.join(root, f), base).replace(os.sep, "/"))
            return sorted(out)

        async def _collect():
            return [k async for k in self.zstore.list_prefix(f"{prefix}/" if prefix else "")]

        return sorted(_sync(_collect()))

    # -- writes ----------------------------------------------------------------
    def _check_writable(self) -> None:
        if self.read_only:
            raise StoreError(f"store {self.url} is open read-only; open it with mode='a' to write")

    def set(self, key: str, data: bytes) -> None:
        """Atomic put: local directories write a temp file then rename it over the key (as
        zarr's LocalStore does, without its event loop); object stores replace a key in one
        PUT; the memory store swaps one reference."""
        self.set_parts(key, [data])

    def set_parts(self, key: str, parts: list[bytes | memoryview]) -> None:
        """Atomic put of consecutive pieces. Local directories stream them into a temporary
        file beside the key (named like zarr LocalStore's, ``*.partial``, so a killed write
        leaves what the writer already cleans up) and rename it over the key; elsewhere the
        pieces are joined and put at once."""
        self._check_writable()
        if self.local_root is None:
            from zarr.core.buffer import default_buffer_prototype

            _sync(self.zstore.set(key, default_buffer_prototype().buffer.from_bytes(b"".join(parts))))
            return
        import uuid

        path = self.local_root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{uuid.uuid4().hex}{TEMP_SUFFIX}")
        try:
            with open(tmp, "wb") as f:
                _write_all(f, parts)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def delete(self, key: str) -> None:
        self._check_writable()
        _sync(self.zstore.delete(key))

    def delete_prefix(self, prefix: str) -> None:
        self._check_writable()
        if self.local_root is not None:
            import shutil

            target = self.local_root / prefix
            if target.is_dir():
                shutil.rmtree(target)
            return
        _sync(self.zstore.delete_dir(prefix))


def _write_all(f: Any, parts: list[bytes | memoryview]) -> None:
    """Write the pieces in order with as few system calls as possible: ``os.writev`` (one
    call per up to 1,024 pieces, resumed after a short write) where the OS has it."""
    if not hasattr(os, "writev"):
        f.writelines(parts)
        return
    f.flush()
    fd = f.fileno()
    views = [memoryview(p).cast("B") for p in parts if len(p)]
    i = 0
    while i < len(views):
        n = os.writev(fd, views[i:i + 1024])
        while i < len(views) and n >= len(views[i]):
            n -= len(views[i])
            i += 1
        if n:
            views[i] = views[i][n:]


def open_kv(url: str | os.PathLike[str] | Any, read_only: bool, storage_options: dict | None = None) -> KV:
    """Open a local path, a ``file://`` or other fsspec URL, or wrap a zarr Store object."""
    from zarr.abc.store import Store as ZStore

    if isinstance(url, ZStore):
        return KV(url, None, repr(url), read_only)
    s = os.fspath(url)
    if "://" not in s or s.startswith("file://"):
        from zarr.storage import LocalStore

        path = Path(s[len("file://"):] if s.startswith("file://") else s).expanduser()
        if read_only and not (path / "zarr.json").is_file():
            raise StoreError(f"no geneb store at {path} (missing {path / 'zarr.json'})")
        if not read_only:
            path.mkdir(parents=True, exist_ok=True)
        return KV(LocalStore(path, read_only=read_only), path.resolve(), str(path), read_only)
    from zarr.storage import FsspecStore

    try:
        zstore = FsspecStore.from_url(s, read_only=read_only, storage_options=storage_options)
    except Exception as exc:  # fsspec raises many kinds
        raise StoreError(f"cannot open store URL {s}: {exc}") from exc
    return KV(zstore, None, s, read_only)


class _Ranged:
    """Byte-range reader of one key: ``size``, ``read(start, n)``; a context manager."""

    def __init__(self, size: int, read, close) -> None:
        self.size, self.read, self._close = size, read, close

    def __enter__(self) -> _Ranged:
        return self

    def __exit__(self, *exc: object) -> None:
        self._close()


class _Mapped:
    """A memory-mapped key: ``view`` (a read-only memoryview) while open; a context manager
    that unmaps on exit once no array uses the view any more."""

    def __init__(self, mm: Any) -> None:
        self._mm = mm
        self.view = memoryview(mm)

    def __enter__(self) -> _Mapped:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.view.release()
            self._mm.close()
        except BufferError:  # an array still exports the map: it is unmapped when that is freed
            pass
