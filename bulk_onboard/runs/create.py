"""Run folders: `OUT/<UTC yyyymmddThhmmssZ>-<input stem>/`, 0700, `OUT/latest` pointing at it."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bulk_onboard.base.atomic import DIR_MODE
from bulk_onboard.errors import OutputError
from bulk_onboard.runs.files import LATEST


def stem_of(input_path: str) -> str:
    """A file-name-safe stem of the input ("stdin" for "-")."""
    if input_path == "-":
        return "stdin"
    stem = Path(input_path).stem or "input"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem)[:60] or "input"


def check_out(out: Path) -> None:
    """Make OUT if it is missing and prove a run folder can be made in it, before any work.

    Raises OutputError (exit 73) when OUT is a file, can't be made or written (read-only, no
    permission, /proc), or when OUT/latest is a real file or folder that a link can't replace.
    """
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file, not a folder: name a folder for run folders.")
    try:
        out.mkdir(parents=True, exist_ok=True)
        # The one proof that works for every cause (mode bits, read-only mounts, root, /proc).
        os.rmdir(tempfile.mkdtemp(prefix=".can-write-", dir=out))
    except OSError as error:
        raise _unusable(out, error) from None
    latest = out / LATEST
    if not latest.is_symlink() and latest.exists():
        kind = "folder" if latest.is_dir() else "file"
        raise OutputError(
            f"{latest} is a real {kind}, not the link to the newest run folder: move it out "
            f"of {out}, or pass another --out."
        )


def create_run_dir(out: Path, input_path: str, now: datetime | None = None) -> Path:
    """Make a new run folder (never reusing one) and point OUT/latest at it.

    Raises OutputError when it can't, having made nothing.
    """
    check_out(out)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    base = f"{stamp}-{stem_of(input_path)}"
    for n in range(1, 1000):
        candidate = out / (base if n == 1 else f"{base}-{n}")
        try:
            candidate.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue
        except OSError as error:
            raise _unusable(out, error) from None
        try:
            os.chmod(candidate, DIR_MODE)
            point_latest(out, candidate)
        except OSError as error:
            shutil.rmtree(candidate, ignore_errors=True)
            raise _unusable(out, error) from None
        return candidate
    raise OutputError(f"Too many run folders named {base} in {out}: clear some out.")


def _unusable(out: Path, error: OSError) -> OutputError:
    reason = error.strerror or type(error).__name__
    return OutputError(
        f"No run folder can be made in --out {out} ({reason}): name a folder you can write to."
    )


def point_latest(out: Path, run_dir: Path) -> None:
    """Atomically repoint OUT/latest (a relative symlink) at `run_dir`."""
    tmp = out / f".{LATEST}.{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    tmp.symlink_to(run_dir.name)
    try:
        os.replace(tmp, out / LATEST)
    except OSError:
        tmp.unlink()
        raise


def latest_target(out: Path) -> str | None:
    """Where OUT/latest points now (None if nowhere)."""
    try:
        return os.readlink(out / LATEST)
    except OSError:
        return None


def discard_run_dir(out: Path, run_dir: Path, previous_latest: str | None) -> None:
    """Remove a run folder that never got its reports, and point OUT/latest back."""
    shutil.rmtree(run_dir, ignore_errors=True)
    if previous_latest is None:
        with contextlib.suppress(FileNotFoundError):
            (out / LATEST).unlink()
    else:
        point_latest(out, out / previous_latest)
