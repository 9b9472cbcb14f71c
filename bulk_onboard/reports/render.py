"""The reports people open: results.xlsx and report.html, rendered from a finished run folder.

Every command renders them once its CSV reports and summary.json are written, and
`bulk-onboard report RUN_DIR` renders them again for any run folder, older ones included.
"""

from __future__ import annotations

import logging
import os
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
        # each writer midway, each with its own error.
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


def render_reports_after(run_dir: Path) -> None:
    """Render the reports at the end of a command, in its own process.

    They used to be rendered in a child process, to keep matplotlib and openpyxl out of the
    job's peak memory. Both are gone from here: rendering now imports in about 0.05 s and holds
    a few megabytes, while a child cost 0.2-0.3 s of interpreter start and imports on every
    command. Whatever goes wrong is one line: the job's exit code stands, as its CSV reports
    are complete.
    """
    try:
        render_reports(run_dir)  # logs a file it could not write, and writes the other
    except Exception as error:  # any failure: the CSVs are the record, the job's code stands
        log.error(
            "results.xlsx and report.html were not written (%s); the CSV reports are complete, "
            "and `bulk-onboard report %s` tries again.",
            type(error).__name__,
            run_dir,
            extra={"event": "report_error"},
        )
