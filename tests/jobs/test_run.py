"""`bulk-onboard run` end to end: the real command against the sandbox over HTTP on loopback."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import (
    assert_conservation,
    assert_no_secret,
    assert_private,
    data_rows,
    run_cli,
    secrets_of,
    start_cli,
)
from tests.support.sandbox_process import SANDBOX_KEY, SandboxProcess, sandbox_process
from tests.support.windows import most_in_any_second

SAMPLES = Path(__file__).parents[2] / "samples"
FAST = ["--rate", "0", "--backoff", "0.01", "--no-progress"]

SAMPLE_CASES = [
    ("mailboxes.csv", ("IMAP Password", "SMTP Password"), 1),
    ("instantly-export.csv", ("IMAP Password", "SMTP Password"), 0),
    ("smartlead-export.csv", ("password", "imap_password"), 0),
]


@pytest.fixture
def sandbox() -> Iterator[SandboxProcess]:
    with sandbox_process() as box:
        yield box


def write_sheet(path: Path, rows: int, *, extra: str = "", password: str = "pw") -> Path:
    lines = ["Email,First Name,Last Name,IMAP Host,IMAP Port,SMTP Host,SMTP Port,Password,Tags"]
    for i in range(rows):
        lines.append(
            f"user{i}@fleet.test,User,N{i},imap.fleet.test,993,smtp.fleet.test,587,"
            f"{password}-{i:05d}-secret,{extra}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("sample", "password_columns", "exit_code"), SAMPLE_CASES)
def test_every_sample_row_lands_in_exactly_one_report_and_no_secret_leaks(
    sandbox: SandboxProcess,
    tmp_path: Path,
    sample: str,
    password_columns: tuple[str, ...],
    exit_code: int,
) -> None:
    result = run_cli(["run", str(SAMPLES / sample), *FAST], tmp_path, url=sandbox.url)
    assert result.code == exit_code, result.stderr
    assert_conservation(result, data_rows(SAMPLES / sample))
    assert_no_secret(result, secrets_of(SAMPLES / sample, password_columns) | {SANDBOX_KEY})
    assert_private(result)
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert summary["succeeded"] == len(sandbox.imap_auth(status=200))


def test_the_sample_reports_what_the_sandbox_decided(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    result = run_cli(["run", str(SAMPLES / "mailboxes.csv"), *FAST], tmp_path, url=sandbox.url)
    failed = {r["email"]: r for r in result.report("failed.csv")}
    assert failed["erin.wolfe@acme-mail.test"]["error_code"] == "auth_failed"
    assert failed["frank.ng@acme-mail.test"]["error_code"] == "smtp_auth_failed"
    assert failed["grace.hall@outlook.com"]["error_code"] == "oauth_required"
    assert failed["alice.martin@acme-mail.test"]["error_code"] == "duplicate_email"
    assert all(r["hint"].endswith(".") for r in failed.values())
    succeeded = {r["email"]: r for r in result.report("succeeded.csv")}
    assert succeeded["henry.diaz@brightleads.nodns.test"]["dmarc_valid"] == "false"
    assert succeeded["henry.diaz@brightleads.nodns.test"]["mx_records"] == ""
    ben = succeeded["ben.carter@gmail.com"]
    assert ben["provider"] == "gmail"
    # The account's own shape, read for people: domain.domain, MX host names, tags' names.
    assert ben["domain"] == "gmail.com"
    assert ben["mx_records"] == "aspmx.l.google.com alt1.aspmx.l.google.com alt2.aspmx.l.google.com"
    assert ben["detected_sending_provider"] == "google"
    assert ben["action"] == "created"
    for row in succeeded.values():
        assert not any(cell.startswith(("[", "{", "'[")) for cell in row.values()), row
    assert sandbox.accounts() == len(succeeded)


def test_run_sandbox_flag_needs_no_key(tmp_path: Path) -> None:
    result = run_cli(
        ["run", str(SAMPLES / "instantly-export.csv"), "--sandbox", "--no-progress"],
        tmp_path,
        key=None,
    )
    assert result.code == 0, result.stderr
    assert "Run folder:" in result.stdout
    assert_conservation(result, data_rows(SAMPLES / "instantly-export.csv"))


def test_formula_cells_are_escaped_in_reports(sandbox: SandboxProcess, tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path / "in.csv", 4, extra="=HYPERLINK(evil)", password="wrong")
    text = sheet.read_text().replace("wrong-00001-secret", "wrong-password")
    text = text.replace("User,N2", "+cmd,@N2")
    sheet.write_text(text)
    result = run_cli(["run", str(sheet), *FAST], tmp_path / "out", url=sandbox.url)
    failed = result.report("failed.csv")
    assert failed
    assert failed[0]["Tags"] == "'=HYPERLINK(evil)"
    raw = (result.run_dir / "failed.csv").read_text()
    assert ",=HYPERLINK" not in raw


def test_dry_run_sends_test_true_and_creates_nothing(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    sheet = write_sheet(tmp_path / "in.csv", 5)
    result = run_cli(["run", str(sheet), "--dry-run", *FAST], tmp_path / "out", url=sandbox.url)
    assert result.code == 0, result.stderr
    assert len(result.report("succeeded.csv")) == 5
    assert sandbox.accounts() == 0


def test_stdin_input(sandbox: SandboxProcess, tmp_path: Path) -> None:
    text = write_sheet(tmp_path / "in.csv", 3).read_text()
    result = run_cli(["run", "-", *FAST], tmp_path / "out", url=sandbox.url, stdin=text)
    assert result.code == 0, result.stderr
    assert result.run_dir.name.endswith("-stdin")
    assert len(result.report("succeeded.csv")) == 3


@pytest.mark.timing
def test_rate_is_never_exceeded_by_server_timestamps(tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path / "in.csv", 45)
    with sandbox_process() as box:
        args = ["run", str(sheet), "--rate", "20", "--concurrency", "32", "--no-progress"]
        result = run_cli(args, tmp_path / "out", url=box.url)
        arrivals = sorted(r["t"] for r in box.imap_auth())
    assert result.code == 0, result.stderr
    assert len(arrivals) == 45
    assert most_in_any_second(arrivals) <= 20


@pytest.mark.timing
def test_retry_after_pauses_every_worker(tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path / "in.csv", 24)
    with sandbox_process("--rate-limit", "8") as box:
        args = ["run", str(sheet), *FAST, "--concurrency", "16", "--max-attempts", "10"]
        result = run_cli(args, tmp_path / "out", url=box.url)
        log = box.imap_auth()
    assert result.code == 0, result.stderr
    limited = [r["t"] for r in log if r["status"] == 429]
    assert limited, "the sandbox should have answered 429"
    first = min(limited)
    # Requests already on the wire arrive just after the first 429; then nobody may start until
    # the Retry-After (1 s) has passed.
    too_early = [r["t"] for r in log if first + 0.15 < r["t"] < first + 0.95]
    assert too_early == []
    assert len(result.report("succeeded.csv")) == 24


# Exit codes of SPEC, each caused for real.


def test_exit_2_on_a_usage_error(tmp_path: Path) -> None:
    result = run_cli(["run", "x.csv", "--rate", "fast"], tmp_path)
    assert result.code == 2


def test_exit_2_when_the_key_is_put_on_the_command_line_and_it_is_not_echoed(
    tmp_path: Path,
) -> None:
    result = run_cli(["run", "x.csv", "--api-key", "sk-live-very-secret"], tmp_path)
    assert result.code == 2
    assert "sk-live-very-secret" not in result.stderr + result.stdout


def test_exit_2_without_any_key(tmp_path: Path) -> None:
    result = run_cli(["run", str(SAMPLES / "mailboxes.csv")], tmp_path, key=None)
    assert result.code == 2
    assert "MAILREACH_API_KEY" in result.stderr


def test_exit_65_when_there_is_no_email_column(tmp_path: Path) -> None:
    sheet = tmp_path / "in.csv"
    sheet.write_text("Name,Password\nAl,pw-123456\n")
    result = run_cli(["run", str(sheet)], tmp_path / "out")
    assert result.code == 65
    assert "Traceback" not in result.stderr
    assert "pw-123456" not in result.stderr


def test_exit_65_on_an_unterminated_quote_naming_its_line(tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path / "in.csv", 5)
    sheet.write_text(sheet.read_text() + 'user9@fleet.test,"Broken,N,imap,993,smtp,587,pw,x\n')
    result = run_cli(["run", str(sheet)], tmp_path / "out")
    assert result.code == 65
    assert "Line 7" in result.stderr
    assert "Traceback" not in result.stderr


def test_exit_66_when_the_input_does_not_exist(tmp_path: Path) -> None:
    result = run_cli(["run", str(tmp_path / "nope.csv")], tmp_path / "out")
    assert result.code == 66
    assert "does not exist" in result.stderr


def test_exit_69_when_the_api_cannot_be_reached(tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path / "in.csv", 6)
    result = run_cli(
        ["run", str(sheet), *FAST, "--max-attempts", "2"],
        tmp_path / "out",
        url="http://127.0.0.1:9/api",
    )
    assert result.code == 69, result.stderr
    assert_conservation(result, data_rows(sheet))
    assert {r["reason"] for r in result.report("unprocessed.csv")} == {"aborted"}


def test_exit_77_when_the_key_is_wrong_and_no_row_is_sent(
    sandbox: SandboxProcess, tmp_path: Path
) -> None:
    sheet = write_sheet(tmp_path / "in.csv", 6)
    result = run_cli(
        ["run", str(sheet), *FAST], tmp_path / "out", url=sandbox.url, key="wrong-key-value"
    )
    assert result.code == 77
    assert sandbox.imap_auth() == []
    assert_conservation(result, data_rows(sheet))
    assert_no_secret(result, secrets_of(sheet, ["Password"]) | {"wrong-key-value"})


def test_a_key_revoked_mid_run_stops_within_a_handful_of_requests(tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path / "in.csv", 200)
    with sandbox_process("--revoke-after", "20", "--latency-ms", "5") as box:
        args = ["run", str(sheet), *FAST, "--concurrency", "4"]
        result = run_cli(args, tmp_path / "out", url=box.url)
        refused = box.imap_auth(status=401)
        accepted = box.imap_auth(status=200)
    assert result.code == 77
    assert 1 <= len(refused) <= 4  # at most one per worker in flight
    assert len(result.report("succeeded.csv")) == len(accepted) == 20
    assert_conservation(result, data_rows(sheet))
    assert_no_secret(result, secrets_of(sheet, ["Password"]) | {SANDBOX_KEY})


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_drains_in_flight_rows_and_reports_the_rest(
    tmp_path: Path, signum: signal.Signals, code: int
) -> None:
    sheet = write_sheet(tmp_path / "in.csv", 300)
    with sandbox_process("--latency-ms", "200") as box:
        args = ["run", str(sheet), "--rate", "0", "--concurrency", "8", "--no-progress"]
        run = start_cli(args, tmp_path / "out", url=box.url)
        # Signalled once rows are going through, however long starting up took (a busy CI).
        box.wait_for_imap_auth(8)
        run.send(signum)
        result = run.finish()
        accepted = {r["email"] for r in box.imap_auth(status=200)}
    assert result.code == code, result.stderr
    assert_conservation(result, data_rows(sheet))
    assert {r["email"] for r in result.report("succeeded.csv")} == accepted
    assert accepted, "the signal came before any row was sent"
    reasons = {r["reason"] for r in result.report("unprocessed.csv")}
    assert reasons == {"interrupted"}
    assert_no_secret(result, secrets_of(sheet, ["Password"]) | {SANDBOX_KEY})
    assert "Traceback" not in result.stderr
    assert "Run folder:" in result.stdout
