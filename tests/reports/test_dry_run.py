"""A dry run says so in every output a person reads: the printed summary, summary.json, the
workbook and report.html, and every succeeded row is `tested`, with no account id."""

from __future__ import annotations

import html
import json
from pathlib import Path

from openpyxl import load_workbook

from bulk_onboard.runs.summary_table import DRY_RUN_NOTE
from tests.support.cli import Result, run_cli

SAMPLE = Path(__file__).parents[2] / "samples" / "instantly-export.csv"


def sandbox_run(tmp_path: Path, *extra: str) -> Result:
    result = run_cli(
        ["run", str(SAMPLE), "--sandbox", "--rate", "0", "--no-progress", *extra],
        tmp_path,
        key=None,
    )
    assert result.code == 0, result.stderr
    return result


def summary_sheet(result: Result) -> list[tuple[object, ...]]:
    book = load_workbook(result.run_dir / "results.xlsx", read_only=True)
    try:
        return [tuple(row) for row in book["Summary"].iter_rows(values_only=True)]
    finally:
        book.close()


def test_a_dry_run_says_so_everywhere(tmp_path: Path) -> None:
    result = sandbox_run(tmp_path, "--dry-run")
    assert DRY_RUN_NOTE in result.stdout
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert summary["dry_run"] is True
    assert summary["actions"] == {"tested": summary["succeeded"]}
    assert "tested" in result.stdout
    assert summary_sheet(result)[1] == ("note", DRY_RUN_NOTE)  # first, under the header
    page = (result.run_dir / "report.html").read_text(encoding="utf-8")
    assert html.escape(DRY_RUN_NOTE) in page
    rows = result.report("succeeded.csv")
    assert rows
    assert {(r["action"], r["account_id"]) for r in rows} == {("tested", "")}


def test_the_json_summary_line_carries_dry_run(tmp_path: Path) -> None:
    result = sandbox_run(tmp_path, "--dry-run", "--log-format", "json")
    line = json.loads(result.stdout.strip().splitlines()[-1])
    assert (line["event"], line["dry_run"]) == ("summary", True)


def test_a_real_run_says_nothing_of_a_dry_run(tmp_path: Path) -> None:
    result = sandbox_run(tmp_path)
    assert DRY_RUN_NOTE not in result.stdout
    assert json.loads((result.run_dir / "summary.json").read_text())["dry_run"] is False
    assert ("note", DRY_RUN_NOTE) not in summary_sheet(result)
    assert html.escape(DRY_RUN_NOTE) not in (result.run_dir / "report.html").read_text()
    assert {r["action"] for r in result.report("succeeded.csv")} == {"created"}
