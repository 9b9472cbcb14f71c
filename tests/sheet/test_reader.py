"""The reader: CSV/TSV/TXT, .xlsx and stdin become a header and chunks of raw rows."""

from __future__ import annotations

import datetime
import hashlib
import io
import os
import tracemalloc
import zipfile
from collections.abc import Generator
from pathlib import Path

import openpyxl
import pytest

from bulk_onboard.errors import InputError, InputMissingError, UsageError
from bulk_onboard.sheet.aliases import header_below_notes
from bulk_onboard.sheet.columns import ColumnMap
from bulk_onboard.sheet.reader import open_table
from bulk_onboard.sheet.table import RawRow, Table, empty_input, stray_value

SECRET = "Hunter2-Secret"


def write(tmp_path: Path, data: bytes | str, name: str = "input.csv") -> str:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(path)


def rows_of(table: Table) -> list[RawRow]:
    return [row for chunk in table.chunks for row in chunk]


def cells_of(table: Table) -> list[tuple[str, ...]]:
    return [row.cells for row in rows_of(table)]


def workbook(tmp_path: Path, sheets: dict[str, list[list[object]]], name: str = "in.xlsx") -> str:
    book = openpyxl.Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = tmp_path / name
    book.save(path)
    return str(path)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


needs_proc = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts fds in /proc")


# Delimiters


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    text = "\n".join(delimiter.join(row) for row in [["email", "name"], ["a@x.io", "Ann"]])
    table = open_table(write(tmp_path, text + "\n"))
    assert table.source.delimiter == delimiter
    assert table.headers == ("email", "name")
    assert cells_of(table) == [("a@x.io", "Ann")]


def test_semicolon_export_with_decimal_commas_is_sniffed_as_semicolon(tmp_path: Path) -> None:
    text = "email;name;limit\na@x.io;Smith, Ann;1,5\nb@x.io;Doe, Bo;2,5\n"
    table = open_table(write(tmp_path, text))
    assert table.source.delimiter == ";"
    assert cells_of(table) == [("a@x.io", "Smith, Ann", "1,5"), ("b@x.io", "Doe, Bo", "2,5")]


def test_delimiters_inside_quotes_do_not_count_when_sniffing(tmp_path: Path) -> None:
    text = 'email|note\na@x.io|"a, b, c; d"\n'
    table = open_table(write(tmp_path, text))
    assert table.source.delimiter == "|"


def test_tsv_extension_prefers_tab_when_ambiguous(tmp_path: Path) -> None:
    text = "a,b\tc\n1,2\t3\n"
    assert open_table(write(tmp_path, text, "in.tsv")).source.delimiter == "\t"
    assert open_table(write(tmp_path, text, "in.csv")).source.delimiter == ","


@pytest.mark.parametrize(("option", "expected"), [(";", ";"), ("tab", "\t"), ("\\t", "\t")])
def test_explicit_delimiter_wins_over_sniffing(tmp_path: Path, option: str, expected: str) -> None:
    text = "a,b;c\td\n1,2;3\t4\n"
    table = open_table(write(tmp_path, text), delimiter=option)
    assert table.source.delimiter == expected


def test_explicit_delimiter_still_skips_the_sep_line(tmp_path: Path) -> None:
    table = open_table(write(tmp_path, "sep=;\nemail|name\na@x.io|Ann\n"), delimiter="|")
    assert table.headers == ("email", "name")
    assert rows_of(table) == [RawRow(2, ("a@x.io", "Ann"))]


@pytest.mark.parametrize(
    ("text", "option", "named"),
    [
        ("Email;Password\na@x.io;pw-1\n", "x", "';'"),
        ("Email;Password\na@x.io;pw-1\n", "tab", "';'"),
        ("E-mail\tPassword\na@x.io\tpw-1\n", ",", "'tab'"),
    ],
)
def test_a_header_read_with_the_wrong_delimiter_names_the_right_one(
    tmp_path: Path, text: str, option: str, named: str
) -> None:
    table = open_table(write(tmp_path, text), delimiter=option)
    with pytest.raises(InputError) as refused:
        ColumnMap.from_headers(table.headers)
    assert str(refused.value).endswith(
        f"The header reads as cells separated by {named}: pass --delimiter {named}, or leave "
        "--delimiter out."
    )
    assert "pw-1" not in str(refused.value)


def test_unusable_delimiter_option_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--delimiter"):
        open_table(write(tmp_path, "a,b\n1,2\n"), delimiter="ab")


def test_sep_line_sets_the_delimiter_and_is_not_a_row(tmp_path: Path) -> None:
    table = open_table(write(tmp_path, "sep=;\nemail,name;x\na@x.io,Ann;1\n"))
    assert table.source.delimiter == ";"
    assert table.headers == ("email,name", "x")
    assert rows_of(table) == [RawRow(2, ("a@x.io,Ann", "1"))]


