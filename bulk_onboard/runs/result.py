"""What a finished job hands back to Python: its run folder, summary, exit code and outcomes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulk_onboard.base.outcomes import Outcome, Status
from bulk_onboard.runs.read import RunFolder

_STATUSES = {status.value: status for status in Status}


@dataclass(frozen=True, slots=True)
class RunResult:
    """One finished `run`, `validate`, `check` or `sync`, read back from its run folder."""

    run_dir: Path
    summary: Mapping[str, Any]

    @classmethod
    def of(cls, run_dir: Path) -> RunResult:
        """The result of the finished run in `run_dir` (RunFolderError if it is none)."""
        return cls(run_dir, RunFolder.open(run_dir).summary)

    @property
    def command(self) -> str:
        return str(self.summary.get("command", "run"))

    @property
    def exit_code(self) -> int:
        """0 when every row succeeded (or was valid, or skipped as unchanged), else 1."""
        return int(self.summary.get("exit_code", 1))

    @property
    def counts(self) -> dict[str, int]:
        """Rows per report (`succeeded`, `failed`, ...) and `rows_total`, from summary.json."""
        keys = ("rows_total", *_STATUSES)
        return {key: int(self.summary[key]) for key in keys if key in self.summary}

    def outcomes(self) -> Iterator[Outcome]:
        """Every row's outcome, report after report, read back from the CSV reports.

        `fields` holds the report's other cells as text, as the CSV has them (a cell a
        spreadsheet would take for a formula keeps its leading `'`); a failed row's fields end
        with its echoed input columns, secrets blanked.
        """
        folder = RunFolder.open(self.run_dir)
        for name in folder.reports():
            status = _STATUSES.get(name)
            if status is None:
                continue  # changes.csv is about accounts, not rows
            for record in folder.records(name):
                row, email = int(record.pop("row")), record.pop("email")
                yield Outcome(row, email, status, record)
