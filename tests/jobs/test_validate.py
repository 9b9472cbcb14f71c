"""validate's per-row shortcuts give what the plain way gives (the model's dump, one Screen), and
a signal stops a long validate with every row in one report."""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path

import pytest

import bulk_onboard.jobs.validate as validate_module
from bulk_onboard.base.outcomes import Outcome
from bulk_onboard.engine.stopping import StopControl
from bulk_onboard.errors import ExitCode
from bulk_onboard.jobs.validate import _screen_for, valid_cells, validate_job
from bulk_onboard.reports.csv_reports import VALID_COLUMNS
from bulk_onboard.rows.first_rows import FirstRows
from bulk_onboard.rows.normalise import NormalisedRow, NormaliseOptions, normalise
from bulk_onboard.rows.screening import Screen
from bulk_onboard.settings import ReadOptions
from bulk_onboard.sheet.columns import ColumnMap
from bulk_onboard.sheet.table import RawRow
from tests.support.cli import (
    Mailbox,
    data_rows,
    run_cli,
    start_cli,
    unique_mailboxes,
    write_mailboxes,
    xlsx_texts,
)

HEADERS = ["Email", "First Name", "IMAP Host", "SMTP Host", "SMTP Port", "Password", "Auth"]


def rows(emails: list[str]) -> list[NormalisedRow]:
    columns = ColumnMap.from_headers(HEADERS)
    return [
        normalise(
            RawRow(n, (email, "Ann", "imap.a.test", "smtp.a.test", "", "Pw-1", "LOGIN")),
            columns,
            NormaliseOptions(),
        )
        for n, email in enumerate(emails, start=2)
    ]


def test_a_valid_line_holds_the_models_dump_in_valid_csvs_columns() -> None:
    (item,) = rows(["ann.lee@a.test"])
    assert item.request is not None
    dump = item.request.model_dump()
    expected = [item.row, item.email, *(dump[c] for c in VALID_COLUMNS[2:-1])]
    assert valid_cells(item) == [*expected, " ".join(item.notes)]
    assert not {"imap_server_password", "smtp_server_password"} & set(VALID_COLUMNS)


EMAILS = ["a@a.test", "b@a.test", "bad", "a@a.test", "c@a.test", "b@a.test", "bad", "a@a.test",
          "d@a.test", "c@a.test", "e@a.test", "e@a.test", "d@a.test"]  # fmt: skip


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 13])
@pytest.mark.parametrize("recent", [1, 3, 1000])
def test_a_screen_per_chunk_settles_rows_as_one_screen_does(chunk: int, recent: int) -> None:
    items = rows(EMAILS)
    one = Screen()
    expected = [one.reject(item) for item in items]
    first_rows = FirstRows(recent=recent)
    got: list[Outcome | None] = []
    for start in range(0, len(items), chunk):
        part = items[start : start + chunk]
        screen = _screen_for(part, first_rows)
        got.extend(screen.reject(item) for item in part)
    assert got == expected
    assert sum(o is not None and o.fields["error_code"] == "duplicate_email" for o in got) == 6


def test_validate_writes_no_journal_as_there_is_nothing_to_resume(tmp_path: Path) -> None:
    sheet = tmp_path / "boxes.csv"
    write_mailboxes(sheet, [*unique_mailboxes(3), Mailbox("bad"), Mailbox("user0@fleet.test")])
    result = run_cli(["validate", str(sheet)], tmp_path / "out")
    assert result.code == 1, result.stderr
    assert not (result.run_dir / "journal.sqlite").exists()
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert (summary["valid"], summary["failed"]) == (3, 2)
    assert summary["error_codes"] == {"invalid_email": 1, "duplicate_email": 1}


WORKSPACE_SAMPLE = Path(__file__).parents[2] / "samples" / "workspace-addresses.csv"


