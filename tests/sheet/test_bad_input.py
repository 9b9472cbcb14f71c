"""Malformed input files through the real command, `validate` and `run` (against a sandbox).

SPEC: an input that can't be read as a table gives exit 65 (66 when it does not exist) and one
sentence on stderr naming the line where one applies; anything readable gives per-row outcomes,
every row in exactly one report. Never a traceback, never a hang, never a secret in the output:
every sheet below carries unique passwords (`pw-<token>-...`), searched for in stdout, stderr and
every byte under --out, whatever the outcome.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import random
import secrets
import sqlite3
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import openpyxl
import pytest

from bulk_onboard.reports.render import render_reports
from tests.support.hygiene import (
    RUN_EXITS,
    RawResult,
    assert_cells_escaped,
    assert_every_row_once,
    assert_failures_explained,
    assert_no_half_made_run_folder,
    assert_no_leak,
    assert_refused_in_one_sentence,
    assert_summary_matches,
    leaks,
    no_traceback,
    validate_and_run,
    write_sheet,
)
from tests.support.sandbox_process import SANDBOX_KEY, SandboxProcess, sandbox_process

HEADER = (
    "Email", "First Name", "Last Name", "IMAP Host", "IMAP Port", "SMTP Host", "SMTP Port",
    "Password",
)  # fmt: skip
TEN_MB = 10 * 1024 * 1024
pytestmark = pytest.mark.timeout(60)


class Secrets:
    """Unique passwords for one test; each holds the test's token, which is what is searched."""

    def __init__(self) -> None:
        self.token = secrets.token_hex(6)
        self.count = 0

    def new(self, suffix: str = "") -> str:
        self.count += 1
        return f"pw-{self.token}-{self.count}{suffix}"

    @property
    def searched(self) -> set[str]:
        # The token alone: whatever a password became (re-decoded, trimmed, cut short), a leak
        # of any of it that is long enough to matter still carries the token.
        return {f"pw-{self.token}", SANDBOX_KEY}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    with sandbox_process() as box:
        yield box


@pytest.fixture
def pw() -> Secrets:
    return Secrets()


def row(n: int, password: str, **cells: str) -> list[str]:
    """The cells of a good row `n`, in HEADER order; `cells` override some (First_Name=...)."""
    values = {
        "Email": f"user{n}@fleet.test",
        "First Name": "Ada",
        "Last Name": f"Row{n}",
        "IMAP Host": "imap.fleet.test",
        "IMAP Port": "993",
        "SMTP Host": "smtp.fleet.test",
        "SMTP Port": "587",
        "Password": password,
    }
    values.update({k.replace("_", " "): v for k, v in cells.items()})
    return [values[h] for h in HEADER]


def csv_line(cells: list[str], sep: str = ",") -> str:
    return sep.join(cells)


def good_lines(pw: Secrets, count: int, sep: str = ",") -> list[str]:
    return [csv_line(row(n, pw.new()), sep) for n in range(2, count + 2)]


def refused(
    results: tuple[RawResult, ...],
    pw: Secrets,
    *mentions: str,
    code: int = 65,
    complete_folders: bool = True,
) -> None:
    """Each result refused the input in one sentence naming `mentions`; nothing leaked.

    `complete_folders=False` skips the check that no half-made run folder is left behind, for
    the inputs that trip the bug test_a_flaw_found_while_reading_rows_leaves_no_half_made_folder
    shows; everything else is still checked for them.
    """
    for result in results:
        sentence = assert_refused_in_one_sentence(result, code)
        for mention in mentions:
            assert mention in sentence, sentence
        assert_no_leak(result, pw.searched)
        if complete_folders:
            assert_no_half_made_run_folder(result.out)


def processed(result: RawResult, pw: Secrets, rows: list[int]) -> None:
    """The input was read: per-row outcomes, each row once, explained, escaped, nothing leaked."""
    no_traceback(result)
    assert result.code in RUN_EXITS, (result.code, result.stderr[-2000:])
    assert_every_row_once(result, rows)
    assert_summary_matches(result, len(rows))
    assert_failures_explained(result)
    assert_cells_escaped(result)
    assert_no_leak(result, pw.searched)


def both_processed(results: tuple[RawResult, RawResult], pw: Secrets, rows: list[int]) -> None:
    for result in results:
        processed(result, pw, rows)


def write_bytes(tmp_path: Path, data: bytes, name: str = "in.csv") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


# Nothing to read