def test_sep_line_after_a_bom_is_honoured(tmp_path: Path) -> None:
    table = open_table(write(tmp_path, b"\xef\xbb\xbfsep=;\r\nemail;name\r\na@x.io;Ann\r\n"))
    assert table.source.delimiter == ";"
    assert table.headers == ("email", "name")
    assert rows_of(table) == [RawRow(2, ("a@x.io", "Ann"))]


# Encodings


def test_utf8_bom_is_stripped(tmp_path: Path) -> None:
    table = open_table(write(tmp_path, b"\xef\xbb\xbfemail,name\na@x.io,Zo\xc3\xab\n"))
    assert table.source.encoding == "utf-8-sig"
    assert table.headers == ("email", "name")
    assert cells_of(table) == [("a@x.io", "Zoë")]
    assert table.source.warnings == ()


def test_cp1252_file_is_decoded_with_a_warning(tmp_path: Path) -> None:
    table = open_table(write(tmp_path, "email,name\na@x.io,José\n".encode("cp1252")))
    assert table.source.encoding == "cp1252"
    assert cells_of(table) == [("a@x.io", "José")]
    (warning,) = table.source.warnings
    assert "not valid UTF-8" in warning
    assert "Windows-1252 (cp1252)" in warning
    assert "line 2" in warning


def test_utf8_bom_read_as_cp1252_leaves_no_remnant_in_the_header(tmp_path: Path) -> None:
    table = open_table(write(tmp_path, b"\xef\xbb\xbfemail,name\na@x.io,Jos\xe9\n"))
    assert table.source.encoding == "cp1252"
    assert table.headers == ("email", "name")


def test_explicit_encoding_wins(tmp_path: Path) -> None:
    table = open_table(
        write(tmp_path, "email,name\na@x.io,José\n".encode("latin-1")), encoding="latin-1"
    )
    assert table.source.encoding == "iso8859-1"
    assert cells_of(table) == [("a@x.io", "José")]
    assert table.source.warnings == ()


def test_bytes_the_explicit_encoding_cannot_decode_name_their_line(tmp_path: Path) -> None:
    path = write(tmp_path, "email,name\na@x.io,Ann\nb@x.io,José\n")
    with pytest.raises(InputError, match=r"^Line 3 cannot be decoded as ascii"):
        open_table(path, encoding="ascii")


def test_utf16_given_for_a_file_without_its_bom_is_refused_not_a_traceback(
    tmp_path: Path,
) -> None:
    # Python's utf-16 codec raises a bare UnicodeError here, not a UnicodeDecodeError.
    with pytest.raises(InputError, match=r"^Line 1 cannot be decoded as utf-16"):
        open_table(write(tmp_path, "email,name\na@x.io,Ann\n"), encoding="utf-16")


def test_a_file_of_blank_lines_and_a_stray_bom_is_empty(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is empty"):
        open_table(write(tmp_path, b"\n\xef\xbb\xbf"))


def test_unknown_encoding_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="Unknown encoding 'klingon'"):
        open_table(write(tmp_path, "a,b\n1,2\n"), encoding="klingon")


def test_utf16_with_a_bom_is_read(tmp_path: Path) -> None:
    table = open_table(write(tmp_path, "email\tname\r\na@x.io\tAnn\r\n".encode("utf-16")))
    assert table.source.encoding == "utf-16"
    assert table.source.delimiter == "\t"
    assert cells_of(table) == [("a@x.io", "Ann")]


def test_bytes_neither_utf8_nor_cp1252_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is not a text spreadsheet: line 2 "):
        open_table(write(tmp_path, b"email,name\na@x.io,\x81\x8d\x8f\x90\x9d\n"))


def test_binary_junk_is_refused(tmp_path: Path) -> None:
    junk = bytes(range(256)) * 64
    with pytest.raises(InputError, match="is not a text spreadsheet"):
        open_table(write(tmp_path, junk))


def test_workbook_saved_as_csv_is_refused_with_the_fix(tmp_path: Path) -> None:
    xlsx_bytes = Path(workbook(tmp_path, {"S": [["email"], ["a@x.io"]]})).read_bytes()
    with pytest.raises(
        InputError, match=r"ZIP archive, probably an Excel workbook: name it \.xlsx"
    ):
        open_table(write(tmp_path, xlsx_bytes, "mislabelled.csv"))


def test_old_xls_workbook_is_refused_with_the_fix(tmp_path: Path) -> None:
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    with pytest.raises(InputError, match=r"old Excel \.xls"):
        open_table(write(tmp_path, ole2, "old.xls"))


def test_a_nul_byte_in_a_cell_is_read_for_its_row_to_fail(tmp_path: Path) -> None:
    path = write(tmp_path, b'email,note\na@x.io,"two\nlines"\nb@x.io,bad\x00byte\nc@x.io,ok\n')
    assert cells_of(open_table(path)) == [
        ("a@x.io", "two\nlines"), ("b@x.io", "bad\x00byte"), ("c@x.io", "ok")
    ]  # fmt: skip


