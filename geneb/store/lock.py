"""One writer per (model, task): an fcntl lock for local stores, a lease elsewhere.

Both live beside the store, in ``<store>.locks/`` (not inside: zarr and xarray would
warn about a non-Zarr folder in the hierarchy).

Local: ``flock`` on ``<store>.locks/<model>/<task>.lock``. The kernel drops it when
the holder dies (kill -9 included), so a crashed writer never blocks the next one.
The file also records the holder (host, pid, time) for the "busy" message.

Remote / fsspec: a lease document ``<store>.locks/<model>/<task>.json`` (host, pid, token,
expiry) refreshed while writing. A lease is taken over when it has expired, or when
its holder ran on this host and that pid is gone. Object stores give no
compare-and-swap, so two writers racing for a *free* lease within milliseconds could
both win; the lease is read back after writing to narrow that window.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from ._kv import KV
from .errors import LockBusy
from .schema import LOCK_DIR, LOCK_SUFFIX

try:  # POSIX; elsewhere local stores fall back to the lease
    import fcntl  # noqa: F401

    _HAVE_FCNTL = True
except ImportError:  # pragma: no cover
    _HAVE_FCNTL = False

LEASE_SECONDS = 120.0
_POLL = 0.1


def _holder() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid(), "since": datetime.now(UTC).isoformat(timespec="seconds")}


def _describe(info: dict[str, Any] | None) -> str:
    if not info:
        return "another process (holder unknown)"
    return f"pid {info.get('pid')} on {info.get('host')} since {info.get('since')}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class PairLock:
    """Exclusive lock on one (model, task) pair; ``timeout`` seconds to wait, 0 = refuse at once."""

    def __init__(self, kv: KV, model: str, task: str) -> None:
        self.model, self.task = model, task
        beside = kv.beside(LOCK_SUFFIX)
        # where lock files / leases go: the space beside the store, else .locks/ inside
        self.kv, self._prefix = (beside, "") if beside is not None else (kv, f"{LOCK_DIR}/")
        self._inside: KV | None = kv if beside is not None else None  # the fallback location
        self._fd: int | None = None
        self._token: str | None = None
        self._renewed = 0.0

    @property
    def held(self) -> bool:
        return self._fd is not None or self._token is not None

    def acquire(self, timeout: float = 0.0) -> PairLock:
        deadline = time.monotonic() + max(0.0, timeout)
        if self.kv.local_root is not None and _HAVE_FCNTL:
            self._acquire_flock(deadline, timeout)
        else:
            self._acquire_lease(deadline, timeout)
        return self

    def _busy(self, holder: dict[str, Any] | None, timeout: float, where: str) -> LockBusy:
        waited = f" after waiting {timeout:g} s" if timeout > 0 else ""
        return LockBusy(
            f"{self.model}/{self.task} is being written by {_describe(holder)}{waited} ({where}); "
            "wait for it to finish, or pass a larger lock_timeout"
        )

    # -- local: flock ------------------------------------------------------------
    def _acquire_flock(self, deadline: float, timeout: float) -> None:
        import fcntl

        assert self.kv.local_root is not None
        path = self.kv.local_root / self._prefix / self.model / f"{self.task}.lock"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except PermissionError:
            if self._inside is None:
                raise
            # the store's parent folder is not writable: lock inside the store, as older
            # versions did (every writer of this store falls back the same way)
            self.kv, self._prefix, self._inside = self._inside, f"{LOCK_DIR}/", None
            path = self.kv.local_root / self._prefix / self.model / f"{self.task}.lock"
            path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    try:
                        holder = json.loads(os.pread(fd, 4096, 0) or b"null")
                    except ValueError:
                        holder = None
                    os.close(fd)
                    raise self._busy(holder, timeout, str(path)) from None
                time.sleep(_POLL)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(_holder()).encode(), 0)
        self._fd = fd

    # -- remote: lease -------------------------------------------------------------
    @property
    def _lease_key(self) -> str:
        return f"{self._prefix}{self.model}/{self.task}.json"

    def _read_lease(self) -> dict[str, Any] | None:
        raw = self.kv.get(self._lease_key)
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return None

    def _lease_free(self, lease: dict[str, Any] | None) -> bool:
        if lease is None or lease.get("expires", 0) < time.time():
            return True
        return lease.get("host") == socket.gethostname() and not _pid_alive(int(lease.get("pid", -1)))

    def _write_lease(self, token: str) -> None:
        doc = {**_holder(), "token": token, "expires": time.time() + LEASE_SECONDS}
        self.kv.set(self._lease_key, json.dumps(doc).encode())
        self._renewed = time.monotonic()

    def _acquire_lease(self, deadline: float, timeout: float) -> None:
        token = uuid.uuid4().hex
        while True:
            lease = self._read_lease()
            if self._lease_free(lease):
                self._write_lease(token)
                again = self._read_lease()
                if again is not None and again.get("token") == token:
                    self._token = token
                    return
                lease = again
            if time.monotonic() >= deadline:
                raise self._busy(lease, timeout, f"lease {self._lease_key}")
            time.sleep(_POLL)

    def renew(self) -> None:
        """Keep a lease alive during long writes (no-op for flock)."""
        if self._token is not None and time.monotonic() - self._renewed > LEASE_SECONDS / 3:
            self._write_lease(self._token)

    def release(self) -> None:
        if self._fd is not None:
            import fcntl

            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        if self._token is not None:
            lease = self._read_lease()
            if lease is not None and lease.get("token") == self._token:
                self.kv.delete(self._lease_key)
            self._token = None

    def __enter__(self) -> PairLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def drop_legacy_lock_dir(kv: KV) -> bool:
    """Remove the ``<store>/.locks/`` folder older geneb versions kept inside a local store
    (zarr and xarray warn about it), when none of its locks is held: each lock file is
    flocked first, so a running older writer keeps its folder. True when removed."""
    if kv.local_root is None or not _HAVE_FCNTL or kv.beside(LOCK_SUFFIX) is None:
        return False
    import fcntl
    import shutil

    legacy = kv.local_root / LOCK_DIR
    if not legacy.is_dir():
        return False
    held: list[int] = []
    try:
        for f in sorted(p for p in legacy.rglob("*") if p.is_file()):
            fd = os.open(f, os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False  # an older writer is running: leave its locks alone
            held.append(fd)
        shutil.rmtree(legacy, ignore_errors=True)
        return not legacy.exists()
    except OSError:
        return False
    finally:
        for fd in held:
            os.close(fd)
