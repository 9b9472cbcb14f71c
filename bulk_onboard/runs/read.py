"""A finished run folder read back: its summary, manifest and CSV reports, row by row.

The workbook and the HTML report are built from these files, not from the journal: every command
(`run`, `validate`, `check`, `sync`) writes them, they hold no secret, and an older run folder
can be re-rendered from them alone. Cells come back as the CSV holds them (text, formula-escaped).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulk_onboard.base.outcomes import Status
from bulk_onboard.errors import ExitCode, InputError, InputMissingError
from bulk_onboard.runs.files import CHANGES_FILE, LATEST, REPORT_FILES

# The reports a folder may hold, in the order people read them; `changes` is sync's drift.
REPORT_ORDER = (
    Status.SUCCEEDED.value, Status.VALID.value, Status.FAILED.value, Status.UNPROCESSED.value,
    Status.SKIPPED.value, "changes",
)  # fmt: skip
_FILES = {**{s.value: name for s, name in REPORT_FILES.items()}, "changes": CHANGES_FILE}


# The reports echo whatever the input held, 10 MB cells included: csv's 128 KiB default would
# refuse to read back what csv wrote.
csv.field_size_limit(2**31 - 1)


class RunFolderError(InputError):
    """The folder is not a finished run folder; the message says what to do."""


class RunFolderMissingError(RunFolderError, InputMissingError):
    """The folder does not exist (exit 66)."""

    exit_code = ExitCode.NO_INPUT


@dataclass(frozen=True, slots=True)
class RunFolder:
    path: Path
    summary: dict[str, Any]
    manifest: dict[str, Any]

    @classmethod
    def open(cls, path: Path) -> RunFolder:
        """Read a run folder's summary and manifest; RunFolderError if it has no summary."""
        if not path.exists():
            raise RunFolderMissingError(
                f"{path} does not exist: give a run folder, e.g. output/latest."
            )
        if not path.is_dir():
            raise RunFolderError(f"{path} is not a folder: give a run folder, e.g. output/latest.")
        try:
            summary = _json(path / "summary.json")
        except FileNotFoundError:
            if (path / LATEST).is_dir():
                raise RunFolderError(
                    f"{path} holds run folders but is none: give one of them, e.g. {path / LATEST}."
                ) from None
            raise RunFolderError(
                f"{path} has no summary.json: give a run folder of a finished run "
                "(an interrupted run is finished by `bulk-onboard run --resume RUN_DIR`)."
            ) from None
        try:
            manifest = _json(path / "manifest.json")
        except FileNotFoundError:
            manifest = {}
        return cls(path, summary, manifest)

    @property
    def command(self) -> str:
        return str(self.summary.get("command") or self.manifest.get("command") or "run")

    def reports(self) -> list[str]:
        """The names (`succeeded`, `failed`, ..., `changes`) of the reports this folder holds."""
        return [name for name in REPORT_ORDER if self.file(name).is_file()]

    def file(self, report: str) -> Path:
        return self.path / _FILES[report]

    def header(self, report: str) -> list[str]:
        """A report's header row ([] if the file is missing or empty)."""
        try:
            with self.file(report).open(newline="", encoding="utf-8") as handle:
                return next(csv.reader(handle), [])
        except FileNotFoundError:
            return []

    def rows(self, report: str) -> Iterator[list[str]]:
        """A report's data rows, streamed (nothing if the file is missing)."""
        try:
            handle = self.file(report).open(newline="", encoding="utf-8")
        except FileNotFoundError:
            return
        with handle:
            reader = csv.reader(handle)
            next(reader, None)
            yield from reader

    def records(self, report: str) -> Iterator[dict[str, str]]:
        """A report's data rows as {header: cell}, streamed (duplicate headers: the first wins)."""
        header = self.header(report)
        for cells in self.rows(report):
            record: dict[str, str] = {}
            for name, cell in zip(header, cells, strict=False):
                record.setdefault(name, cell)
            yield record


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        data = None
    if not isinstance(data, dict):
        raise RunFolderError(f"{path} is not a JSON object: the run folder is damaged.")
    return data
