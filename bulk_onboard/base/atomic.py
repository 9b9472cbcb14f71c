"""Atomic file writes (pip's recipe): temp file beside the target, fsync, os.replace, 0600."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

FILE_MODE = 0o600
DIR_MODE = 0o700


@contextlib.contextmanager
def atomic_writer(target: Path, *, newline: str | None = None) -> Iterator[IO[str]]:
    """Yield a text file that replaces `target` only if the block completes."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_bytes_writer(target: Path) -> Iterator[IO[bytes]]:
    """Yield a binary file that replaces `target` only if the block completes."""
    with atomic_writer(target) as handle:
        assert isinstance(handle, io.TextIOWrapper)
        yield handle.buffer  # the text layer above it stays unused, so it adds nothing


def write_text(target: Path, text: str) -> None:
    """Atomically write `text` to `target` with mode 0600."""
    with atomic_writer(target) as handle:
        handle.write(text)


def make_private_dir(path: Path) -> None:
    """Create `path` (and parents) and make it 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.chmod(path, DIR_MODE)
