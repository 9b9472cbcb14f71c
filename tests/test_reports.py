"""Report writing: CSV-injection escaping, atomic 0600 files, reports rebuilt from the journal."""

from __future__ import annotations

import csv
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from bulk_onboard.atomic import make_private_dir, write_text
from bulk_onboard.journal import Journal
from bulk_onboard.outcomes import Outcome, Stage, Status, Unprocessed
from bulk_onboard.reports import escape_cell, write_reports
from bulk_onboard.rundir import create_run_dir
from bulk_onboard.settle import account_fields, failed, unprocessed


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