def test_empty_file_is_refused_in_one_sentence(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    target = write_bytes(tmp_path, b"")
    # The one rule: a header row is the least an input needs (0 data rows is a valid table).
    refused(
        validate_and_run(target, tmp_path, url=sandbox.url),
        pw,
        "is empty: it needs at least a header row naming its columns.",
    )


def test_header_only_file_has_no_rows_and_writes_empty_reports(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    target = write_bytes(tmp_path, (",".join(HEADER) + "\r\n").encode())
    checked, ran = validate_and_run(target, tmp_path, url=sandbox.url)
    for result, reports in (
        (checked, ("valid.csv", "failed.csv")),
        (ran, ("succeeded.csv", "failed.csv", "unprocessed.csv")),
    ):
        processed(result, pw, [])
        assert result.code == 0
        for name in reports:
            assert (result.run_dir / name).exists(), name
    summary = json.loads((ran.run_dir / "summary.json").read_text())
    assert summary["api_requests"] == 0
    assert "\n  valid              0\n" in checked.stdout  # a table of 0 rows, said as such


def test_stdin_that_is_empty_is_refused(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    refused(validate_and_run("-", tmp_path, url=sandbox.url), pw, "Standard input is empty")


def test_missing_file_exits_66(sandbox: SandboxProcess, tmp_path: Path, pw: Secrets) -> None:
    target = str(tmp_path / "nope.csv")
    results = validate_and_run(target, tmp_path, url=sandbox.url)
    refused(results, pw, "does not exist", "nope.csv", code=66)


def test_a_directory_is_refused(sandbox: SandboxProcess, tmp_path: Path, pw: Secrets) -> None:
    folder = tmp_path / "sheet.csv"
    folder.mkdir()
    refused(validate_and_run(str(folder), tmp_path, url=sandbox.url), pw, "is a directory")


# Not text at all


def test_binary_junk_is_refused_in_one_sentence(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    target = write_bytes(tmp_path, random.Random(7).randbytes(20_000))
    refused(validate_and_run(target, tmp_path, url=sandbox.url), pw, "in.csv", "not a text")


def test_a_nul_byte_fails_its_row_naming_the_cell_and_the_rest_go_on(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    lines = [",".join(HEADER), *good_lines(pw, 3)]
    lines[2] = lines[2].replace("Ada", "A\x00da")
    target = write_bytes(tmp_path, "\n".join(lines).encode() + b"\n")
    results = validate_and_run(target, tmp_path, url=sandbox.url)
    both_processed(results, pw, [2, 3, 4])
    for result in results:
        [failed] = result.report("failed.csv")
        assert (failed["row"], failed["error_code"]) == ("3", "invalid_value")
        assert failed["message"].startswith("'First Name' contains a NUL byte")
    assert [r["row"] for r in results[1].report("succeeded.csv")] == ["2", "4"]


# Broken structure


def test_a_row_with_a_value_past_the_header_fails_alone(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    lines = [",".join(HEADER), *good_lines(pw, 4)]
    lines[3] += ",surplus"
    target = write_bytes(tmp_path, ("\n".join(lines) + "\n").encode())
    results = validate_and_run(target, tmp_path, url=sandbox.url)
    both_processed(results, pw, [2, 3, 4, 5])
    for result in results:
        [failed] = result.report("failed.csv")
        assert (failed["row"], failed["stage"], failed["error_code"]) == (
            "4",
            "input",
            "invalid_row",
        )
        assert "a value in cell 9, past the header's 8" in failed["message"]
    assert [r["row"] for r in results[1].report("succeeded.csv")] == ["2", "3", "5"]


def test_an_unquoted_comma_that_moves_a_password_under_another_header_does_not_leak_it(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    # "Lee, Jr" unquoted: every cell after it moves one place right, so row 3's password lands
    # under IMAP Host and its IMAP Host under the password's own column; a note follows.
    header = "Email,First Name,Last Name,Password,IMAP Host,IMAP Port,SMTP Host,SMTP Port,Notes"
    servers = "imap.fleet.test,993,smtp.fleet.test,587"
    passwords = [pw.new("!x"), pw.new("#y"), pw.new("-z")]
    lines = [
        header,
        f"ann@fleet.test,Ann,Lee,{passwords[0]},{servers},first",
        f"bob@fleet.test,Bob,Lee, Jr,{passwords[1]},{servers},second",
        f"cy@fleet.test,Cy,Lee,{passwords[2]},{servers},third",
    ]
    target = write_bytes(tmp_path, ("\n".join(lines) + "\n").encode())
    results = validate_and_run(target, tmp_path, url=sandbox.url)
    both_processed(results, pw, [2, 3, 4])  # searches every output for every password
    for result in results:
        [failed] = result.report("failed.csv")
        assert (failed["row"], failed["error_code"]) == ("3", "invalid_row")
        # What is left of the shift is echoed; from the password's column on, nothing is.
        assert (failed["First Name"], failed["Last Name"]) == ("Bob", "Lee")
        assert {failed[h] for h in header.split(",")[3:]} == {""}


def test_passwords_in_the_wrong_column_or_in_another_form_do_not_leak(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    header = ["Email", "First Name", "Last Name", "IMAP Host", "SMTP Host", "IMAP Port",
              "IMAP Username", "Password", "Notes"]  # fmt: skip
    servers = ["Ann", "Lee", "imap.fleet.test", "smtp.fleet.test"]
    app = "qvzt hwmk pfyr dnlo"  # a Gmail app password as Google shows it (no token: checked below)
    both, alone, swapped, upper, moved = (pw.new() for _ in range(5))
    rows = [
        # A seller's `email:password` in the Email column, the password also in its own.
        [f"a@fleet.test:{both}", *servers, "993", "", both, ""],
        # The same with a space, and no Password column filled.
        [f"b@fleet.test {alone}", *servers, "993", "", "", ""],
        # Username and password swapped: the password sits in IMAP Username.
        ["c@fleet.test", *servers, "993", swapped, "c@fleet.test", ""],
        # Email and password swapped.
        [moved, *servers, "993", "", "e@fleet.test", ""],
        # A note repeating the row's password in another case, on a row failing for its port.
        ["d@fleet.test", *servers, "99a", "", upper, f"pw is {upper.upper()}"],
        # A note repeating the app password with spaces, on a row failing for its port.
        ["f@fleet.test", *servers, "99a", "", "".join(app.split()), f"app pw {app.upper()}"],
    ]
    numbers = write_sheet(tmp_path / "in.csv", header, rows)
    results = validate_and_run(str(tmp_path / "in.csv"), tmp_path, url=sandbox.url)
    both_processed(results, pw, numbers)  # every output searched for every password
    for result in results:
        failed = {int(r["row"]): r for r in result.report("failed.csv")}
        assert sorted(failed) == numbers
        assert [failed[n]["email"] for n in numbers[:2]] == ["a@fleet.test", "b@fleet.test"]
        assert "holds more than the address" in failed[numbers[0]]["message"]
        assert "look swapped" in failed[numbers[2]]["message"]
        assert failed[numbers[3]]["email"] == ""
        assert "look swapped" in failed[numbers[3]]["message"]
        # Leaks in another case or spacing, which the byte search above would not see.
        assert [failed[n]["Notes"] for n in numbers[4:]] == ["", ""]


def test_a_password_in_a_name_or_username_column_fails_the_row_and_is_sent_nowhere(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    header = ["Email", "Name", "Username", "IMAP Host", "SMTP Host", "Password", "Notes"]
    servers = ["imap.fleet.test", "smtp.fleet.test"]
    as_name, in_name, as_username = pw.new(), pw.new(), pw.new()
    rows = [
        # Columns shifted by one: the password is the sender's name too.
        ["a@fleet.test", as_name, "", *servers, as_name, ""],
        ["b@fleet.test", f"Bob {in_name}", "", *servers, in_name, ""],
        # The username pasted from the password column.
        ["c@fleet.test", "Cy Lee", as_username, *servers, as_username, ""],
        # A password under 6 characters, as a word of a note, on a row failing for its email.
        ["d@@fleet.test", "Di Lee", "", *servers, "Zq7!", "pw: Zq7! (temp)"],
    ]
    numbers = write_sheet(tmp_path / "in.csv", header, rows)
    before = len(sandbox.imap_auth())
    results = validate_and_run(str(tmp_path / "in.csv"), tmp_path, url=sandbox.url)
    both_processed(results, pw, numbers)  # every output searched for every password
    assert sandbox.imap_auth()[before:] == []  # none of these rows was sent
    for result in results:
        failed = {int(r["row"]): r for r in result.report("failed.csv")}
        assert sorted(failed) == numbers
        assert [failed[n]["error_code"] for n in numbers] == [
            "invalid_value", "invalid_value", "invalid_value", "invalid_email"
        ]  # fmt: skip
        assert all("holds the row's password" in failed[n]["message"] for n in numbers[:3])
        # The short password: too short for the byte search, so read where it would be.
        assert failed[numbers[3]]["Notes"] == ""


def test_a_row_far_wider_than_the_header_is_refused_naming_its_line(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    lines = [",".join(HEADER), *good_lines(pw, 4)]
    lines[3] += ",surplus" * 100
    target = write_bytes(tmp_path, ("\n".join(lines) + "\n").encode())
    refused(validate_and_run(target, tmp_path, url=sandbox.url), pw, "Line 4", "108 cells")


def test_a_row_with_too_few_cells_is_padded_and_fails_on_its_own(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    lines = [",".join(HEADER), *good_lines(pw, 3)]
    lines[2] = ",".join(lines[2].split(",")[:5])  # no SMTP host, port or password
    target = write_bytes(tmp_path, ("\n".join(lines) + "\n").encode())
    results = validate_and_run(target, tmp_path, url=sandbox.url)
    both_processed(results, pw, [2, 3, 4])
    for result in results:
        failed = result.report("failed.csv")
        assert [(r["row"], r["error_code"]) for r in failed] == [("3", "missing_field")]
        assert failed[0]["SMTP Host"] == ""
    assert [r["row"] for r in results[1].report("succeeded.csv")] == ["2", "4"]


def test_an_unterminated_quote_is_refused_naming_the_line_it_opens(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    lines = [",".join(HEADER), *good_lines(pw, 4)]
    lines[2] = lines[2].replace(",Ada,", ',"Ada,')
    target = write_bytes(tmp_path, ("\n".join(lines) + "\n").encode())
    refused(validate_and_run(target, tmp_path, url=sandbox.url), pw, "Line 3", "quoted cell")


def _far_down(pw: Secrets, surplus: str = ",surplus" * 100) -> bytes:
    """3,000 good rows but for line 2502, which has far too many cells: past the first chunk."""
    lines = [",".join(HEADER), *good_lines(pw, 3000)]
    lines[2501] += surplus
    return ("\n".join(lines) + "\n").encode()


def test_a_flaw_past_the_first_chunk_is_refused_naming_its_line(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    target = write_bytes(tmp_path, _far_down(pw))
    for result in validate_and_run(target, tmp_path, url=sandbox.url):
        sentence = assert_refused_in_one_sentence(result)
        assert "Line 2502" in sentence
        assert_no_leak(result, pw.searched)


def test_a_value_past_the_header_far_down_fails_its_row_and_no_row_twice(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    target = write_bytes(tmp_path, _far_down(pw, surplus=",,note"))
    results = validate_and_run(target, tmp_path, url=sandbox.url)
    both_processed(results, pw, list(range(2, 3002)))
    for result in results:
        assert [(r["row"], r["error_code"]) for r in result.report("failed.csv")] == [
            ("2502", "invalid_row")
        ]


def _note_beside_the_table(tmp_path: Path, pw: Secrets) -> str:
    """A workbook with a note typed in a column that has no header, on its third row."""
    path = _workbook(tmp_path / "in.xlsx", [list(HEADER), row(2, pw.new()), row(3, pw.new())])
    book = openpyxl.load_workbook(path)
    assert book.active is not None
    book.active["K3"] = "a note"
    book.save(path)
    return str(path)


def test_a_flaw_found_while_reading_rows_leaves_no_half_made_folder(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    target = write_bytes(tmp_path, _far_down(pw))
    for result in validate_and_run(target, tmp_path, url=sandbox.url):
        assert result.code == 65
        assert_no_half_made_run_folder(result.out)


def test_xlsx_value_without_a_header_fails_its_row_naming_its_cell(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    target = _note_beside_the_table(tmp_path, pw)
    results = validate_and_run(target, tmp_path, url=sandbox.url)
    both_processed(results, pw, [2, 3])
    for result in results:
        [failed] = result.report("failed.csv")
        assert (failed["row"], failed["error_code"]) == ("3", "invalid_row")
        assert "a value in column K, which has no header" in failed["message"]


# Big, wide and repeated


def test_ten_megabyte_cells_are_read_and_settle_per_row(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    """A 10 MB note, a 10 MB name and a 10 MB password: each row settles on its own."""
    big_password = pw.new("-" + "Z" * TEN_MB)
    header = [*HEADER, "Notes"]
    rows = [
        [*row(2, pw.new()), "N" * TEN_MB],
        [*row(3, pw.new(), First_Name="Y" * TEN_MB), "short"],
        [*row(4, big_password), "short"],
        [*row(5, pw.new()), "short"],
    ]
    numbers = write_sheet(tmp_path / "in.csv", header, rows)
    checked, ran = validate_and_run(str(tmp_path / "in.csv"), tmp_path, url=sandbox.url)
    both_processed((checked, ran), pw, numbers)
    for result in (checked, ran):
        assert_no_leak(result, {"Z" * 1000})
    failed = {r["row"]: r for r in ran.report("failed.csv")}
    # The API refuses the oversized bodies as a row failure, not as the end of the run.
    assert set(failed) <= {"3", "4"}
    assert {"2", "5"} <= {r["row"] for r in ran.report("succeeded.csv")}


def test_two_hundred_columns_are_kept_and_echoed(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    extras = [f"Extra {i}" for i in range(200 - len(HEADER))]
    header = [*HEADER, *extras]
    rows = [
        [*row(2, pw.new()), *(f"v{i}" for i in range(len(extras)))],
        [*row(3, pw.new(), Email="not-an-email"), *(f"w{i}" for i in range(len(extras)))],
    ]
    numbers = write_sheet(tmp_path / "in.csv", header, rows)
    results = validate_and_run(str(tmp_path / "in.csv"), tmp_path, url=sandbox.url)
    both_processed(results, pw, numbers)
    for result in results:
        (failed,) = result.report("failed.csv")
        assert failed["row"] == "3"
        assert [failed[h] for h in extras] == [f"w{i}" for i in range(len(extras))]
        assert failed["Password"] == ""


def test_two_email_columns_are_refused_naming_both(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    header = ["Email", "First Name", "IMAP Host", "SMTP Host", "Email", "Password"]
    cells = ["a@fleet.test", "Ada", "imap.fleet.test", "smtp.fleet.test", "b@fleet.test"]
    write_sheet(tmp_path / "in.csv", header, [[*cells, pw.new()]])
    results = validate_and_run(str(tmp_path / "in.csv"), tmp_path, url=sandbox.url)
    refused(results, pw, "'Email' in column 1 (A)", "'Email' in column 5 (E)")


def test_repeated_unknown_columns_are_all_kept_and_secret_ones_blanked(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    header = [*HEADER, "Notes", "Notes", "Backup Password", "Backup Password", "", ""]
    rows = [
        [*row(2, pw.new()), "n1", "n2", pw.new(), pw.new(), "e1", "e2"],
        [*row(3, pw.new(), IMAP_Port="99999"), "m1", "m2", pw.new(), pw.new(), "f1", "f2"],
    ]
    numbers = write_sheet(tmp_path / "in.csv", header, rows)
    results = validate_and_run(str(tmp_path / "in.csv"), tmp_path, url=sandbox.url)
    both_processed(results, pw, numbers)
    for result in results:
        (failed,) = result.report("failed.csv")
        assert failed["error_code"] == "invalid_port"
        echoed = [v for k, v in failed.items() if k not in ("message", "hint")]
        assert {"m1", "m2"} <= set(echoed)
        # A column with no header may be a password's whose header was left out: blanked.
        assert not {"f1", "f2"} & set(echoed)


# Layouts that must just work


def test_bom_and_excel_sep_line_are_honoured(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    lines = ["sep=;", ";".join(HEADER), *good_lines(pw, 2, sep=";")]
    target = write_bytes(tmp_path, b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    checked, ran = validate_and_run(target, tmp_path, url=sandbox.url)
    both_processed((checked, ran), pw, [2, 3])
    assert checked.code == ran.code == 0, ran.stderr
    assert [r["email"] for r in ran.report("succeeded.csv")] == [
        "user2@fleet.test",
        "user3@fleet.test",
    ]


def test_cr_only_line_endings_read_and_blank_lines_keep_their_row_number(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    """Old Mac Excel's CR-only file (CRLF is read by the BOM + sep= test above)."""
    lines = [",".join(HEADER), *(csv_line(row(n, pw.new())) for n in (2, 3)), ""]
    lines += [csv_line(row(n, pw.new())) for n in (5, 6)]
    text = "".join(line + "\r" for line in lines)
    # A quoted cell holding each kind of line break stays one cell of one row.
    text = text.replace("Row5", '"Row\r\nfive\rand\nmore"')
    target = write_bytes(tmp_path, text.encode())
    checked, ran = validate_and_run(target, tmp_path, url=sandbox.url)
    both_processed((checked, ran), pw, [2, 3, 5, 6])
    assert ran.code == 0, ran.stderr
    (multi,) = [r for r in checked.report("valid.csv") if r["row"] == "5"]
    assert multi["last_name"] == "Row\r\nfive\rand\nmore"


def test_mixed_utf8_and_cp1252_bytes_are_read_with_a_warning_naming_the_line(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    head = ",".join(HEADER).encode()
    utf8 = ",".join(row(2, pw.new("-ä"), First_Name="René")).encode("utf-8")
    cp1252 = ",".join(row(3, pw.new("-ä"), First_Name="René")).encode("cp1252")
    target = write_bytes(tmp_path, b"\r\n".join([head, utf8, cp1252]) + b"\r\n")
    checked, ran = validate_and_run(target, tmp_path, url=sandbox.url)
    both_processed((checked, ran), pw, [2, 3])
    for result in (checked, ran):
        assert "line 3" in result.stderr
        assert "Windows-1252" in result.stderr
    names = {r["row"]: r["first_name"] for r in checked.report("valid.csv")}
    assert names["3"] == "René"  # the cp1252 row reads right; the UTF-8 row is the mojibake


# Workbooks


def _workbook(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for values in rows:
        sheet.append(list(values))
    book.save(path)
    return path


def test_xlsx_with_junk_cells_settles_row_by_row(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    header: list[object] = [*HEADER, None, 42, datetime.date(2024, 1, 1)]
    rows: list[list[object]] = [
        header,
        ["a@fleet.test", "Ada", "B", "imap.fleet.test", 993, "smtp.fleet.test", 587.0, pw.new()],
        ["b@fleet.test", True, datetime.datetime(2024, 1, 2, 3, 4), "imap.fleet.test", 993.5,
         "smtp.fleet.test", 1e100, pw.new()],
        ["c@fleet.test", "=1/0", "#DIV/0!", "imap.fleet.test", -5, "smtp.fleet.test", 0,
         pw.new()],
        [],
        ["d@fleet.test", "x" * 32_767, "B", "imap.fleet.test", "993", "smtp.fleet.test", "587",
         pw.new()],
        [datetime.time(1, 2), "A", "B", "imap.fleet.test", 993, "smtp.fleet.test", 587, pw.new()],
        ["e@fleet.test", "A", "B", "imap.fleet.test", 993, "smtp.fleet.test", 587,
         10**15 + secrets.randbelow(10**15)],
    ]  # fmt: skip
    path = _workbook(tmp_path / "in.xlsx", rows)
    numeric_password = str(rows[-1][-1])
    checked, ran = validate_and_run(str(path), tmp_path, url=sandbox.url)
    both_processed((checked, ran), pw, [2, 3, 4, 6, 7, 8])
    for result in (checked, ran):
        assert_no_leak(result, {numeric_password})
        failed = {r["row"]: r["error_code"] for r in result.report("failed.csv")}
        assert failed["3"] == failed["4"] == "invalid_port"
        assert failed["7"] == "invalid_email"


def _entity_bomb(workbook: bytes) -> bytes:
    """The workbook with "billion laughs" in its sheet: 10**9 characters from 1 KB of XML."""
    entities = '<!ENTITY lol0 "lollollollollollollollollollol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    )
    cell = '<row r="9"><c r="A9" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
    source = zipfile.ZipFile(io.BytesIO(workbook))
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode().replace("</sheetData>", cell + "</sheetData>")
                head, xml_declaration, rest = text.rpartition("?>")
                data = f"{head}{xml_declaration}<!DOCTYPE worksheet [{entities}]>{rest}".encode()
            target.writestr(item, data)
    return bomb.getvalue()


@pytest.mark.parametrize("kind", ["truncated", "entity-bomb"])
def test_file_named_xlsx_that_is_not_a_workbook_is_refused(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets, kind: str
) -> None:
    whole = _workbook(tmp_path / "whole.xlsx", [list(HEADER), row(2, pw.new())]).read_bytes()
    data = {
        "truncated": whole[: len(whole) // 2],
        "entity-bomb": _entity_bomb(whole),
    }[kind]
    target = write_bytes(tmp_path, data, name="in.xlsx")
    results = validate_and_run(target, tmp_path, url=sandbox.url)
    # The bomb goes off while rows are read, after the run folder is made (see the bug test).
    complete = kind != "entity-bomb"
    refused(results, pw, "not a readable .xlsx", complete_folders=complete)


MIB = 1024**2
SHEET_XML = "xl/worksheets/sheet1.xml"
SHARED_STRINGS_XML = "xl/sharedStrings.xml"
ADA = b'<c r="B2" t="inlineStr"><is><t>Ada</t></is></c>'  # row 2's First Name, as openpyxl wrote it
# What makes a workbook read xl/sharedStrings.xml (openpyxl writes inline strings instead).
SHARED_STRINGS_LINKS = {
    "[Content_Types].xml": (
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
        b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    ),
    "xl/_rels/workbook.xml.rels": (
        b"</Relationships>",
        b'<Relationship Id="rIdStrings" Target="sharedStrings.xml" Type="http://schemas.'
        b'openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/></Relationships>',
    ),
    SHEET_XML: (ADA, b'<c r="B2" t="s"><v>0</v></c>'),
}


def _rebuilt(workbook: bytes, name: str, parts: Iterator[bytes], links: bool = False) -> bytes:
    """The workbook with part `name` (added if missing) made of `parts`, streamed into the zip at
    the fastest compression, as a bomb is: a few MB on disk however big it unpacks. `links`
    points row 2's First Name at the first shared string."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    rebuilt = io.BytesIO()
    with zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for item in source.infolist():
            if item.filename != name:
                data = source.read(item.filename)
                if links and item.filename in SHARED_STRINGS_LINKS:
                    old, new = SHARED_STRINGS_LINKS[item.filename]
                    assert old in data
                    data = data.replace(old, new)
                target.writestr(item, data)
        with target.open(name, "w", force_zip64=True) as part:
            for piece in parts:
                part.write(piece)
    return rebuilt.getvalue()


def _shared_strings(*inside: bytes | Iterator[bytes]) -> Iterator[bytes]:
    """sharedStrings.xml holding one string, made of `inside`."""
    yield b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/'
    yield b'spreadsheetml/2006/main" count="1" uniqueCount="1"><si>'
    for piece in inside:
        yield from [piece] if isinstance(piece, bytes) else piece
    yield b"</si></sst>"


def _repeated(piece: bytes, total: int) -> Iterator[bytes]:
    block = piece * max(1, MIB // len(piece))
    for _ in range(total // len(block)):
        yield block


BOMBS: dict[str, tuple[str, Callable[[], Iterator[bytes]], str]] = {
    # Caught by the sizes the zip declares, before anything is unpacked.
    "300 MiB shared string": (
        SHARED_STRINGS_XML,
        lambda: _shared_strings(b"<t>", _repeated(b"a", 300 * MIB), b"</t>"),
        "more than the 256 MiB",
    ),
    "65 MiB styles": (
        "xl/styles.xml",
        lambda: iter([b"<styleSheet>", *_repeated(b" ", 65 * MIB), b"</styleSheet>"]),
        "more than the 64 MiB",
    ),
    # Caught while the text is streamed through, a MiB at a time.
    "a 1 MB text": (
        SHARED_STRINGS_XML,
        lambda: _shared_strings(b"<t>", b"a" * MIB, b"</t>"),
        "longer than a spreadsheet cell",
    ),
    "20 MiB of formatting runs": (
        SHARED_STRINGS_XML,
        lambda: _shared_strings(_repeated(b"<r><t>" + b"a" * 1000 + b"</t></r>", 20 * MIB)),
        "longer than a spreadsheet cell",
    ),
}


def test_a_workbook_reading_its_shared_strings_is_read(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    """The control of the bombs below: built the same way, with a sane shared string."""
    whole = _workbook(tmp_path / "whole.xlsx", [list(HEADER), row(2, pw.new())]).read_bytes()
    data = _rebuilt(whole, SHARED_STRINGS_XML, _shared_strings(b"<t>Grace</t>"), links=True)
    target = write_bytes(tmp_path, data, name="in.xlsx")
    checked, ran = validate_and_run(target, tmp_path, url=sandbox.url)
    both_processed((checked, ran), pw, [2])
    assert checked.report("valid.csv")[0]["first_name"] == "Grace"


@pytest.mark.parametrize("bomb", list(BOMBS))
def test_an_xlsx_that_would_unpack_past_a_cap_is_refused_before_it_is_read(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets, bomb: str
) -> None:
    name, parts, mention = BOMBS[bomb]
    whole = _workbook(tmp_path / "whole.xlsx", [list(HEADER), row(2, pw.new())]).read_bytes()
    data = _rebuilt(whole, name, parts(), links=name == SHARED_STRINGS_XML)
    assert len(data) < 4 * MIB
    target = write_bytes(tmp_path, data, name="in.xlsx")
    refused(validate_and_run(target, tmp_path, url=sandbox.url), pw, mention)


def test_an_xlsx_cell_longer_than_a_spreadsheet_cell_is_refused_naming_it(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    whole = _workbook(tmp_path / "whole.xlsx", [list(HEADER), row(2, pw.new())])
    sheet = zipfile.ZipFile(whole).read(SHEET_XML)
    long_name = ADA.replace(b"Ada", b"x" * 32_768)
    data = _rebuilt(whole.read_bytes(), SHEET_XML, iter([sheet.replace(ADA, long_name)]))
    target = write_bytes(tmp_path, data, name="in.xlsx")
    refused(validate_and_run(target, tmp_path, url=sandbox.url), pw, "Row 2", "column B")


# Secrets in files that are not what they seem


def test_a_sheet_without_a_header_row_is_refused_without_echoing_its_first_row(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    target = write_bytes(tmp_path, ("\n".join(good_lines(pw, 3)) + "\n").encode())
    for result in validate_and_run(target, tmp_path, url=sandbox.url):
        assert_refused_in_one_sentence(result)
        assert "No email column" in result.stderr
        assert_no_leak(result, pw.searched)


def test_password_columns_spelled_pw_are_blanked_in_reports(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    header = ["Email", "First Name", "IMAP Host", "SMTP Host", "PW", "SMTP PW", "IMAP PW"]
    cells = ["not-an-email", "Ada", "imap.fleet.test", "smtp.fleet.test"]
    write_sheet(tmp_path / "in.csv", header, [[*cells, pw.new(), pw.new(), pw.new()]])
    checked, ran = validate_and_run(str(tmp_path / "in.csv"), tmp_path, url=sandbox.url)
    for result in (checked, ran):
        processed(result, pw, [2])


def test_secret_columns_in_other_languages_or_words_and_copies_of_a_password_are_blanked(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    header = [
        "Email", "First Name", "IMAP Host", "SMTP Host", "Password",
        "Пароль", "密码", "Credentials", "IMAP Pword", "Backup Login",
    ]  # fmt: skip
    rows = []
    for email in ("not-an-email", "also@not@valid"):
        password = pw.new()
        cells = [email, "Ada", "imap.fleet.test", "smtp.fleet.test", password]
        rows.append([*cells, pw.new(), pw.new(), f"ada:{pw.new()}", pw.new(), password])
    write_sheet(tmp_path / "in.csv", header, rows)
    for result in validate_and_run(str(tmp_path / "in.csv"), tmp_path, url=sandbox.url):
        processed(result, pw, [2, 3])
        assert len(result.report("failed.csv")) == 2


def test_failed_csv_names_each_column_once_when_the_input_reuses_report_names(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    header = ["email", "row", "message", "IMAP Host", "SMTP Host", "Password"]
    cells = ["not-an-email", "17", "hello", "imap.fleet.test", "smtp.fleet.test", pw.new()]
    write_sheet(tmp_path / "in.csv", header, [cells])
    for result in validate_and_run(str(tmp_path / "in.csv"), tmp_path, url=sandbox.url):
        names = (result.run_dir / "failed.csv").read_text().splitlines()[0].split(",")
        assert len(names) == len(set(names)), names
        processed(result, pw, [2])


def test_a_ten_megabyte_header_cell_is_not_echoed_whole(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    text = "H" * TEN_MB + ",Password\nx," + pw.new() + "\n"
    target = write_bytes(tmp_path, text.encode())
    for result in validate_and_run(target, tmp_path, url=sandbox.url):
        sentence = assert_refused_in_one_sentence(result)
        assert "No email column" in sentence
        assert len(result.stderr) < 2000


def test_empty_cells_past_the_header_are_dropped_as_in_a_workbook(
    sandbox: SandboxProcess, tmp_path: Path, pw: Secrets
) -> None:
    lines = [",".join(HEADER), *(line + "," for line in good_lines(pw, 3))]
    target = write_bytes(tmp_path, ("\r\n".join(lines) + "\r\n").encode())
    both_processed(validate_and_run(target, tmp_path, url=sandbox.url), pw, [2, 3, 4])


def test_the_secret_search_finds_a_password_in_every_form_it_could_leak_in(tmp_path: Path) -> None:
    """The no-secret checks above are only as good as this search: plant secrets, find them."""
    secret = 'pw-"quoted"-ä\x07'
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.json").write_text(json.dumps({"x": secret}))
    (out / "b.csv").write_text('row,x\n2,"' + secret.replace('"', '""') + '"\n')
    (out / "c.log").write_text(repr(secret))
    journal = sqlite3.connect(out / "journal.sqlite")
    journal.execute("CREATE TABLE t (v TEXT)")
    journal.execute("INSERT INTO t VALUES (?)", (json.dumps({"x": secret}),))
    journal.commit()
    journal.close()
    run_dir = out / "run"  # the reports people open, rendered from a failed.csv holding it
    run_dir.mkdir()
    header = ["row", "email", "stage", "error_code", "message"]
    (run_dir / "failed.csv").write_text(f"{','.join(header)}\n2,a@x.test,api,rejected,b\n")
    (run_dir / "summary.json").write_text(json.dumps({"failed": 1, "error_codes": {"x": 1}}))
    with (run_dir / "failed.csv").open("a", newline="") as handle:
        csv.writer(handle).writerow(["3", "b@x.test", "api", "x", secret])
    render_reports(run_dir)
    result = RawResult(0, "", "", out, b"", secret.encode())
    assert sorted(leaks(result, {secret})) == sorted(
        f"secret #0 ({len(secret)} chars) in {where}"
        for where in (
            "stderr", "a.json", "b.csv", "c.log", "journal.sqlite", "run/failed.csv",
            "run/report.html", "run/results.xlsx!xl/worksheets/sheet2.xml",
        )
    )  # fmt: skip
