"""One `sync` at a time per state file: a non-blocking `flock` on `STATE.lock`.

The kernel releases an flock when its holder's file descriptor closes, and a process's
descriptors close when it dies however it dies (kill -9, OOM killer, power to the container), so
a dead holder can never leave a stale lock. The lock file itself stays behind on purpose:
deleting it would let a run that opened the old file and one that created a new file both
"hold" the lock. flock is not reliable on NFS; keep the state on a local disk (see
docs/scheduling.md).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from pathlib import Path
from types import TracebackType

from bulk_onboard.errors import LockedError, UsageError

LOCK_SUFFIX = ".lock"
LOCK_MODE = 0o600


class SyncLocked(LockedError):
    """Another run holds the state's lock: try later (exit 75)."""


def lock_path_for(state_path: Path) -> Path:
    """The lock file beside a state file: `STATE.lock`."""
    return state_path.with_name(state_path.name + LOCK_SUFFIX)


class StateLock:
    """`with StateLock(path):` holds an exclusive lock on `path`, or raises SyncLocked at once."""

    __slots__ = ("_fd", "path")

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def __enter__(self) -> StateLock:
        try:
            # O_NOFOLLOW: a link planted as STATE.lock must not get its target truncated.
            fd = os.open(
                self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, LOCK_MODE
            )
        except OSError as error:
            if error.errno != errno.ELOOP:
                raise
            raise UsageError(
                f"The lock file {self.path} is a symbolic link, which a lock never is: remove "
                "it and run again."
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            by = f" (pid {holder})" if holder else ""
            raise SyncLocked(
                f"Another sync holds the lock {self.path}{by}; this run did nothing. Try later."
            ) from None
        except BaseException:
            os.close(fd)
            raise
        # For people looking at the file: who holds it. Not used to decide anything.
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing releases the flock
            self._fd = None


def _read_holder(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return text if text.isdigit() else ""