def test_a_nul_byte_in_the_header_is_dropped(tmp_path: Path) -> None:
    assert open_table(write(tmp_path, b"em\x00ail,note\na@x.io,x\n")).headers == ("email", "note")


def test_a_file_of_many_nul_bytes_is_refused_naming_the_first(tmp_path: Path) -> None:
    # Past the start the binary sniff looks at: a block of zeros in a damaged file.
    good = b"".join(b"u%d@x.io,ok\n" % n for n in range(8000))
    path = write(tmp_path, b"email,note\n" + good + b"b@x.io," + b"\x00" * 4096 + b"\n")
    with pytest.raises(InputError) as caught:
        open_table(path)
    assert str(caught.value) == (
        f"Input file '{path}' is not a text spreadsheet: 4096 of its characters are NUL bytes, "
        "the first on line 8002; export it again as CSV (UTF-8) or .xlsx."
    )


@pytest.mark.parametrize(("codec", "order"), [("utf-16-le", "le"), ("utf-16-be", "be")])
def test_utf16_without_a_bom_is_refused_naming_the_encoding_to_pass(
    tmp_path: Path, codec: str, order: str
) -> None:
    text = "email,name\n" + "".join(f"u{n}@x.io,Name {n}\n" for n in range(50))
    path = write(tmp_path, text.encode(codec))
    with pytest.raises(
        InputError, match=f"saved without a byte order mark: pass --encoding {codec}"
    ):
        open_table(path)
    assert order in codec
    assert cells_of(open_table(path, encoding=codec))[0] == ("u0@x.io", "Name 0")


# Quoting and ragged rows


def test_unterminated_quote_names_the_line_where_it_opens(tmp_path: Path) -> None:
    text = 'email,note\na@x.io,"multi\nline\ncell"\nb@x.io,ok\nc@x.io,"never closed\nd@x.io,x\n'
    with pytest.raises(InputError) as caught:
        open_table(write(tmp_path, text))
    assert str(caught.value) == (
        'Line 6 opens a quoted cell that never closes: add the missing " or remove the stray one.'
    )


def test_unterminated_quote_counts_cr_only_line_breaks(tmp_path: Path) -> None:
    text = 'email,note\ra@x.io,"two\rlines"\rb@x.io,"open\r'
    with pytest.raises(InputError, match=r"^Line 4 opens a quoted cell"):
        open_table(write(tmp_path, text))


def test_a_trailing_delimiter_on_every_row_is_dropped(tmp_path: Path) -> None:
    table = open_table(write(tmp_path, "email,name\r\na@x.io,Ann,\r\nb@x.io,Bo,,\r\n"))
    assert table.headers == ("email", "name")
    assert rows_of(table) == [RawRow(2, ("a@x.io", "Ann")), RawRow(3, ("b@x.io", "Bo"))]


def test_a_value_past_the_header_fails_only_its_row(tmp_path: Path) -> None:
    text = 'email,name\na@x.io,"Ann\nB"\nb@x.io,Bo,,extra\nc@x.io,Cy\n'
    rows = rows_of(open_table(write(tmp_path, text)))
    assert [(row.number, row.cells) for row in rows] == [
        (2, ("a@x.io", "Ann\nB")), (3, ("b@x.io", "Bo")), (4, ("c@x.io", "Cy"))
    ]  # fmt: skip
    assert [row.problem for row in rows] == [None, stray_value("cell 4, past the header's 2",
        "quote the cell that holds the delimiter, or remove the extra cells."), None]  # fmt: skip


def test_wider_rows_in_later_chunks_are_read_without_repeating_a_row(tmp_path: Path) -> None:
    good = "".join(f"u{n}@x.io,N{n}\n" for n in range(20))
    wide = "".join(f"w{n}@x.io,W{n}" + "," * n + "\n" for n in range(1, 30, 7))
    text = "email,name\n" + good + wide + good.replace("u", "v") + "x@x.io,X,,,,,,,,,,,,,,,,,,,z\n"
    rows = rows_of(open_table(write(tmp_path, text), chunk_rows=3))
    assert [row.number for row in rows] == list(range(2, 2 + 20 + 5 + 20 + 1))
    assert {len(row.cells) for row in rows} == {2}
    assert [row.number for row in rows if row.problem is not None] == [47]


def test_a_row_far_wider_than_the_header_is_refused_naming_its_line(tmp_path: Path) -> None:
    good = "".join(f"u{n}@x.io,N{n}\n" for n in range(20))
    text = "email,name\n" + good + "bad@x.io" + ",x" * 100 + "\n"
    table = open_table(write(tmp_path, text), chunk_rows=3)
    with pytest.raises(InputError) as caught:
        rows_of(table)
    assert str(caught.value) == (
        "Line 22 has 101 cells but the header has 2: quote the cell that contains the delimiter,"
        " or remove the extra cell."
    )


