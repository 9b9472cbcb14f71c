"""The reports people open: results.xlsx and report.html, rendered from a finished run folder.

Every command renders them once its CSV reports and summary.json are written, and
`bulk-onboard report RUN_DIR` renders them again for any run folder, older ones included.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from bulk_onboard.base.printable import printable
from bulk_onboard.reports.html import write_html_report
from bulk_onboard.reports.workbook import write_workbook
from bulk_onboard.runs.read import RunFolder

log = logging.getLogger("bulk_onboard")

RENDERERS: tuple[tuple[str, Callable[[RunFolder], Path]], ...] = (
    ("results.xlsx", write_workbook),
    ("report.html", write_html_report),
)


def render_reports(
    run_dir: Path, renderers: Sequence[tuple[str, Callable[[RunFolder], Path]]] = RENDERERS
) -> list[Path]:
    """Write results.xlsx and report.html into `run_dir`; the paths written.

    Raises RunFolderError if `run_dir` is no finished run folder. A file that can't be written
    (disk full, permissions, or a fault of its renderer) is logged and skipped, and the other is
    still written: the CSV reports are already there, and `bulk-onboard report RUN_DIR` can try
    again.
    """
    folder = RunFolder.open(run_dir)
    try:
        # Proved first: a folder that can't be written (read-only, no permission) would fail
        # each writer midway, and openpyxl's half-open sheet streams print pages of errors.
        os.unlink(tempfile.mkstemp(prefix=".can-write-", dir=run_dir)[1])
    except OSError as error:
        _cannot_write(" and ".join(name for name, _ in RENDERERS), run_dir, error)
        return []
    written = []
    for name, write in renderers:
        try:
            written.append(write(folder))
        # Wider than OSError on purpose: whatever stops one report must not stop the other.
        except Exception as error:
            _cannot_write(name, run_dir, error)
    return written


def _cannot_write(names: str, run_dir: Path, error: Exception) -> None:
    why = error.strerror if isinstance(error, OSError) and error.strerror else error
    log.error(
        "Could not write %s in %s (%s): check that you can write to that folder and that its "
        "disk has room; the CSV reports are complete.",
        names,
        run_dir,
        printable(f"{why}", 200),
        extra={"event": "report_error", "file": names},
    )


def render_reports_apart(run_dir: Path, log_format: str) -> None:
    """Render the reports as `bulk-onboard report RUN_DIR` in a child process.

    Why a child: matplotlib, openpyxl and lxml weigh about 45 MB once imported, on top of what
    the job imported (pandas, aiohttp, pydantic); apart, a run's peak memory is the larger of
    the two, not their sum. A child that fails has said why on stderr; the job's exit code
    stands, as its CSV reports are complete.
    """
    # `--`: a folder under `--out=-name` must not be read as an option.
    command = [sys.executable, "-m", "bulk_onboard", "report", "--log-format", log_format]
    done = subprocess.run([*command, "--", str(run_dir)], stdout=subprocess.DEVNULL, check=False)
    if done.returncode != 0:
        log.error(
            "results.xlsx and report.html were not both written; the CSV reports are complete, "
            "and `bulk-onboard report %s` tries again.",
            run_dir,
            extra={"event": "report_error"},
        )
