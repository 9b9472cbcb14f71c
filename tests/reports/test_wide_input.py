"""A sheet of a very wide input: both reports are written, the workbook within Excel's limits.

The folders come from the real `validate` command; each workbook is read back with openpyxl."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from bulk_onboard.reports.render import RENDERERS, render_reports
from bulk_onboard.runs.read import RunFolder
from tests.support.cli import run_cli

EXCEL_MAX_COLUMNS = 16_384  # Excel's last column, XFD

FAILING_ROW = "not-an-email,Ada,imap.fleet.test,smtp.fleet.test,pw-wide-Secret-1"
# A valid row too, so every report is written: the failed one carries the echoed columns.
VALID_ROW = "ada@fleet.test,Ada,imap.fleet.test,smtp.fleet.test,pw-wide-Secret-2"


def wide_sheet(path: Path, extra_columns: int) -> Path:
    header = ["Email", "First Name", "IMAP Host", "SMTP Host", "Password"]
    header += [f"Extra {i}" for i in range(extra_columns)]
    cells = ",".join("v" for _ in range(extra_columns))
    lines = [",".join(header), f"{FAILING_ROW},{cells}", f"{VALID_ROW},{cells}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("extra_columns", [17_000, 100_000])
def test_a_very_wide_sheet_gets_both_reports_and_the_workbook_is_cut_at_excels_columns(
    tmp_path: Path, extra_columns: int
) -> None:
    sheet = wide_sheet(tmp_path / "wide.csv", extra_columns)
    result = run_cli(["validate", str(sheet)], tmp_path / "out", timeout=300)
    assert result.code == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert "not both written" not in result.stderr
    assert (result.run_dir / "report.html").is_file()
    book = load_workbook(result.run_dir / "results.xlsx", read_only=True)
    failed = book["Failed"]
    failed.reset_dimensions()
    widths = {len(row) for row in failed.iter_rows(values_only=True)}
    assert widths == {EXCEL_MAX_COLUMNS}
    summary = book["Summary"].iter_rows(values_only=True)
    notes = [row[1] for row in summary if row and row[0] == "note"]
    assert any(f"first {EXCEL_MAX_COLUMNS:,} of" in str(note) for note in notes), notes
    # The line listing the unused columns names some and counts the rest.
    (unused,) = [line for line in result.stderr.splitlines() if "kept but not used" in line]
    assert len(unused) < 500
    assert f"and {extra_columns - 10:,} more" in unused


def test_one_report_failing_does_not_stop_the_other(tmp_path: Path) -> None:
    result = run_cli(["validate", str(wide_sheet(tmp_path / "in.csv", 3))], tmp_path / "out")
    folder = RunFolder.open(result.run_dir)
    (result.run_dir / "report.html").unlink()
    (result.run_dir / "results.xlsx").unlink()

    def broken(folder: RunFolder) -> Path:
        raise ValueError("a renderer's own bug")

    renderers = [("results.xlsx", broken), *(r for r in RENDERERS if r[0] != "results.xlsx")]
    written = render_reports(result.run_dir, renderers)
    assert written == [folder.path / "report.html"]
    assert (result.run_dir / "report.html").is_file()