def test_unterminated_quote_in_a_later_chunk_is_raised_while_iterating(tmp_path: Path) -> None:
    good = "".join(f'u{n}@x.io,"N\n{n}"\n' for n in range(20))
    table = open_table(write(tmp_path, "email,name\n" + good + 'bad@x.io,"open\n'), chunk_rows=3)
    with pytest.raises(InputError, match=r"^Line 42 opens a quoted cell"):
        rows_of(table)


def test_short_row_is_padded_with_empty_cells(tmp_path: Path) -> None:
    table = open_table(write(tmp_path, "email,name,note\na@x.io\nb@x.io,Bo\n"))
    assert cells_of(table) == [("a@x.io", "", ""), ("b@x.io", "Bo", "")]


def test_quote_inside_an_unquoted_cell_is_a_literal_character(tmp_path: Path) -> None:
    table = open_table(write(tmp_path, 'email,screen\na@x.io,27" wide\n'))
    assert cells_of(table) == [("a@x.io", '27" wide')]


# Values and row numbers


def test_na_like_values_stay_text(tmp_path: Path) -> None:
    table = open_table(write(tmp_path, "a,b,c,d,e,f\nNA,None,007,-,null,\n"))
    assert cells_of(table) == [("NA", "None", "007", "-", "null", "")]


def test_cells_are_not_trimmed(tmp_path: Path) -> None:
    table = open_table(write(tmp_path, "email,name\n a@x.io , Ann \n"))
    assert cells_of(table) == [(" a@x.io ", " Ann ")]


def test_multi_line_cell_is_one_row(tmp_path: Path) -> None:
    text = 'email,note\na@x.io,"line one\r\nline two"\nb@x.io,x\n'
    table = open_table(write(tmp_path, text))
    assert rows_of(table) == [
        RawRow(2, ("a@x.io", "line one\r\nline two")),
        RawRow(3, ("b@x.io", "x")),
    ]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_endings_are_all_understood(tmp_path: Path, newline: str) -> None:
    text = newline.join(["email,name", "a@x.io,Ann", "b@x.io,Bo"]) + newline
    table = open_table(write(tmp_path, text))
    assert rows_of(table) == [RawRow(2, ("a@x.io", "Ann")), RawRow(3, ("b@x.io", "Bo"))]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_blank_lines_are_skipped_but_keep_their_row_number(tmp_path: Path, newline: str) -> None:
    text = newline.join(["email,name", "a@x.io,Ann", "", "  ", ",", "b@x.io,Bo", ""]) + newline
    table = open_table(write(tmp_path, text))
    assert [row.number for row in rows_of(table)] == [2, 6]


def test_blank_lines_above_the_header_count_as_rows(tmp_path: Path) -> None:
    table = open_table(write(tmp_path, "\n\nemail\na@x.io\n"))
    assert table.headers == ("email",)
    assert rows_of(table) == [RawRow(4, ("a@x.io",))]


# A title, a date or a note above the header: exports and hand-made sheets both have them.
TITLED = "Mailbox export,,\ngenerated 2026-12-01,,\n,,\nEmail,Name,Tags\na@x.io,Ann,t\n"


def test_rows_above_a_header_naming_the_email_are_skipped_and_said(tmp_path: Path) -> None:
    table = open_table(write(tmp_path, TITLED))
    assert table.headers == ("Email", "Name", "Tags")
    assert rows_of(table) == [RawRow(5, ("a@x.io", "Ann", "t"))]
    assert table.source.warnings == (
        "The header is on row 4: the 3 rows above it were skipped (none names an email column).",
    )


def test_a_title_row_does_not_decide_the_delimiter(tmp_path: Path) -> None:
    text = "sep=;\nMailboxes, as of today\nEmail;Name\na@x.io;Smith, Ann\n"
    table = open_table(write(tmp_path, text))
    assert table.headers == ("Email", "Name")
    assert rows_of(table) == [RawRow(3, ("a@x.io", "Smith, Ann"))]
    table = open_table(write(tmp_path, "Our boxes\nEmail;Name\na@x.io;Smith, Ann\n"))
    assert (table.source.delimiter, cells_of(table)) == (";", [("a@x.io", "Smith, Ann")])


def test_with_no_row_naming_the_email_the_first_row_stays_the_header(tmp_path: Path) -> None:
    text = "Mailbox,Name\na@x.io,Ann\n" + "".join(f"Email{n},x\n" for n in range(12))
    table = open_table(write(tmp_path, text))
    assert table.headers == ("Mailbox", "Name")
    assert table.source.warnings == ()
    assert rows_of(table)[0] == RawRow(2, ("a@x.io", "Ann"))
    # Only the first rows are looked at: an Email header on row 12 is too far down to be one.
    far = "".join(f"note {n}\n" for n in range(10)) + "Email\na@x.io\n"
    assert open_table(write(tmp_path, far)).headers == ("note 0",)


def test_a_note_naming_columns_is_a_title_under_the_delimiter_given(tmp_path: Path) -> None:
    text = "Onboarding March\nEmail, Password and Name are required\nEmail;Password;Name\n"
    table = open_table(write(tmp_path, text + "a@x.io;pw;Ann\n"), delimiter=";")
    assert table.headers == ("Email", "Password", "Name")
    assert rows_of(table) == [RawRow(4, ("a@x.io", "pw", "Ann"))]


