"""Run folders: `OUT/<UTC yyyymmddThhmmssZ>-<input stem>/`, 0700, `OUT/latest` pointing at it."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

from bulk_onboard.base.atomic import DIR_MODE
from bulk_onboard.runs.files import LATEST


def stem_of(input_path: str) -> str:
    """A file-name-safe stem of the input ("stdin" for "-")."""
    if input_path == "-":
        return "stdin"
    stem = Path(input_path).stem or "input"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem)[:60] or "input"


def create_run_dir(out: Path, input_path: str, now: datetime | None = None) -> Path:
    """Make a new run folder (never reusing one) and point OUT/latest at it."""
    out.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    base = f"{stamp}-{stem_of(input_path)}"
    for n in range(1, 1000):
        candidate = out / (base if n == 1 else f"{base}-{n}")
        try:
            candidate.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue
        os.chmod(candidate, DIR_MODE)
        point_latest(out, candidate)
        return candidate
    raise FileExistsError(f"Too many run folders named {base} in {out}.")


def point_latest(out: Path, run_dir: Path) -> None:
    """Atomically repoint OUT/latest (a relative symlink) at `run_dir`."""
    tmp = out / f".{LATEST}.{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    tmp.symlink_to(run_dir.name)
    os.replace(tmp, out / LATEST)


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
