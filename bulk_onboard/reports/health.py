"""The health of the accounts a run reached, tallied from succeeded.csv as its rows stream by.

Two views for report.html: the distribution of MailReach's scores, and per domain how many of its
mailboxes pass each DNS check. Both are counters, so 100,000 rows cost a few kilobytes per score
type and a handful of integers per domain, never a list of rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from bulk_onboard.api.accounts import SCORE_FIELDS

SCORE_MAX: Final = 100
SCORE_BIN_WIDTH: Final = 10
# The chart's bins, 0-9 ... 90-100: the last one takes the perfect scores too.
SCORE_BINS: Final = SCORE_MAX // SCORE_BIN_WIDTH
SCORE_LABELS: Final = {
    "score": "Overall",
    "score_gmail": "Gmail",
    "score_outlook": "Outlook",
    "score_custom": "Other providers",
}
assert tuple(SCORE_LABELS) == SCORE_FIELDS
CHART_SCORE: Final = "score"
# succeeded.csv column → the grid's column title, in the order the grid shows them.
DNS_CHECKS: Final = (
    ("spf_valid", "SPF"),
    ("dkim_valid", "DKIM"),
    ("dmarc_valid", "DMARC"),
    ("mx_records", "MX"),
)
_FLAGS = {"true": True, "false": False}


@dataclass(frozen=True, slots=True)
class ScoreStats:
    """One score type over the accounts that have it; the median is of scores to the point."""

    label: str
    count: int
    mean: float
    median: float
    low: int
    high: int


@dataclass(frozen=True, slots=True)
class Check:
    """One DNS check over one domain's mailboxes: how many passed, how many failed."""

    passed: int
    failed: int

    @property
    def state(self) -> str:
        """`ok`, `bad` (every mailbox failed), `mixed`, or `unknown` (MailReach said nothing)."""
        if self.failed:
            return "mixed" if self.passed else "bad"
        return "ok" if self.passed else "unknown"


@dataclass(frozen=True, slots=True)
class DomainHealth:
    domain: str
    mailboxes: int
    checks: tuple[Check, ...]  # in DNS_CHECKS order

    @property
    def problems(self) -> int:
        """How many of the checks failed for at least one mailbox."""
        return sum(1 for check in self.checks if check.failed)


class HealthTally:
    """Scores and DNS checks of succeeded.csv, added one row at a time."""

    __slots__ = ("_columns", "_domain", "_domains", "_points", "_sums")

    def __init__(self, header: Sequence[str]) -> None:
        where = {name: i for i, name in reversed(list(enumerate(header)))}
        self._domain = where.get("domain")
        self._columns = (
            [(name, where[name]) for name in SCORE_FIELDS if name in where],
            [where.get(name) for name, _ in DNS_CHECKS],
        )
        self._points = {name: [0] * (SCORE_MAX + 1) for name in SCORE_FIELDS}
        self._sums = dict.fromkeys(SCORE_FIELDS, 0.0)
        # domain → [mailboxes, passed, failed, passed, failed, ...] in DNS_CHECKS order
        self._domains: dict[str, list[int]] = {}

    def add(self, cells: Sequence[str]) -> None:
        """Count one succeeded.csv row."""
        scores, checks = self._columns
        for name, i in scores:
            score = _number(cells[i] if i < len(cells) else "")
            if score is not None:
                self._points[name][min(max(round(score), 0), SCORE_MAX)] += 1
                self._sums[name] += score
        if self._domain is None or self._domain >= len(cells) or not cells[self._domain]:
            return
        found = [_cell(cells, i) for i in checks]
        flags = [_FLAGS.get(cell) for cell in found[:-1]]
        # An empty mx_records means "no MX" when MailReach reported the domain's DNS at all.
        flags.append(bool(found[-1]) if found[-1] or any(f is not None for f in flags) else None)
        tally = self._domains.setdefault(cells[self._domain], [0] * (1 + 2 * len(DNS_CHECKS)))
        tally[0] += 1
        for k, flag in enumerate(flags):
            if flag is not None:
                tally[1 + 2 * k + (not flag)] += 1

    def histogram(self) -> tuple[int, ...]:
        """Accounts per SCORE_BIN_WIDTH-point bin of the overall score; () if none has one."""
        points = self._points[CHART_SCORE]
        if not any(points):
            return ()
        width = SCORE_BIN_WIDTH
        bins = [sum(points[b * width : (b + 1) * width]) for b in range(SCORE_BINS)]
        bins[-1] += points[SCORE_MAX]
        return tuple(bins)

    def score_stats(self) -> tuple[ScoreStats, ...]:
        """Count, mean, median, lowest and highest of each score type some account has."""
        return tuple(
            _stats(SCORE_LABELS[name], self._points[name], self._sums[name])
            for name in SCORE_FIELDS
            if any(self._points[name])
        )

    def domains(self) -> list[DomainHealth]:
        """Every domain, those with failed checks first (most problems, then most mailboxes)."""
        found = [
            DomainHealth(name, tally[0], tuple(_checks(tally)))
            for name, tally in self._domains.items()
        ]
        found.sort(key=lambda d: (-d.problems, -d.mailboxes, d.domain))
        return found


def bin_labels() -> list[str]:
    """The chart's bin names: 0-9, 10-19, ..., 90-100."""
    labels = [f"{b * SCORE_BIN_WIDTH}–{(b + 1) * SCORE_BIN_WIDTH - 1}" for b in range(SCORE_BINS)]
    labels[-1] = f"{(SCORE_BINS - 1) * SCORE_BIN_WIDTH}–{SCORE_MAX}"
    return labels


def _checks(tally: Sequence[int]) -> Iterable[Check]:
    for k in range(len(DNS_CHECKS)):
        yield Check(tally[1 + 2 * k], tally[2 + 2 * k])


def _cell(cells: Sequence[str], i: int | None) -> str:
    return cells[i] if i is not None and i < len(cells) else ""


def _number(cell: str) -> float | None:
    if not cell:
        return None
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None  # nan and inf are no score


def _stats(label: str, points: Sequence[int], total: float) -> ScoreStats:
    count = sum(points)
    seen = [point for point, n in enumerate(points) if n]
    median = (_nth(points, (count - 1) // 2) + _nth(points, count // 2)) / 2
    return ScoreStats(label, count, total / count, median, seen[0], seen[-1])


def _nth(points: Sequence[int], index: int) -> int:
    """The score at `index` (from 0) of the counted scores in order."""
    running = 0
    for point, n in enumerate(points):
        running += n
        if running > index:
            return point
    raise IndexError(index)