@pytest.mark.parametrize(
    "text",
    [
        # A header of several cells that names no email stays the header, though a data row
        # below holds a word that could name one: that row's cells are no header.
        "Address,Password,Kind\na@x.io,hunter2,Mailbox\nb@x.io,s3cret,Alias\n",
        # A title row holding a quote: where its row ends is not certain, so nothing is skipped.
        'Note: 5" screens\nsee "x\nEmail,Name\nbad1,A\n',
        # A multi-line cell under a first row with no email: no crash while looking for one.
        'Name,Address,Signature\nAnn,a@x.io,"Best,\nAnn"\n',
        # A header of one cell, then data: an address is no title, and a row holding one is
        # no header, though it holds a word naming the email column.
        "Address,,\na@x.io,hunter2,Mailbox\nb@x.io,pw2,Mailbox\n",
        "Address\na@x.io\nb@x.io\nEmail\n",
    ],
)
def test_rows_that_are_no_title_keep_the_first_row_as_the_header(tmp_path: Path, text: str) -> None:
    table = open_table(write(tmp_path, text))
    assert table.headers[0] == text.splitlines()[0].partition(",")[0]
    assert table.source.warnings == ()


def test_a_header_below_a_note_of_two_cells_is_refused_naming_its_row(tmp_path: Path) -> None:
    # The note holds the shared password: the refusal names the header's row, and not the note.
    text = "Password for all mailboxes:,Zq9-SECRET-771\n,,\nEmail,Name,Password\na@x.io,A,p\n"
    with pytest.raises(InputError) as caught:
        open_table(write(tmp_path, text))
    message = str(caught.value)
    assert "row 3 names an email column, but a row above it holds more than a title" in message
    assert "SECRET" not in message


@pytest.mark.parametrize(
    "text",
    [
        # A data row holding a word that names the email column: the first row stays the
        # header, and its mapping says what is missing.
        "Login,Pass,Type\njohn,pw1,Mailbox\n",
        # Instructions above the table, split at another delimiter: only the table's header
        # is a whole header, and it is found.
        "How to fill this sheet; one mailbox per row\nEmail; the mailbox address\n"
        "Email,Password,Name\na@x.io,pw,Ann\n",
    ],
)
def test_a_row_naming_the_email_that_is_no_whole_header_refuses_nothing(
    tmp_path: Path, text: str
) -> None:
    table = open_table(write(tmp_path, text))
    assert table.headers[0] in ("Login", "Email")


def test_a_note_split_at_another_delimiter_is_not_taken_for_the_header(tmp_path: Path) -> None:
    text = "Onboarding March\nEmail, password and name are required\nEmail\tPassword\tName\n"
    table = open_table(write(tmp_path, text + "a@x.io\tpw\tAnn\n"))
    assert (table.source.delimiter, table.headers) == ("\t", ("Email", "Password", "Name"))
    assert rows_of(table) == [RawRow(4, ("a@x.io", "pw", "Ann"))]


def test_rows_of_delimiters_only_are_blank_rows_above_the_header(tmp_path: Path) -> None:
    notes = "".join(f"note {n}\n" for n in range(8))
    table = open_table(write(tmp_path, notes + ",,,\n,,,\nEmail,Name\na@x.io,Ann\n"))
    assert rows_of(table) == [RawRow(12, ("a@x.io", "Ann"))]
    table = open_table(write(tmp_path, ",,\nEmail,Name\na@x.io,Ann\n"))
    assert (table.headers, table.source.warnings) == (("Email", "Name"), ())


def test_a_sep_line_after_a_bom_read_as_cp1252_is_no_row(tmp_path: Path) -> None:
    table = open_table(write(tmp_path, b"\xef\xbb\xbfsep=;\nEmail;Name\na@x.io;Ren\xe9e, A\n"))
    assert table.headers == ("Email", "Name")
    assert [warning.split(" is ")[1][:9] for warning in table.source.warnings] == ["not valid"]
    assert rows_of(table) == [RawRow(2, ("a@x.io", "Renée, A"))]


def test_a_header_with_a_line_break_in_a_quoted_cell_is_read(tmp_path: Path) -> None:
    table = open_table(write(tmp_path, 'Email;"App\npassword";Name\na@x.io;pw;Ann\n'))
    assert table.headers == ("Email", "App\npassword", "Name")
    assert rows_of(table) == [RawRow(2, ("a@x.io", "pw", "Ann"))]


