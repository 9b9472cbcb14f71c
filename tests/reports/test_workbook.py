"""results.xlsx: the run folder's reports as a workbook of text and numbers, never a formula.

The run folders come from the real command against the sandbox; a few edge cases (exact score
bands, raw formula text, a cut sheet) use a folder written here. Each workbook is read back with
openpyxl, and its XML is searched too.
"""

from __future__ import annotations

import csv
import json
import re
import stat
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from openpyxl import load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.formatting.rule import Rule
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from bulk_onboard.api.accounts import FLAG_FIELDS, SCORE_FIELDS
from bulk_onboard.reports.csv_reports import FAILED_COLUMNS, SUCCEEDED_COLUMNS
from bulk_onboard.reports.workbook import EXCEL_MAX_CELL_CHARS, write_workbook
from bulk_onboard.reports.workbook_styles import FLAG_FILLS, PREVIEW_ROWS, SHEET_TITLES
from bulk_onboard.runs.read import REPORT_ORDER, RunFolder
from tests.support.cli import (
    SHEET_HEADER,
    Mailbox,
    run_cli,
    unique_mailboxes,
    write_mailboxes,
)
from tests.support.sandbox_process import SANDBOX_KEY, SandboxProcess, sandbox_process

FAST = ["--rate", "0", "--backoff", "0.01", "--no-progress"]
RED, AMBER, GREEN = "FFC7CE", "FFEB9C", "C6EFCE"
SCORED = (*SCORE_FIELDS, "domain_avg_score")  # coloured by the score bands
NUMBER_COLUMNS = {*SCORED, "row", "account_id", "attempts", "elapsed_ms", "http_status"}
HOSTILE = (
    "=1+1",
    '=HYPERLINK("http://evil.test")',
    "@SUM(A1)",
    "-2+3",
    "+1",
    "#N/A",
    "<script>alert(1)</script>",
    "=cmd|' /C calc'!A0",
)
INPUT_HEADER = SHEET_HEADER.split(",")


@dataclass
class Written:
    folder: RunFolder
    path: Path
    book: Workbook

    def sheet(self, title: str) -> Worksheet:
        sheet = self.book[title]
        assert isinstance(sheet, Worksheet)
        return sheet


def written(run_dir: Path, **options: Any) -> Written:
    folder = RunFolder.open(run_dir)
    path = write_workbook(folder, **options)
    return Written(folder, path, load_workbook(path))


def rendered(run_dir: Path) -> Written:
    """The results.xlsx the CLI rendered at the end of its run."""
    path = run_dir / "results.xlsx"
    return Written(RunFolder.open(run_dir), path, load_workbook(path))


