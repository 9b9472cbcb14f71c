"""Drift and change detection, as tables: pure functions, no network."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from bulk_onboard.api.listing import LiveAccount
from bulk_onboard.base.changes import Change
from bulk_onboard.reports.changes import write_changes
from bulk_onboard.sync.drift import compare
from bulk_onboard.sync.plan import Reason, decide
from bulk_onboard.sync.state import AccountState

E = "ann@example.test"

Case = tuple[str, dict[str, Any], dict[str, Any], list[Change], dict[str, Any]]
S80 = {"score": 80}
COMPARE_CASES: list[Case] = [
    ("first sight is a baseline", {}, S80, [], S80),
    ("a move beyond the delta", S80, {"score": 74}, [Change(E, "score", 80, 74)], {"score": 74}),
    ("a move of exactly the delta", S80, {"score": 75}, [], S80),
    ("a small move keeps the baseline", S80, {"score": 77}, [], S80),
    (
        "a flag flip",
        {"dmarc_valid": True},
        {"dmarc_valid": False},
        [Change(E, "dmarc_valid", True, False)],
        {"dmarc_valid": False},
    ),
    ("an unchanged flag", {"alive": True}, {"alive": True}, [], {"alive": True}),
    ("a field not seen keeps its value", {"suspended": False}, {}, [], {"suspended": False}),
    (
        "a sub-score counts too",
        {"score_gmail": 90},
        {"score_gmail": 60},
        [Change(E, "score_gmail", 90, 60)],
        {"score_gmail": 60},
    ),
]


@pytest.mark.parametrize(
    ("case", "remembered", "seen", "changes", "kept"),
    COMPARE_CASES,
    ids=[c[0] for c in COMPARE_CASES],
)
def test_compare_reports_moves_beyond_the_delta_and_flips(
    case: str,
    remembered: dict[str, Any],
    seen: dict[str, Any],
    changes: list[Change],
    kept: dict[str, Any],
) -> None:
    assert compare(E, remembered, seen, 5.0) == (changes, kept)


def test_a_slow_slide_is_reported_once_it_adds_up_past_the_delta() -> None:
    remembered: dict[str, Any] = {"score": 80}
    reported = []
    for score in (78, 76, 74, 72):
        changes, remembered = compare(E, remembered, {"score": score}, 5.0)
        reported += changes
    assert reported == [Change(E, "score", 80, 74)]


LIVE = LiveAccount(7, {})
DECIDE_CASES = [
    ("never seen", None, LIVE, False, Reason.NEW),
    ("seen but never sent", AccountState(E), LIVE, False, Reason.NEW),
    ("failed last time", AccountState(E, 7, "fp", "failed"), LIVE, False, Reason.FAILED_LAST_TIME),
    ("changed", AccountState(E, 7, "old", "succeeded"), LIVE, False, Reason.CHANGED),
    ("gone from MailReach", AccountState(E, 7, "fp", "succeeded"), None, False, Reason.MISSING),
    ("unchanged", AccountState(E, 7, "fp", "succeeded"), LIVE, False, Reason.UNCHANGED),
    ("--all", AccountState(E, 7, "fp", "succeeded"), LIVE, True, Reason.ALL),
]


@pytest.mark.parametrize(
    ("case", "known", "live", "resubmit_all", "reason"),
    DECIDE_CASES,
    ids=[c[0] for c in DECIDE_CASES],
)
def test_decide_submits_new_changed_failed_and_missing_rows_only(
    case: str,
    known: AccountState | None,
    live: LiveAccount | None,
    resubmit_all: bool,
    reason: Reason,
) -> None:
    assert decide("fp", known, live, resubmit_all=resubmit_all) is reason


def test_changes_csv_is_sorted_and_formula_safe(tmp_path: Path) -> None:
    path = tmp_path / "changes.csv"
    write_changes(
        path, [Change("b@x.test", "score", 80, 60), Change("=a@x.test", "alive", True, False)]
    )
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["email", "field", "before", "after"],
        ["'=a@x.test", "alive", "true", "false"],
        ["b@x.test", "score", "80", "60"],
    ]
    assert path.stat().st_mode & 0o777 == 0o600