def test_a_bom_read_as_cp1252_still_leaves_the_header_on_row_1(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbfEmail,Name,Contact by\na@x.io,Ren\xe9,Email\nb@x.io,Bob,Phone\n"
    table = open_table(write(tmp_path, data))
    assert table.headers == ("Email", "Name", "Contact by")
    assert [row.number for row in rows_of(table)] == [2, 3]


def test_chunks_give_consecutive_row_numbers(tmp_path: Path) -> None:
    text = "email\n" + "".join(f"u{n}@x.io\n" for n in range(10))
    table = open_table(write(tmp_path, text), chunk_rows=3)
    chunks = list(table.chunks)
    assert all(len(chunk) <= 3 for chunk in chunks)
    assert len(chunks) >= 4
    assert [row.number for chunk in chunks for row in chunk] == list(range(2, 12))
    assert [row.cells[0] for chunk in chunks for row in chunk] == [f"u{n}@x.io" for n in range(10)]


# Headers


def test_header_cells_are_stripped(tmp_path: Path) -> None:
    table = open_table(write(tmp_path, " Email ,\tName\n a , b \n"))
    assert table.headers == ("Email", "Name")


def test_empty_header_cells_are_named_by_position(tmp_path: Path) -> None:
    table = open_table(write(tmp_path, "email,,name,\na,b,c,d\n"))
    assert table.headers == ("email", "column_2", "name", "column_4")


def test_duplicate_headers_are_kept_as_written(tmp_path: Path) -> None:
    table = open_table(write(tmp_path, "email,password,password\na@x.io,p1,p2\n"))
    assert table.headers == ("email", "password", "password")
    assert cells_of(table) == [("a@x.io", "p1", "p2")]


@pytest.mark.parametrize("content", [b"", b"  \n\r\n\t\n", b"\xef\xbb\xbf", b"sep=;\n"])
def test_empty_file_is_refused(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(InputError) as caught:
        open_table(write(tmp_path, content))
    assert str(caught.value) == str(empty_input(f"Input file '{tmp_path / 'input.csv'}'"))
    assert str(caught.value).endswith(
        "is empty: it needs at least a header row naming its columns."
    )


def test_header_below_64_kib_of_blank_lines_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="starts with 64 KiB of blank lines"):
        open_table(write(tmp_path, "\n" * 70_000 + "email\na@x.io\n"))


def test_header_only_file_has_no_rows(tmp_path: Path) -> None:
    table = open_table(write(tmp_path, "email,name\n"))
    assert table.headers == ("email", "name")
    assert rows_of(table) == []


# Size


def test_ten_megabyte_cell_is_read(tmp_path: Path) -> None:
    big = "x" * 10_000_000
    table = open_table(write(tmp_path, f'email,note\na@x.io,"{big}"\nb@x.io,y\n'))
    rows = rows_of(table)
    assert [row.number for row in rows] == [2, 3]
    assert rows[0].cells[1] == big


def test_two_hundred_columns_are_read(tmp_path: Path) -> None:
    header = ",".join(f"c{n}" for n in range(200))
    row = ",".join(str(n) for n in range(200))
    table = open_table(write(tmp_path, f"{header}\n{row}\n"))
    assert len(table.headers) == 200
    assert cells_of(table) == [tuple(str(n) for n in range(200))]


def test_hundred_thousand_rows_are_read_with_flat_memory(tmp_path: Path) -> None:
    # Speed is a benchmark (bench/), not a timed assertion: shared machines make those flaky.
    header = ",".join(f"column{n}" for n in range(12))
    rows = "".join(",".join(f"v{i}-{n}-abcdefgh" for n in range(12)) + "\n" for i in range(100_000))
    path = write(tmp_path, header + "\n" + rows)
    tracemalloc.start()
    try:
        count = sum(len(chunk) for chunk in open_table(path).chunks)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 100_000
    # Holding every row at once takes about 100 MB of Python objects; chunks take a few.
    assert peak < 30_000_000


# Sources


def test_stdin_is_read_as_csv(tmp_path: Path) -> None:
    data = b"email;name\na@x.io;Ann\n"
    table = open_table("-", stdin=io.BytesIO(data))
    assert table.source.path == "-"
    assert table.source.sha256 == hashlib.sha256(data).hexdigest()
    assert cells_of(table) == [("a@x.io", "Ann")]


def test_sha256_is_of_the_raw_bytes(tmp_path: Path) -> None:
    data = "email,name\na@x.io,José\n".encode("cp1252")
    table = open_table(write(tmp_path, data))
    assert table.source.sha256 == hashlib.sha256(data).hexdigest()


def test_missing_file_is_input_missing(tmp_path: Path) -> None:
    with pytest.raises(InputMissingError) as caught:
        open_table("x.csv")
    assert str(caught.value) == "Input file 'x.csv' does not exist."


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory"):
        open_table(str(tmp_path))


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "a\n1\n")
    os.chmod(path, 0)
    with pytest.raises(InputError, match="permission denied"):
        open_table(path)


def test_sheet_option_on_a_text_file_is_ignored_with_a_warning(tmp_path: Path) -> None:
    table = open_table(write(tmp_path, "email\na@x.io\n"), sheet="Accounts")
    assert table.source.warnings == ("--sheet was ignored: it applies to .xlsx workbooks only.",)


# Workbooks


