"""One writer per run directory: an exclusive lock, taken before the first write and held to
the end of the run.

`RunLock(path).acquire()` locks `path/.lock` with the operating system's file lock (`flock`,
through `filelock`), without waiting: a second process on the same directory stops at once
with one line naming the holder's pid and host, which the holder records in
`path/.lock.holder` (the lock file itself is truncated by every process that opens it).
The kernel releases the lock when its holder ends, however it ends (Ctrl-C, a crash,
`kill -9`), so the next process takes a stale lock over without asking; the holder file it
finds then is overwritten. The lock file stays in the directory (removing it on release
would let two processes lock two different files).
"""

from __future__ import annotations

import json
import os
import socket
import time
from contextlib import suppress
from pathlib import Path

from filelock import FileLock, Timeout

from jaxgp.errors import ConfigError, StorageError

LOCK = ".lock"
HOLDER = ".lock.holder"


class RunBusyError(ConfigError):
    """Another process holds the run directory's lock."""


class RunLock:
    """The writer lock of the run directory `path` (which must exist)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._lock = FileLock(self.path / LOCK, timeout=0)

    def acquire(self) -> None:
        """Take the lock now, or raise `RunBusyError` naming its holder (`StorageError`
        when the lock file cannot be made: a read-only or full filesystem)."""
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise RunBusyError(
                f"{self.path} is being written by another jaxgp process ({holder(self.path)}); "
                "wait for it to end, or stop it, before resuming"
            ) from None
        except OSError as error:
            raise StorageError("lock", self.path / LOCK, error) from None
        text = json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                           "since": time.strftime("%Y-%m-%d %H:%M:%S")})  # fmt: skip
        with suppress(OSError):  # only a message depends on it; the lock holds without it
            (self.path / HOLDER).write_text(text + "\n", encoding="utf-8")

    def release(self) -> None:
        """Let the lock go (the holder file first, so no stale name outlives it)."""
        if self._lock.is_locked:
            with suppress(OSError):
                (self.path / HOLDER).unlink()
            self._lock.release()


def holder(path: str | os.PathLike) -> str:
    """`pid N on host H since T`, as the holder of `path`'s lock recorded it."""
    try:
        data = json.loads((Path(path) / HOLDER).read_text(encoding="utf-8"))
        return f"pid {int(data['pid'])} on host {data['host']}, since {data['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "its pid is not recorded yet"
