"""What report.html shows, gathered from a run folder in one streamed pass over each CSV report.

Large runs stay small: the counts come from summary.json, the health views are counters
(report_health), and each list is capped, with the number left out and the file that holds it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from bulk_onboard.base.changes import CHANGES_COLUMNS
from bulk_onboard.errors import ExitCode
from bulk_onboard.reports.csv_reports import escape_cell
from bulk_onboard.reports.health import DomainHealth, HealthTally, ScoreStats
from bulk_onboard.runs.read import RunFolder

FAILURES_PER_CODE: Final = 50
# A listed failure's email and message are cut here: the page's size must not hang on what a
# cell or a server said.
MESSAGE_CHARS: Final = 500
DOMAINS_SHOWN: Final = 200
CHANGES_SHOWN: Final = 200
# summary.json key → its name in the headline, in the order shown. `valid` is validate's,
# `skipped` and `changes` are sync's: a count the command does not keep is not shown.
COUNTS: Final = (
    ("rows_total", "rows"),
    ("succeeded", "succeeded"),
    ("valid", "valid"),
    ("failed", "failed"),
    ("unprocessed", "unprocessed"),
    ("skipped", "skipped"),
    ("changes", "changes"),
)
# The exit codes a finished run folder can carry (SPEC.md), said for a person.
EXIT_MEANINGS: Final[Mapping[int, str]] = {
    ExitCode.OK: "every row succeeded or was skipped as unchanged",
    ExitCode.SOME_FAILED: "finished; some rows failed or are unprocessed",
    ExitCode.UNAVAILABLE: "the API could not be reached; the rest is unprocessed",
    ExitCode.KEY_REFUSED: "the API key was refused",
    ExitCode.SIGINT: "interrupted (Ctrl-C); in-flight rows were drained",
    ExitCode.SIGTERM: "stopped (SIGTERM); in-flight rows were drained",
}


@dataclass(frozen=True, slots=True)
class FailedRow:
    row: str
    email: str
    message: str


@dataclass(slots=True)
class FailureGroup:
    """The failed rows of one error code: all counted, the first FAILURES_PER_CODE kept."""

    code: str
    hint: str = ""
    stages: set[str] = field(default_factory=set)
    count: int = 0
    rows: list[FailedRow] = field(default_factory=list)

    @property
    def more(self) -> int:
        """The rows of this code not listed (they are in failed.csv)."""
        return self.count - len(self.rows)


@dataclass(frozen=True, slots=True)
class ChangeRow:
    email: str
    field: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything report.html shows, each list already capped."""

    summary: Mapping[str, Any]
    command: str
    counts: tuple[tuple[str, str, int], ...]  # (summary key, label, value)
    score_bins: tuple[int, ...]  # empty when no account has a score
    scores: tuple[ScoreStats, ...]
    domains: tuple[DomainHealth, ...]
    domains_hidden: int
    domains_hidden_with_problems: int
    failures: tuple[FailureGroup, ...]
    unprocessed: tuple[tuple[str, int], ...]  # (reason, rows), most first
    skipped: tuple[tuple[str, int], ...]
    changes: tuple[ChangeRow, ...]
    changes_total: int
    change_fields: tuple[tuple[str, int], ...]

    @property
    def exit_meaning(self) -> str:
        code = self.summary.get("exit_code")
        return EXIT_MEANINGS.get(code, "") if isinstance(code, int) else ""


def collect(folder: RunFolder) -> ReportData:
    """Read a run folder's reports once each and gather what report.html shows."""
    health = HealthTally(folder.header("succeeded"))
    for cells in folder.rows("succeeded"):
        health.add(cells)
    domains = health.domains()
    listed, hidden = domains[:DOMAINS_SHOWN], domains[DOMAINS_SHOWN:]
    changes, changes_total, change_fields = _changes(folder.records("changes"))
    return ReportData(
        summary=folder.summary,
        command=folder.command,
        counts=headline_counts(folder.summary, folder.command),
        score_bins=health.histogram(),
        scores=health.score_stats(),
        domains=tuple(listed),
        domains_hidden=len(hidden),
        domains_hidden_with_problems=sum(1 for d in hidden if d.problems),
        failures=failure_groups(folder.records("failed")),
        unprocessed=_reasons(folder.records("unprocessed")),
        skipped=_reasons(folder.records("skipped")),
        changes=changes,
        changes_total=changes_total,
        change_fields=change_fields,
    )


def headline_counts(summary: Mapping[str, Any], command: str) -> tuple[tuple[str, str, int], ...]:
    """The counts of summary.json the headline shows: sync always shows skipped and changes."""
    always = {"rows_total", "failed", "unprocessed"} | (
        {"skipped", "changes"} if command == "sync" else set()
    )
    always.add("valid" if command == "validate" else "succeeded")
    found = []
    for key, label in COUNTS:
        value = summary.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and (value or key in always):
            found.append((key, label, value))
    return tuple(found)


def failure_groups(
    records: Iterable[Mapping[str, str]], keep: int = FAILURES_PER_CODE
) -> tuple[FailureGroup, ...]:
    """failed.csv grouped by error code, most rows first, each listing at most `keep` rows."""
    groups: dict[str, FailureGroup] = {}
    for record in records:
        code = record.get("error_code") or "unknown"
        group = groups.get(code)
        if group is None:
            group = groups[code] = FailureGroup(code)
        group.count += 1
        group.hint = group.hint or shown(record.get("hint", ""))
        group.stages.add(record.get("stage") or "unknown")
        if len(group.rows) < keep:
            row = FailedRow(
                record.get("row", ""),
                _cut(shown(record.get("email", ""))),  # an invalid email can be any text
                _cut(shown(record.get("message", ""))),
            )
            group.rows.append(row)
    return tuple(sorted(groups.values(), key=lambda g: (-g.count, g.code)))


def shown(cell: str) -> str:
    """A CSV cell as it was before escape_cell guarded it from spreadsheets: HTML is no formula."""
    if cell.startswith("'") and escape_cell(cell[1:]) == cell:
        return cell[1:]
    return cell


def started(summary: Mapping[str, Any]) -> str:
    """summary.json's started_at for a person: `2026-11-30 22:32:56 UTC`, or as written."""
    text = str(summary.get("started_at") or "")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.utcoffset() is None or moment.utcoffset():
        return moment.isoformat(sep=" ", timespec="seconds")
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _cut(text: str) -> str:
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 1] + "…"


def _reasons(records: Iterable[Mapping[str, str]]) -> tuple[tuple[str, int], ...]:
    counts = Counter(shown(record.get("reason") or "unknown") for record in records)
    return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _changes(
    records: Iterable[Mapping[str, str]],
) -> tuple[tuple[ChangeRow, ...], int, tuple[tuple[str, int], ...]]:
    kept: list[ChangeRow] = []
    fields: Counter[str] = Counter()
    for record in records:
        fields[record.get("field", "")] += 1
        if len(kept) < CHANGES_SHOWN:
            kept.append(ChangeRow(*(shown(record.get(k, "")) for k in CHANGES_COLUMNS)))
    by_field = tuple(sorted(fields.items(), key=lambda kv: (-kv[1], kv[0])))
    return tuple(kept), fields.total(), by_field