def test_xlsx_first_sheet_is_read_by_default(tmp_path: Path) -> None:
    path = workbook(
        tmp_path, {"Accounts": [["Email", "Name"], ["a@x.io", "Ann"]], "Other": [["x"]]}
    )
    table = open_table(path)
    assert table.source.format == "xlsx"
    assert table.source.sheet == "Accounts"
    assert table.source.sha256 == hashlib.sha256(Path(path).read_bytes()).hexdigest()
    assert table.headers == ("Email", "Name")
    assert rows_of(table) == [RawRow(2, ("a@x.io", "Ann"))]


def test_xlsx_named_sheet_is_read(tmp_path: Path) -> None:
    path = workbook(tmp_path, {"Notes": [["x"]], "Accounts": [["Email"], ["a@x.io"]]})
    table = open_table(path, sheet="accounts")
    assert table.source.sheet == "Accounts"
    assert cells_of(table) == [("a@x.io",)]


def test_xlsx_unknown_sheet_names_the_sheets_available(tmp_path: Path) -> None:
    path = workbook(tmp_path, {"Accounts": [["Email"]], "Notes": [["x"]]})
    with pytest.raises(InputError) as caught:
        open_table(path, sheet="Mailboxes")
    assert "no sheet named 'Mailboxes'" in str(caught.value)
    assert "'Accounts', 'Notes'" in str(caught.value)


def test_xlsx_numbers_read_as_a_person_sees_them(tmp_path: Path) -> None:
    path = workbook(tmp_path, {"S": [["port", "ratio"], [993, 0.5], [465, 1.25]]})
    # Some tools write integral floats ("993.0"); openpyxl reads those back as floats.
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet_xml = "xl/worksheets/sheet1.xml"
    parts[sheet_xml] = parts[sheet_xml].replace(b"<v>465</v>", b"<v>465.0</v>")
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    assert cells_of(open_table(path)) == [("993", "0.5"), ("465", "1.25")]


def test_xlsx_booleans_dates_and_empty_cells_become_text(tmp_path: Path) -> None:
    when = datetime.datetime(2024, 9, 16, 8, 30)
    path = workbook(tmp_path, {"S": [["a", "b", "c", "d"], [True, False, when, None]]})
    assert cells_of(open_table(path)) == [("true", "false", "2024-09-16T08:30:00", "")]


def test_xlsx_row_numbers_are_the_sheets_and_blank_rows_are_skipped(tmp_path: Path) -> None:
    path = workbook(tmp_path, {"S": [[], ["email", "name"], ["a@x.io"], [], [None, None], ["b"]]})
    table = open_table(path, chunk_rows=1)
    assert table.headers == ("email", "name")
    assert rows_of(table) == [RawRow(3, ("a@x.io", "")), RawRow(6, ("b", ""))]


def test_xlsx_title_rows_above_the_header_are_skipped_and_said(tmp_path: Path) -> None:
    rows: list[list[object]] = [["Acme mailboxes"], [None], ["Email", "Port"], ["a@x.io", 993]]
    table = open_table(workbook(tmp_path, {"Boxes": rows}))
    assert table.headers == ("Email", "Port")
    assert rows_of(table) == [RawRow(4, ("a@x.io", "993"))]
    assert table.source.warnings == (
        "The header is on row 3: the 2 rows above it were skipped (none names an email column).",
    )


def test_xlsx_with_no_row_naming_the_email_keeps_every_row_after_the_first(
    tmp_path: Path,
) -> None:
    rows: list[list[object]] = [["Mailbox", "Port"], *([f"u{n}@x.io", n] for n in range(12))]
    table = open_table(workbook(tmp_path, {"Boxes": rows}))
    assert table.headers == ("Mailbox", "Port")
    assert table.source.warnings == ()
    assert [row.cells for row in rows_of(table)] == [(f"u{n}@x.io", str(n)) for n in range(12)]


def test_xlsx_header_below_a_note_of_two_cells_is_refused_naming_its_row(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["Shared password", "Zq9-SECRET-771"],
        [],
        ["Email", "First Name"],
        ["a@x.io", "Ann"],
    ]
    path = workbook(tmp_path, {"Boxes": rows})
    with pytest.raises(InputError) as refused:
        open_table(path)
    assert str(refused.value) == header_below_notes(f"Input file '{path}'", 3)
    assert "SECRET" not in str(refused.value)


@pytest.mark.parametrize("first", [[["How to fill this template"], ["One mailbox a row"]], []])
def test_xlsx_whose_first_sheet_has_no_email_column_names_the_sheet_that_has(
    tmp_path: Path, first: list[list[object]]
) -> None:
    sheets: dict[str, list[list[object]]] = {
        "Read me": first,
        "Totals": [["Domain", "Mailboxes"], ["acme.test", 3]],
        "Our mailboxes": [["Notes"], ["Email", "Port"], ["a@x.io", 993]],
    }
    path = workbook(tmp_path, sheets)
    with pytest.raises(InputError) as refused:
        open_table(path)
    assert str(refused.value) == (
        f"Input file '{path}': its first sheet, 'Read me', has no email column, but sheet "
        "'Our mailboxes' has one: pass --sheet 'Our mailboxes'."
    )
    table = open_table(path, sheet="our mailboxes")
    assert rows_of(table) == [RawRow(3, ("a@x.io", "993"))]


