"""Report writing: CSV-injection escaping, atomic 0600 files, reports rebuilt from the journal."""

from __future__ import annotations

import csv
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from bulk_onboard.api.accounts import account_fields
from bulk_onboard.base.atomic import make_private_dir, write_text
from bulk_onboard.base.outcomes import Outcome, Stage, Status, Unprocessed, failed, unprocessed
from bulk_onboard.engine.journal import Journal
from bulk_onboard.reports.csv_reports import ReportWriter, escape_cell, write_reports
from bulk_onboard.runs.create import create_run_dir


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2", "'-2"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("\nx", "'\nx"),
        ("\0x", "'\0x"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        (-3, "-3"),
        (True, "true"),
        (None, ""),
    ],
)
def test_escape_cell(value: Any, cell: str) -> None:
    assert escape_cell(value) == cell


def test_atomic_write_is_0600_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    write_text(target, "{}")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert os.listdir(tmp_path) == ["x.json"]


def test_private_dir_is_0700(tmp_path: Path) -> None:
    make_private_dir(tmp_path / "a" / "b")
    assert stat.S_IMODE((tmp_path / "a" / "b").stat().st_mode) == 0o700


def test_run_dirs_are_new_each_time_and_latest_follows(tmp_path: Path) -> None:
    first = create_run_dir(tmp_path, "sheets/My Boxes.csv")
    second = create_run_dir(tmp_path, "sheets/My Boxes.csv")
    assert first != second
    assert first.name.endswith("-My_Boxes")
    assert (tmp_path / "latest").resolve() == second.resolve()
    assert stat.S_IMODE(second.stat().st_mode) == 0o700


def test_reports_are_rebuilt_from_the_journal_with_escaping(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.record(Outcome(2, "a@x.test", Status.SUCCEEDED, account_fields({"id": 7}, "a@x.test")))
    journal.record(
        failed(3, "b@x.test", Stage.VALIDATION, "invalid_port", "bad", {"Email": "=HYPERLINK()"})
    )
    journal.record(unprocessed(4, "c@x.test", Unprocessed.INTERRUPTED))
    journal.commit()
    write_reports(journal, tmp_path, ["Email", "Password"])
    for name in ("succeeded.csv", "failed.csv", "unprocessed.csv", "journal.sqlite"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    with (tmp_path / "failed.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["Email"] == "'=HYPERLINK()"
    assert rows[0]["hint"].endswith(".")
    with (tmp_path / "succeeded.csv").open(newline="") as handle:
        assert next(csv.DictReader(handle))["domain"] == "x.test"
    assert not (tmp_path / "skipped.csv").exists()
    journal.close()


def test_account_fields_tolerate_missing_and_null_fields() -> None:
    fields = account_fields(
        {"id": 5, "score": None, "domain": {"mx_records": ["a.mx", "b.mx"], "spf_valid": True}},
        "me@d.test",
    )
    assert fields["account_id"] == 5
    assert fields["mx_records"] == "a.mx b.mx"
    assert fields["spf_valid"] is True
    assert fields["domain"] == "d.test"


OUTCOMES = [
    Outcome(2, "a@x.test", Status.SUCCEEDED, account_fields({"id": 7, "score": 1.5}, "a@x.test")),
    failed(3, "-b@x.test", Stage.VALIDATION, "invalid_port", "bad", {"Email": "=HYPERLINK()"}),
    Outcome(4, "c@x.test", Status.VALID, {"provider": "custom", "imap_server_port": 993,
                                          "smtp_server_starttls": True, "notes": "+1, \"q\"\n"}),
    Outcome(5, "d@x.test", Status.SKIPPED, {"reason": "already_onboarded"}),
    unprocessed(6, "e@x.test", Unprocessed.INTERRUPTED),
    failed(7, "f@x.test", Stage.API, "auth_failed", "no", None, http_status=401, attempts=2),
]  # fmt: skip


@pytest.mark.parametrize(
    "statuses",
    [(Status.VALID, Status.FAILED), (Status.SUCCEEDED, Status.FAILED, Status.UNPROCESSED)],
)
def test_streamed_reports_are_the_reports_rebuilt_from_the_journal(
    tmp_path: Path, statuses: tuple[Status, ...]
) -> None:
    rebuilt, streamed = tmp_path / "rebuilt", tmp_path / "streamed"
    make_private_dir(rebuilt)
    make_private_dir(streamed)
    journal = Journal(rebuilt)
    for outcome in OUTCOMES:
        journal.record(outcome)
    write_reports(journal, rebuilt, ["Email", "Password"], statuses)
    journal.close()
    with ReportWriter(streamed, ["Email", "Password"], statuses) as reports:
        for outcome in OUTCOMES:
            reports.write(outcome)
    names = sorted(p.name for p in rebuilt.iterdir() if p.suffix == ".csv")
    assert names == sorted(p.name for p in streamed.iterdir())
    assert "skipped.csv" in names
    for name in names:
        assert (streamed / name).read_bytes() == (rebuilt / name).read_bytes(), name
        assert stat.S_IMODE((streamed / name).stat().st_mode) == 0o600


def _write_then_fail(run_dir: Path) -> None:
    with ReportWriter(run_dir, ["Email"]) as reports:
        reports.write(OUTCOMES[1])
        raise RuntimeError


def test_streamed_reports_are_dropped_when_the_run_fails(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        _write_then_fail(tmp_path)
    assert os.listdir(tmp_path) == []


def test_failed_report_columns_are_the_ones_columns_keeps_free() -> None:
    from bulk_onboard.reports.csv_reports import FAILED_COLUMNS
    from bulk_onboard.sheet.columns import REPORT_OWN_COLUMNS

    assert tuple(REPORT_OWN_COLUMNS) == tuple(FAILED_COLUMNS)