def write_sheet(path: Path, rows: Sequence[Sequence[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([INPUT_HEADER, *rows])


def mailbox_row(email: str, first_name: str = "Test", port: str = "993") -> list[str]:
    host = "fleet.test"
    return [email, first_name, "Row", f"imap.{host}", port, f"smtp.{host}", "587", "pw-123456"]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    with sandbox_process() as box:
        yield box


@pytest.fixture(scope="module")
def run_book(tmp_path_factory: pytest.TempPathFactory, sandbox: SandboxProcess) -> Written:
    """A `run` with successes, hostile emails that fail validation, a bad port and a duplicate."""
    tmp = tmp_path_factory.mktemp("run")
    sheet = tmp / "boxes.csv"
    rows = [mailbox_row(f"user{i}@fleet.test") for i in range(6)]
    rows += [mailbox_row(value) for value in HOSTILE]
    rows += [mailbox_row("port@fleet.test", port="99999"), mailbox_row("user0@fleet.test")]
    write_sheet(sheet, rows)
    result = run_cli(["run", str(sheet), *FAST], tmp / "out", url=sandbox.url)
    assert result.code == 1, result.stderr
    return rendered(result.run_dir)


@pytest.fixture(scope="module")
def validate_book(tmp_path_factory: pytest.TempPathFactory) -> Written:
    """A `validate` whose valid rows carry hostile first names (valid.csv echoes them)."""
    tmp = tmp_path_factory.mktemp("validate")
    sheet = tmp / "boxes.csv"
    rows = [mailbox_row(f"v{i}@fleet.test", value) for i, value in enumerate(HOSTILE)]
    write_sheet(sheet, [*rows, mailbox_row("not-an-email")])
    result = run_cli(["validate", str(sheet)], tmp / "out")
    assert result.code == 1, result.stderr
    return rendered(result.run_dir)


@pytest.fixture(scope="module")
def sync_book(tmp_path_factory: pytest.TempPathFactory, sandbox: SandboxProcess) -> Written:
    """A second `sync` after a row left the sheet: skipped rows and a change."""
    tmp = tmp_path_factory.mktemp("sync")
    sheet = tmp / "boxes.csv"
    boxes = [Mailbox(f"s{i}@sync.test") for i in range(3)]
    write_mailboxes(sheet, boxes)
    args = ["sync", str(sheet), "--out", str(tmp / "out"), "--state", str(tmp / "state.json")]
    first = run_cli([*args, *FAST], tmp / "out", url=sandbox.url)
    assert first.code == 0, first.stderr
    lines = sheet.read_text(encoding="utf-8").splitlines()
    sheet.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    second = run_cli([*args, *FAST], tmp / "out", url=sandbox.url)
    assert second.code == 0, second.stderr
    return rendered(second.run_dir)


def make_folder(tmp_path: Path, reports: dict[str, list[list[str]]]) -> Path:
    """A run folder written by hand: `reports` maps a CSV file name to its rows, header first."""
    for name, rows in reports.items():
        with (tmp_path / name).open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(rows)
    (tmp_path / "summary.json").write_text(json.dumps({"command": "run"}), "utf-8")
    return tmp_path


def cells(sheet: Worksheet) -> Iterator[Cell]:
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell, Cell):
                yield cell


def header_cells(sheet: Worksheet) -> list[Cell]:
    return [c for c in sheet[1] if isinstance(c, Cell)]


def column(sheet: Worksheet, name: str) -> list[Cell]:
    index = [c.value for c in sheet[1]].index(name)
    return [c for row in sheet.iter_rows(min_row=2) if isinstance(c := row[index], Cell)]


def fill_of(sheet: Worksheet, cell: Cell) -> str | None:
    """The fill (RRGGBB) a spreadsheet shows for `cell`: the first rule, by priority, that holds."""
    rules: list[tuple[int, str, Rule]] = []
    for formatting in sheet.conditional_formatting:
        if cell.coordinate in formatting.sqref:
            anchor = str(formatting.sqref).split(":")[0]
            rules += [(rule.priority, anchor, rule) for rule in formatting.rules]
    for _, anchor, rule in sorted(rules, key=lambda found: found[0]):
        assert rule.type == "expression"
        if holds(rule.formula[0], anchor, cell.value):
            return colour_of(rule)
    return None


def colour_of(rule: Rule) -> str:
    assert rule.dxf is not None
    assert isinstance(rule.dxf.fill, PatternFill)
    colour: str = rule.dxf.fill.fgColor.rgb
    return colour[-6:]


def holds(formula: str, ref: str, value: Any) -> bool:
    """Whether an AND(...) of ISNUMBER, >=, < and ="text" tests on `ref` holds for `value`."""
    inner = re.fullmatch(r"AND\((.*)\)", formula)
    tests = inner.group(1).split(",") if inner else [formula]
    is_number = isinstance(value, int | float)
    for test in tests:
        if test == f"ISNUMBER({ref})":
            ok = is_number
        elif compared := re.fullmatch(rf"{ref}(>=|<)(-?[0-9.]+)", test):
            bound = float(compared.group(2))
            ok = is_number and (value >= bound if compared.group(1) == ">=" else value < bound)
        elif equal := re.fullmatch(rf'{ref}="(.*)"', test):
            ok = isinstance(value, str) and value.lower() == equal.group(1)
        else:
            raise AssertionError(f"the test helper can't read {test!r}")
        if not ok:
            return False
    return True


def xml_of(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


def expected_band(score: float) -> str:
    return RED if score < 50 else AMBER if score < 80 else GREEN


# -- sheets


def test_a_run_gives_summary_then_succeeded_failed_unprocessed(run_book: Written) -> None:
    assert run_book.book.sheetnames == ["Summary", "Succeeded", "Failed", "Unprocessed"]
    assert run_book.path == run_book.folder.path / "results.xlsx"


def test_validate_gives_a_valid_sheet(validate_book: Written) -> None:
    assert validate_book.book.sheetnames == ["Summary", "Valid", "Failed"]


def test_sync_adds_skipped_and_changes_sheets(sync_book: Written) -> None:
    assert sync_book.book.sheetnames == [
        "Summary", "Succeeded", "Failed", "Unprocessed", "Skipped", "Changes",
    ]  # fmt: skip
    assert [c.value for c in column(sync_book.sheet("Skipped"), "reason")] == ["unchanged"] * 2
    assert [c.value for c in column(sync_book.sheet("Changes"), "field")] == ["in_sheet"]


def test_the_workbook_is_private_and_replaces_its_target_leaving_no_temp_file(
    run_book: Written,
) -> None:
    assert stat.S_IMODE(run_book.path.stat().st_mode) == 0o600
    again = write_workbook(run_book.folder)
    assert again == run_book.path
    assert not [p.name for p in run_book.folder.path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("book", ["run_book", "validate_book", "sync_book"])
def test_every_sheet_has_a_frozen_bold_header_a_filter_and_column_widths(
    book: str, request: pytest.FixtureRequest
) -> None:
    found: Written = request.getfixturevalue(book)
    for sheet in found.book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert all(c.font.b for c in sheet[1] if c.value is not None), sheet.title
        assert (sheet.auto_filter.ref or "").startswith("A1:"), sheet.title
        widths = [sheet.column_dimensions[c.column_letter].width for c in header_cells(sheet)]
        assert all(6 <= width <= 60 for width in widths), (sheet.title, widths)


def test_report_filters_cover_the_used_range(run_book: Written) -> None:
    succeeded = run_book.sheet("Succeeded")
    last = get_column_letter(len(SUCCEEDED_COLUMNS))
    assert succeeded.auto_filter.ref == f"A1:{last}{succeeded.max_row}"
    assert run_book.sheet("Unprocessed").auto_filter.ref == "A1:D1"


def test_a_long_column_is_capped_and_a_short_one_fits_its_header(run_book: Written) -> None:
    failed = run_book.sheet("Failed")
    width = {c.value: failed.column_dimensions[c.column_letter].width for c in header_cells(failed)}
    assert width["hint"] == 60
    assert width["attempts"] >= len("attempts") + 2


# -- cells


@pytest.mark.parametrize("book", ["run_book", "validate_book", "sync_book"])
def test_each_sheet_holds_its_report_cell_for_cell(
    book: str, request: pytest.FixtureRequest
) -> None:
    found: Written = request.getfixturevalue(book)
    for report in found.folder.reports():
        sheet = found.sheet(SHEET_TITLES[report])
        expected = [found.folder.header(report), *found.folder.rows(report)]
        shown = [
            ["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)
        ]
        assert shown == expected, report


def test_scores_counts_and_ids_are_numbers_and_the_rest_text(run_book: Written) -> None:
    succeeded = run_book.sheet("Succeeded")
    header = [c.value for c in succeeded[1]]
    for row in succeeded.iter_rows(min_row=2):
        for name, cell in zip(header, row, strict=False):
            if cell.value is None:
                continue
            wanted = "n" if name in NUMBER_COLUMNS else "s"
            assert cell.data_type == wanted, (name, cell.value)
    assert all(isinstance(c.value, int) for c in column(succeeded, "score"))


def test_the_failed_sheet_has_the_hint_in_its_own_column_then_the_input_as_text(
    run_book: Written,
) -> None:
    failed = run_book.sheet("Failed")
    header = [c.value for c in failed[1]]
    assert header == [*FAILED_COLUMNS, *INPUT_HEADER] == run_book.folder.header("failed")
    port = next(c for c in column(failed, "IMAP Port") if c.value == "99999")
    assert port.data_type == "s", "an echoed input cell stays the user's text"
    hints = [c.value for c in column(failed, "hint")]
    assert all(isinstance(h, str) and h.endswith(".") for h in hints)


@pytest.mark.parametrize("book", ["run_book", "validate_book"])
def test_hostile_values_stay_text_and_no_cell_is_a_formula(
    book: str, request: pytest.FixtureRequest
) -> None:
    found: Written = request.getfixturevalue(book)
    types = {c.data_type for sheet in found.book.worksheets for c in cells(sheet)}
    assert types <= {"s", "n"}
    shown = {c.value for sheet in found.book.worksheets for c in cells(sheet)}
    for value in HOSTILE:
        escaped = "'" + value if value[0] in "=+-@" else value
        assert escaped in shown, value
    for name, xml in xml_of(found.path).items():
        assert re.search(r"<f[ >]", xml) is None, name


def test_unescaped_formula_and_error_text_is_still_text(tmp_path: Path) -> None:
    raw = ["=1+1", '=HYPERLINK("http://evil.test")', "@SUM(A1)", "-2+3", "#N/A", "#REF!"]
    folder = make_folder(
        tmp_path,
        {"changes.csv": [["email", "field", "before", "after"], *[[v, v, v, v] for v in raw]]},
    )
    book = written(folder).sheet("Changes")
    values = [c.value for c in column(book, "email")]
    assert values == raw
    assert {c.data_type for c in cells(book)} == {"s"}


def test_control_characters_xml_cannot_hold_are_shown_as_escapes(tmp_path: Path) -> None:
    folder = make_folder(
        tmp_path, {"skipped.csv": [["row", "email", "reason"], ["2", "a\x01b@x.test", "tab\tok"]]}
    )
    sheet = written(folder).sheet("Skipped")
    assert [c.value for c in sheet[2]] == [2, "a\\x01b@x.test", "tab\tok"]


@pytest.mark.parametrize(
    ("cell", "kind"),
    [
        ("7", "n"),
        ("-3", "n"),
        ("81.5", "n"),
        ("007", "s"),
        ("1" * 16, "s"),
        ("1e5", "s"),
        ("'-3", "s"),
        ("٣", "s"),
    ],
)
def test_only_plain_numbers_in_number_columns_become_numbers(
    tmp_path: Path, cell: str, kind: str
) -> None:
    folder = make_folder(
        tmp_path, {"succeeded.csv": [["row", "email", "account_id"], ["2", "a@x.test", cell]]}
    )
    found = column(written(folder).sheet("Succeeded"), "account_id")[0]
    assert (found.data_type, str(found.value)) == (kind, cell)


# -- fills


def test_every_score_cell_of_a_run_gets_the_fill_of_its_band(run_book: Written) -> None:
    succeeded = run_book.sheet("Succeeded")
    for name in SCORED:
        scores = column(succeeded, name)
        assert scores
        for cell in scores:
            assert isinstance(cell.value, int | float)
            assert fill_of(succeeded, cell) == expected_band(cell.value), (name, cell.value)


@pytest.mark.parametrize(
    ("score", "fill"),
    [
        ("0", RED), ("49", RED), ("49.9", RED), ("50", AMBER), ("79", AMBER), ("79.99", AMBER),
        ("80", GREEN), ("100", GREEN), ("", None), ("n/a", None),
    ],
)  # fmt: skip
def test_a_score_is_red_below_50_amber_below_80_and_green_from_80(
    tmp_path: Path, score: str, fill: str | None
) -> None:
    folder = make_folder(
        tmp_path, {"succeeded.csv": [["row", "email", "score"], ["2", "a@x.test", score]]}
    )
    sheet = written(folder).sheet("Succeeded")
    assert fill_of(sheet, sheet["C2"]) == fill


@pytest.mark.parametrize(
    ("flag", "value", "fill"),
    [
        ("spf_valid", "true", GREEN), ("spf_valid", "false", RED),
        ("dkim_valid", "true", GREEN), ("dkim_valid", "false", RED),
        ("dmarc_valid", "true", GREEN), ("dmarc_valid", "false", RED),
        ("alive", "true", GREEN), ("alive", "false", RED),
        ("suspended", "true", RED), ("suspended", "false", None),
        ("imap_issue", "true", RED), ("imap_issue", "false", None),
        ("warming_enabled", "false", None), ("spf_valid", "", None),
    ],
)  # fmt: skip
def test_flags_are_green_when_healthy_and_red_when_not(
    tmp_path: Path, flag: str, value: str, fill: str | None
) -> None:
    folder = make_folder(tmp_path, {"succeeded.csv": [["row", flag], ["2", value]]})
    sheet = written(folder).sheet("Succeeded")
    assert fill_of(sheet, sheet["B2"]) == fill


def test_fill_rules_cover_exactly_the_data_rows_of_their_column(run_book: Written) -> None:
    succeeded = run_book.sheet("Succeeded")
    last = succeeded.max_row
    letters = {c.value: c.column_letter for c in header_cells(succeeded)}
    ranges = {
        str(f.sqref): [colour_of(r) for r in f.rules] for f in succeeded.conditional_formatting
    }
    for name in SCORED:
        assert ranges[f"{letters[name]}2:{letters[name]}{last}"] == [RED, AMBER, GREEN]
    for name in ("spf_valid", "dkim_valid", "dmarc_valid", "alive"):
        assert ranges[f"{letters[name]}2:{letters[name]}{last}"] == [GREEN, RED]
    for name in ("suspended", "imap_issue"):
        assert ranges[f"{letters[name]}2:{letters[name]}{last}"] == [RED]
    assert len(ranges) == len(SCORED) + len(FLAG_FILLS)


def test_an_echoed_input_column_named_like_a_score_stays_uncoloured_text(tmp_path: Path) -> None:
    header = [*FAILED_COLUMNS, "score"]
    row = ["2", "a@x.test", "validation", "invalid_email", "", "bad", "Fix it.", "1", "10"]
    sheet = written(make_folder(tmp_path, {"failed.csv": [header, row]})).sheet("Failed")
    assert (sheet["I2"].value, sheet["I2"].data_type) == ("10", "s")
    assert fill_of(sheet, sheet["I2"]) is None
    assert not list(sheet.conditional_formatting)


def test_an_empty_report_gets_its_header_and_no_fill_rule(run_book: Written) -> None:
    unprocessed = run_book.sheet("Unprocessed")
    assert [c.value for c in unprocessed[1]] == ["row", "email", "reason", "account_id"]
    assert unprocessed.max_row == 1
    assert not list(unprocessed.conditional_formatting)


def test_the_flag_table_names_only_tracked_flags_and_every_report_has_a_title() -> None:
    assert set(FLAG_FILLS) <= set(FLAG_FIELDS)
    assert set(SHEET_TITLES) == set(REPORT_ORDER)


# -- summary


def test_the_summary_lists_the_figures_then_each_error_code_with_count_and_hint(
    run_book: Written,
) -> None:
    rows = list(run_book.sheet("Summary").iter_rows(values_only=True))
    figures = {row[0]: row[1] for row in rows[1 : rows.index((None, None, None))]}
    summary = run_book.folder.summary
    assert figures["succeeded"] == summary["succeeded"] == 6
    assert figures["command"] == "run"
    assert "error_codes" not in figures
    table = rows[rows.index(("error_code", "count", "hint")) + 1 :]
    failed = {r["error_code"]: r["hint"] for r in run_book.folder.records("failed")}
    assert {code: (count, hint) for code, count, hint in table} == {
        code: (n, failed[code]) for code, n in summary["error_codes"].items()
    }
    assert run_book.sheet("Summary").auto_filter.ref == f"A1:B{len(figures) + 1}"


def test_nested_summary_figures_get_dotted_labels(sync_book: Written) -> None:
    labels = [row[0] for row in sync_book.sheet("Summary").iter_rows(values_only=True)]
    assert "listing.accounts" in labels
    assert "plan" not in labels


def test_a_report_longer_than_max_rows_is_cut_with_a_note(tmp_path: Path) -> None:
    rows = [["row", "email", "reason"], *[[str(i), f"u{i}@x.test", "aborted"] for i in range(2, 7)]]
    found = written(make_folder(tmp_path, {"unprocessed.csv": rows}), max_rows=3)
    assert found.sheet("Unprocessed").max_row == 4
    notes = [r[1] for r in found.sheet("Summary").iter_rows(values_only=True) if r[0] == "note"]
    assert notes == [
        "Unprocessed shows the first 3 of 5 rows (Excel's limit): unprocessed.csv holds them all."
    ]


def test_a_cell_longer_than_excel_holds_is_cut_with_a_pointer(tmp_path: Path) -> None:
    rows = [["row", "email", "reason"], ["2", "u@x.test", "\x01" + "x" * 100_000]]
    found = written(make_folder(tmp_path, {"unprocessed.csv": rows}))
    reason = found.sheet("Unprocessed")["C2"].value
    assert isinstance(reason, str)
    assert len(reason) == EXCEL_MAX_CELL_CHARS
    assert reason.startswith("\\x01xxx")
    assert reason.endswith("(cut: the CSV report holds it whole)")


def test_validates_valid_sheet_is_a_preview_pointing_at_valid_csv(tmp_path: Path) -> None:
    shown = PREVIEW_ROWS["valid"]
    rows = [["row", "email"], *[[str(i), f"u{i}@x.test"] for i in range(2, shown + 4)]]
    found = written(make_folder(tmp_path, {"valid.csv": rows}))
    assert found.sheet("Valid").max_row == shown + 1
    notes = [r[1] for r in found.sheet("Summary").iter_rows(values_only=True) if r[0] == "note"]
    assert notes == [
        f"Valid shows the first {shown:,} of {shown + 2:,} rows (a preview):"
        " valid.csv holds them all."
    ]


# -- secrets


def test_no_password_reaches_any_cell_or_any_xml_of_the_workbook(
    tmp_path: Path, sandbox: SandboxProcess
) -> None:
    sheet = tmp_path / "boxes.csv"
    boxes = [*unique_mailboxes(4), Mailbox("port@fleet.test", imap_port="99999"), Mailbox("bad")]
    passwords = write_mailboxes(sheet, boxes)
    result = run_cli(["run", str(sheet), *FAST], tmp_path / "out", url=sandbox.url)
    assert result.code == 1, result.stderr
    found = rendered(result.run_dir)
    assert found.book["Failed"].max_row == 3, "the rows echoing blanked passwords are there"
    values = [str(c.value) for sheet in found.book.worksheets for c in cells(sheet)]
    xml = xml_of(found.path)
    for secret in passwords | {SANDBOX_KEY}:
        assert not any(secret in value for value in values)
        assert not any(secret in text for text in xml.values())


def test_characters_xml_cannot_hold_anywhere_are_shown_as_escapes(tmp_path: Path) -> None:
    rows = [["row", "email", "reason"], ["2", "a\ufffeb@x.test", "x\x1fy"]]
    sheet = written(make_folder(tmp_path, {"skipped.csv": rows})).sheet("Skipped")
    assert [c.value for c in sheet[2]] == [2, "a\\ufffeb@x.test", "x\\x1fy"]


def test_every_part_of_the_package_is_well_formed_xml_with_no_shared_strings(
    run_book: Written,
) -> None:
    parts = xml_of(run_book.path)
    assert "[Content_Types].xml" in parts
    assert "xl/sharedStrings.xml" not in parts  # strings are inline: nothing held in memory
    for name, xml in parts.items():
        ElementTree.fromstring(xml.encode("utf-8"))  # raises on a part that is not XML
        assert name.endswith((".xml", ".rels")), name


def test_a_previews_total_comes_from_the_summary_without_reading_the_rest(
    tmp_path: Path,
) -> None:
    shown = PREVIEW_ROWS["valid"]
    rows = [["row", "email"], *[[str(i), f"u{i}@x.test"] for i in range(2, shown + 4)]]
    folder = make_folder(tmp_path, {"valid.csv": rows})
    (folder / "summary.json").write_text(json.dumps({"command": "validate", "valid": 1_000_000}))
    found = written(folder)
    notes = [r[1] for r in found.sheet("Summary").iter_rows(values_only=True) if r[0] == "note"]
    assert notes == [
        f"Valid shows the first {shown:,} of 1,000,000 rows (a preview): valid.csv holds them all."
    ]