def test_xlsx_header_of_several_cells_naming_no_email_stays_the_header(tmp_path: Path) -> None:
    rows: list[list[object]] = [["Address", "Password"], ["a@x.io", "Mailbox"]]
    table = open_table(workbook(tmp_path, {"Boxes": rows}))
    assert table.headers == ("Address", "Password")
    assert rows_of(table) == [RawRow(2, ("a@x.io", "Mailbox"))]


@pytest.mark.parametrize(
    "rows", [[["Address"], ["a@x.io", "hunter2", "Mailbox"]], [["Address"], ["a@x.io"], ["Email"]]]
)
def test_xlsx_data_under_a_one_cell_header_is_never_taken_for_titles(
    tmp_path: Path, rows: list[list[object]]
) -> None:
    table = open_table(workbook(tmp_path, {"Boxes": rows}))
    assert (table.headers, table.source.warnings) == (("Address",), ())


def test_xlsx_value_in_a_column_without_header_fails_only_its_row(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["email", "password"],
        ["a@x.io", "p", SECRET],
        ["b@x.io", "q", None, ""],
    ]
    read = rows_of(open_table(workbook(tmp_path, {"S": rows})))
    assert [(row.number, row.cells) for row in read] == [(2, ("a@x.io", "p")), (3, ("b@x.io", "q"))]
    assert read[0].problem == stray_value(
        "column C", "give that column a header, or clear the cell."
    )
    assert read[1].problem is None
    assert SECRET not in read[0].problem.message


def test_xlsx_empty_sheet_is_refused_as_any_empty_input(tmp_path: Path) -> None:
    path = workbook(tmp_path, {"S": []})
    with pytest.raises(InputError) as caught:
        open_table(path)
    assert str(caught.value) == str(empty_input(f"Sheet 'S' of input file '{path}'"))


def test_xlsx_header_only_sheet_has_no_rows(tmp_path: Path) -> None:
    assert rows_of(open_table(workbook(tmp_path, {"S": [["email"]]}))) == []


def test_file_named_xlsx_that_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"is not a readable \.xlsx workbook"):
        open_table(write(tmp_path, "email\na@x.io\n", "fake.xlsx"))


# Errors never show a cell's content (cells may hold passwords)


@pytest.mark.parametrize(
    "content",
    [
        f'email,password\na@x.io,"{SECRET}\n'.encode(),
        f"email,password\na@x.io,{SECRET}".encode() + b",x" * 100 + b"\n",
        f"email,password\na@x.io,{SECRET}".encode() + b"\x00" * 100 + b"\n",
        f"email,password\na@x.io,{SECRET}".encode() + b"\x81\x8d\n",
        f"email,password\na@x.io,{SECRET}".encode() + b"\x01" * 500,
    ],
    ids=["open-quote", "far-too-many-cells", "nuls", "undecodable", "binary"],
)
def test_errors_never_contain_cell_content(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(InputError) as caught:
        rows_of(open_table(write(tmp_path, content)))
    assert SECRET not in str(caught.value)
    assert "a@x.io" not in str(caught.value)


def test_warnings_never_contain_cell_content(tmp_path: Path) -> None:
    table = open_table(write(tmp_path, f"email,password\na@x.io,{SECRET}é\n".encode("cp1252")))
    assert table.source.warnings
    assert all(SECRET not in warning for warning in table.source.warnings)


# The file is released


@needs_proc
def test_exhausting_the_chunks_closes_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "email\na@x.io\n")
    before = open_fds()
    table = open_table(path)
    assert open_fds() == before + 1
    rows_of(table)
    assert open_fds() == before


@needs_proc
def test_closing_the_chunks_before_reading_closes_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "email\na@x.io\n")
    before = open_fds()
    for table in (open_table(path), open_table(workbook(tmp_path, {"S": [["email"], ["a"]]}))):
        assert isinstance(table.chunks, Generator)
        table.chunks.close()
    assert open_fds() == before


@needs_proc
def test_a_parse_error_while_iterating_closes_the_file(tmp_path: Path) -> None:
    good = "".join(f"u{n}@x.io\n" for n in range(10))
    path = write(tmp_path, "email\n" + good + "bad" + ",cell" * 100 + "\n")
    before = open_fds()
    table = open_table(path, chunk_rows=2)
    with pytest.raises(InputError):
        rows_of(table)
    assert open_fds() == before


@needs_proc
def test_an_error_while_opening_leaves_no_file_open(tmp_path: Path) -> None:
    path = write(tmp_path, 'email\n"open\n')
    before = open_fds()
    with pytest.raises(InputError):
        open_table(path)
    assert open_fds() == before