def test_validate_checks_workspace_rows_as_run_would_link_them(tmp_path: Path) -> None:
    """Bare addresses need no password when --workspace names where they go, as for run."""
    linked = run_cli(["validate", str(WORKSPACE_SAMPLE), "--workspace", "google=1"], tmp_path / "a")
    assert linked.code == 0, linked.stderr
    valid = linked.report("valid.csv")
    assert len(valid) == 40
    assert {row["notes"].partition(" (")[0] for row in valid} == {
        "linked through email workspace 1"
    }
    alone = run_cli(["validate", str(WORKSPACE_SAMPLE)], tmp_path / "b")
    assert alone.code == 1
    assert {row["error_code"] for row in alone.report("failed.csv")} == {"missing_field"}


# write_mailboxes' passwords: one pattern finds any of them, in any file, in one pass.
PASSWORD_SHAPE = re.compile(rb"pw-[0-9a-f]{12}-[0-9]+")


def _validated_some(out: Path) -> bool:
    """Rows are in valid.csv's temporary file (past its header and the writer's buffer)."""
    return any(path.stat().st_size > 64_000 for path in out.glob("*/.valid.csv*"))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_a_long_validate_and_every_row_is_in_one_report(
    tmp_path: Path, signum: signal.Signals
) -> None:
    """Stopped midway: the rows not validated are in unprocessed.csv, `interrupted`."""
    sheet = tmp_path / "boxes.csv"
    write_mailboxes(sheet, unique_mailboxes(60_000))
    out = tmp_path / "out"
    running = start_cli(["validate", str(sheet), "--no-progress"], out, url=None)
    running.wait_for("the first valid rows", lambda: _validated_some(out))
    running.send(signum)
    result = running.finish(timeout_s=90)
    assert result.code == 128 + signum, result.stderr
    assert "Traceback" not in result.stderr
    reports = {name: result.report(name) for name in ("valid.csv", "failed.csv", "unprocessed.csv")}
    rows = sorted(int(r["row"]) for found in reports.values() for r in found)
    assert rows == data_rows(sheet), "a row is missing or reported twice"
    assert reports["valid.csv"]
    assert reports["unprocessed.csv"], "validated to the end before the signal"
    assert {r["reason"] for r in reports["unprocessed.csv"]} == {"interrupted"}
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert (summary["exit_code"], summary["rows_total"]) == (result.code, len(rows))
    assert summary["unprocessed"] == len(reports["unprocessed.csv"])
    outputs = {"stdout": result.stdout.encode(), "stderr": result.stderr.encode()}
    for path in out.rglob("*"):
        if path.is_file():
            outputs[str(path)] = path.read_bytes()
            if path.suffix == ".xlsx":
                outputs.update(xlsx_texts(path))
    assert [name for name, data in outputs.items() if PASSWORD_SHAPE.search(data)] == []
    assert PASSWORD_SHAPE.search(sheet.read_bytes()), "the pattern finds the sheet's passwords"


def test_a_signal_during_the_last_chunk_still_ends_validate_with_its_exit_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Every row was validated, but the signal came: exit 130 as for run and check, and a second
    signal (nothing to abandon) changes nothing. The signal is sent from inside the chunk, at row
    10, as no timer could place it there."""
    sheet = tmp_path / "boxes.csv"
    write_mailboxes(sheet, unique_mailboxes(50))
    stop = StopControl(in_flight="the chunk of rows", abandon=False)

    def normalise_then_signal(
        raw: RawRow, columns: ColumnMap, options: NormaliseOptions
    ) -> NormalisedRow:
        if raw.number in (10, 11):
            stop.on_signal(signal.SIGINT)
        return normalise(raw, columns, options)

    monkeypatch.setattr(validate_module, "normalise", normalise_then_signal)
    code, run_dir = validate_job(str(sheet), tmp_path / "out", ReadOptions(), None, stop=stop)
    assert code == ExitCode.SIGINT
    assert not stop.hard.is_set()
    assert "SIGINT received again: already stopping." in caplog.messages
    summary = json.loads((run_dir / "summary.json").read_text())
    assert (summary["exit_code"], summary["valid"], summary["unprocessed"]) == (130, 50, 0)
    assert summary["stopped"] == "stopped by SIGINT"
