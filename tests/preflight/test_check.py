"""`bulk-onboard check` and `run --preflight` end to end, and the sandbox's `--verify`: the real
commands as child processes, against the real peers, with no network use beyond loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import guard_was_on
from tests.support.cli import Result, assert_conservation, assert_no_secret, assert_private, run_cli
from tests.support.peers.cases import Case, cases, write_sheet
from tests.support.peers.world import World, password_of
from tests.support.sandbox_process import sandbox_process

CHECK_TIMEOUT_S = 2.5


def secrets(rows: list[Case]) -> set[str]:
    return {password_of(case.email) for case in rows}


def by_email(result: Result, report: str) -> dict[str, dict[str, str]]:
    return {row["email"]: row for row in result.report(report)}


def verdicts(result: Result) -> dict[str, str | None]:
    """email -> error_code, None for the rows that passed."""
    passed = {email: None for email in by_email(result, "succeeded.csv")}
    failed = {email: row["error_code"] for email, row in by_email(result, "failed.csv").items()}
    return passed | failed


@pytest.fixture
def sheet(world: World, tmp_path: Path) -> tuple[Path, list[Case]]:
    rows = cases(world)
    return write_sheet(tmp_path / "mailboxes.csv", rows), rows


def test_check_gives_every_case_its_code_and_hint(
    world: World, sheet: tuple[Path, list[Case]], tmp_path: Path, guarded_children: Path
) -> None:
    path, rows = sheet
    out = tmp_path / "out"
    result = run_cli(
        ["check", str(path), "--out", str(out), *world.cli_options(CHECK_TIMEOUT_S)], out
    )
    assert result.code == 1, result.stderr
    assert verdicts(result) == {case.email: case.expected for case in rows}
    failed = by_email(result, "failed.csv")
    assert {row["stage"] for row in failed.values()} == {"preflight"}
    assert all(row["hint"].endswith(".") and row["message"] for row in failed.values())
    assert "(guessed)" in failed["alice@guess.test"]["message"]
    assert_conservation(result, range(2, len(rows) + 2))
    assert_no_secret(result, secrets(rows))
    assert_private(result)
    assert guard_was_on(guarded_children) == 1  # check itself, which renders its own reports
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert summary["command"] == "check"
    assert summary["api_requests"] == 0


def test_a_server_reply_repeating_the_password_is_stored_without_it(
    peers: World, tmp_path: Path
) -> None:
    row = Case(
        "judy@good.test",
        "connect_refused",
        "imap",
        ("imap.good.test", peers.refused),
        ("smtp.good.test", peers.smtp_tls.port, "ssl"),
    )
    path = write_sheet(tmp_path / "echo.csv", [row])
    out = tmp_path / "out"
    result = run_cli(["check", str(path), "--out", str(out), *peers.cli_options()], out)
    assert result.code == 1, result.stderr
    (failed,) = result.report("failed.csv")
    assert "Authentication failed for judy@good.test with password ***" in failed["message"]
    assert_no_secret(result, secrets([row]))


def test_check_reports_the_dns_columns_of_what_passed(
    world: World, sheet: tuple[Path, list[Case]], tmp_path: Path
) -> None:
    _, rows = sheet
    passing = [case for case in rows if case.expected is None]
    small = write_sheet(tmp_path / "passing.csv", passing)
    out = tmp_path / "out"
    result = run_cli(["check", str(small), "--out", str(out), *world.cli_options()], out)
    assert result.code == 0, result.stderr
    ok = by_email(result, "succeeded.csv")
    columns = ("spf_valid", "dkim_valid", "dmarc_valid", "mx_records", "dkim_selector")
    assert tuple(ok["alice@good.test"][c] for c in columns) == (
        "true", "true", "true", "mx.good.test", "google",
    )  # fmt: skip
    assert ok["alice@nospf.test"]["spf_valid"] == "false"
    assert ok["alice@nodmarc.test"]["dmarc_valid"] == "false"
    assert ok["alice@dkims1.test"]["dkim_selector"] == "s1"
    assert ok["alice@srv.test"]["servers_found"].count("(from SRV)") == 2
    assert ok["alice@srv.test"]["hosts_guessed"] == "false"


def test_run_preflight_fails_rows_locally_and_submits_only_the_rest(
    world: World, sheet: tuple[Path, list[Case]], tmp_path: Path, guarded_children: Path
) -> None:
    path, rows = sheet
    out = tmp_path / "out"
    options = [*world.cli_options(CHECK_TIMEOUT_S)]
    with sandbox_process() as box:
        result = run_cli(
            ["run", str(path), "--preflight", *options, "--rate", "0", "--no-progress"],
            out,
            url=box.url,
        )
        submitted = {r["email"] for r in box.imap_auth()}
    assert result.code == 1, result.stderr
    passing = {case.email for case in rows if case.expected is None}
    assert submitted == passing
    assert verdicts(result) == {case.email: case.expected for case in rows}
    assert {r["stage"] for r in result.report("failed.csv")} == {"preflight"}
    assert_conservation(result, range(2, len(rows) + 2))
    assert_no_secret(result, secrets(rows))


def test_the_verifying_sandbox_agrees_with_check(
    world: World, sheet: tuple[Path, list[Case]], tmp_path: Path, guarded_children: Path
) -> None:
    path, rows = sheet
    verify = ["--verify", *world.cli_options(CHECK_TIMEOUT_S)]
    with sandbox_process(*verify) as box:
        result = run_cli(
            ["run", str(path), "--rate", "0", "--no-progress"], tmp_path / "out", url=box.url
        )
    assert_conservation(result, range(2, len(rows) + 2))
    api = verdicts(result)
    side = {"imap": "imap_auth_failed", "smtp": "smtp_auth_failed", "both": "auth_failed"}
    for case in rows:
        # The API answers a failed login with which side failed; the reason is in its message.
        # DNS health is the preflight's own rule: MailReach connects such a mailbox and reports
        # its DNS (mx_records empty...), and so does the sandbox. Finding the servers of a row
        # that names none is the preflight's too: without it such a row is not valid.
        expected = None if case.side in (None, "dns") else side[case.side]
        if case.imap is None or case.smtp is None:
            expected = "missing_field"
        assert api[case.email] == expected, case.email
    ok = by_email(result, "succeeded.csv")
    assert ok["alice@nomx.test"]["mx_records"] == ""
    assert ok["alice@nospf.test"]["spf_valid"] == "false"
    assert ok["alice@good.test"]["dkim_valid"] == "true"
    failed = by_email(result, "failed.csv")
    assert "Application-specific password" in failed["grace@good.test"]["message"]
    assert_no_secret(result, secrets(rows))
    assert guard_was_on(guarded_children) >= 2


def test_a_row_that_passed_only_by_sending_its_password_in_clear_says_so(
    peers: World, tmp_path: Path
) -> None:
    user = "alice@good.test"
    sheet = tmp_path / "plain.csv"
    sheet.write_text(
        "Email,First Name,Last Name,SMTP Only,SMTP Host,SMTP Port,SMTP Security,Password\n"
        f"{user},Al,Ice,true,smtp.good.test,{peers.smtp_plain.port},starttls,{password_of(user)}\n"
        f"bob@good.test,Bo,B,true,smtp.good.test,{peers.smtp_starttls.port},starttls,"
        f"{password_of('bob@good.test')}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    options = ["--out", str(out), *peers.cli_options(CHECK_TIMEOUT_S), "--allow-plaintext"]
    result = run_cli(["check", str(sheet), *options], out)
    assert result.code == 0, result.stderr
    notes = {row["email"]: row["notes"] for row in result.report("succeeded.csv")}
    assert notes[user].endswith(
        f"smtp.good.test:{peers.smtp_plain.port} offers no STARTTLS: the SMTP login passed only "
        "with --allow-plaintext, sending the password unencrypted."
    )
    assert "allow-plaintext" not in notes["bob@good.test"]
