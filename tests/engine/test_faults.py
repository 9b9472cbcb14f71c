"""The fault suite: the real `bulk-onboard run` against a sandbox process, through faults.

Every scenario checks the two promises that hold whatever happens: CONSERVATION (every input row
is in exactly one report) and NO SECRET (no row's password, each one unique, and not the key, in
any file, stdout or stderr). Faults inside HTTP come from the sandbox's knobs; faults below it
(a reset after the answer, a dripping answer, a black hole, a half-open connection) from
tests/support/fault_proxy.py. Where a test must act mid-run it waits for the server's log to show
K answered requests, not for a clock.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.support.cli import (
    Result,
    RunningCli,
    assert_conservation,
    assert_no_secret,
    data_rows,
    emails_by_report,
    journal_statuses,
    run_cli,
    start_cli,
    unique_mailboxes,
    write_mailboxes,
)
from tests.support.fault_proxy import (
    Blackhole,
    Drip,
    Fault,
    HalfOpen,
    Passthrough,
    Reset,
    fault_proxy,
)
from tests.support.sandbox_process import SANDBOX_KEY, SandboxProcess, sandbox_process

FAST = ["--rate", "0", "--backoff", "0.01", "--no-progress"]
JOURNAL_COMMIT_EVERY_S = 1.0  # bulk_onboard.engine.journal.COMMIT_EVERY_S, restated as the contract
# The job's own clock (summary.json's duration_s: from reading the sheet to the CSV reports, so
# neither starting Python nor rendering the reports, which a busy machine stretches) may pass
# the requests' deadlines by this much: reading 4 rows, the ping, writing the reports.
JOB_SLACK_S = 2.0


def sheet_of(tmp_path: Path, rows: int) -> tuple[Path, set[str]]:
    """A sheet of `rows` distinct mailboxes; returns it and every secret that must not leak."""
    sheet = tmp_path / "in.csv"
    passwords = write_mailboxes(sheet, unique_mailboxes(rows))
    return sheet, passwords | {SANDBOX_KEY}


def assert_promises(result: Result, sheet: Path, secrets: set[str]) -> None:
    """Conservation and no secret: checked in every scenario."""
    assert_conservation(result, data_rows(sheet))
    assert_no_secret(result, secrets)
    assert "Traceback" not in result.stderr


def succeeded(result: Result) -> set[str]:
    return emails_by_report(result)["succeeded.csv"]


# Faults inside HTTP: the sandbox's knobs.


@pytest.mark.timeout(60)
def test_a_429_storm_is_waited_out_and_every_row_succeeds(tmp_path: Path) -> None:
    sheet, secrets = sheet_of(tmp_path, 20)
    with sandbox_process("--rate-limit", "10") as box:
        args = ["run", str(sheet), *FAST, "--concurrency", "16", "--max-attempts", "10"]
        result = run_cli(args, tmp_path / "out", url=box.url)
        limited = box.imap_auth(status=429)
        accepted = box.accepted()
    assert result.code == 0, result.stderr
    assert_promises(result, sheet, secrets)
    assert limited, "the sandbox should have answered 429 with Retry-After"
    assert succeeded(result) == set(accepted)
    assert len(accepted) == 20  # each row accepted once: a 429 is not carried out


@pytest.mark.timeout(60)
def test_503_bursts_end_each_row_succeeded_after_retries_or_failed_server_error(
    tmp_path: Path,
) -> None:
    sheet, secrets = sheet_of(tmp_path, 40)
    with sandbox_process("--fail-rate", "0.5", "--seed", "7") as box:
        args = ["run", str(sheet), *FAST, "--concurrency", "8", "--max-attempts", "2"]
        result = run_cli(args, tmp_path / "out", url=box.url)
        accepted = box.accepted()
    assert result.code == 1, result.stderr
    assert_promises(result, sheet, secrets)
    assert succeeded(result) == set(accepted), "succeeded iff the server answered 200"
    failed = result.report("failed.csv")
    assert failed, "with --fail-rate 0.5 and 2 attempts some rows should run out of tries"
    assert {(r["error_code"], r["http_status"], r["attempts"]) for r in failed} == {
        ("server_error", "503", "2")
    }
    retried = [r for r in result.report("succeeded.csv") if r["attempts"] == "2"]
    assert retried, "some rows should have succeeded on their second try"


@pytest.mark.timeout(60)
def test_dropped_connections_are_retried_and_a_row_succeeds_iff_the_server_accepted_it(
    tmp_path: Path,
) -> None:
    sheet, secrets = sheet_of(tmp_path, 40)
    with sandbox_process("--reset-rate", "0.4", "--seed", "3") as box:
        args = ["run", str(sheet), *FAST, "--concurrency", "8", "--max-attempts", "3"]
        result = run_cli(args, tmp_path / "out", url=box.url)
        accepted = box.accepted()
        dropped = box.imap_auth(status=None)
    assert result.code in (0, 1), result.stderr
    assert_promises(result, sheet, secrets)
    assert dropped, "the sandbox should have dropped some connections"
    assert succeeded(result) == set(accepted)
    assert {r["error_code"] for r in result.report("failed.csv")} <= {"network"}
    assert len(accepted) == len(set(accepted)), "a dropped request was never carried out"


# Faults below HTTP: the fault proxy.


# Whether the sandbox updates an existing email sent without `id` (MailReach does not document
# it) or refuses it with 422: a re-send must be right either way.
UPSERT_OR_NOT = pytest.mark.parametrize("knobs", [(), ("--no-upsert",)], ids=["upsert", "refuse"])


@pytest.mark.timeout(60)
@UPSERT_OR_NOT
def test_an_answer_lost_to_a_reset_is_sent_again_and_leaves_one_account(
    tmp_path: Path, knobs: tuple[str, ...]
) -> None:
    sheet, secrets = sheet_of(tmp_path, 12)

    # Odd connections are reset once the server has answered: the request was carried out but
    # the client hears only an RST. Connections that survive are kept alive and reused.
    def every_other(n: int) -> Fault:
        return Reset(after_bytes=0) if n % 2 else Passthrough()

    with sandbox_process(*knobs) as box, fault_proxy(box.url, schedule=every_other) as proxy:
        args = ["run", str(sheet), *FAST, "--concurrency", "4", "--max-attempts", "5"]
        result = run_cli(args, tmp_path / "out", url=proxy.url)
        accepted = box.accepted()
        accounts = box.accounts()
    assert result.code == 0, result.stderr
    assert_promises(result, sheet, secrets)
    assert len(accepted) > len(set(accepted)), "some row should have been carried out twice"
    assert succeeded(result) == set(accepted)
    # A create is sent again only with the id its lookup found: never a second account, and
    # never a 422 for the account the first try made.
    assert accounts == 12


NEVER_COMPLETES = [
    # (fault, --timeout, does the request reach the server?)
    pytest.param(Drip(bytes_per_s=1.0), 2.0, True, id="drip-one-byte-a-second"),
    pytest.param(Blackhole(), 1.0, False, id="blackhole"),
    pytest.param(HalfOpen(), 1.0, True, id="half-open"),
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("fault", "timeout_s", "reaches_server"), NEVER_COMPLETES)
def test_an_answer_that_never_completes_is_cut_at_the_deadline_and_never_sent_blind(
    tmp_path: Path, fault: Fault, timeout_s: float, reaches_server: bool
) -> None:
    sheet, secrets = sheet_of(tmp_path, 4)
    attempts, backoff_s = 2, 0.01
    with sandbox_process() as box, fault_proxy(box.url, fault) as proxy:
        args = [
            "run", str(sheet), "--rate", "0", "--no-progress", "--concurrency", "4",
            "--timeout", str(timeout_s), "--max-attempts", str(attempts),
            "--backoff", str(backoff_s), "--no-lookup",
        ]  # fmt: skip
        result = run_cli(args, tmp_path / "out", url=proxy.url)
        accepted = box.accepted()
    assert result.code == 1, result.stderr
    assert_promises(result, sheet, secrets)
    # Each create timed out once: MailReach may have made the account, so it is sent again
    # only after a lookup, and the lookup (a listing) can't complete either. The rows are not
    # sent blind: they end as unknown outcomes.
    assert {r["reason"] for r in result.report("unprocessed.csv")} == {"unknown_outcome"}
    assert len(result.report("unprocessed.csv")) == 4
    # The ping's `attempts` tries, the 4 rows' first tries side by side, then the lookup's
    # `attempts` tries, each cut at the overall deadline (a backoff is at most 2 x base, as
    # jitter is at most the base).
    deadline_s = (2 * attempts + 1) * (timeout_s + 2 * backoff_s)
    summary = json.loads((result.run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["duration_s"] < deadline_s + JOB_SLACK_S
    # Drip and half-open: the server did the work, and the client could not know it.
    assert len(accepted) == (4 if reaches_server else 0)
    assert proxy.requests >= 2 * attempts + 4


# The API or the key going away mid-run.


@pytest.mark.timeout(60)
def test_the_api_killed_mid_run_exits_69_and_reports_everything_it_accepted(
    tmp_path: Path,
) -> None:
    sheet, secrets = sheet_of(tmp_path, 200)
    concurrency = 8
    db = tmp_path / "accounts.sqlite"  # the accounts outlive the killed server
    with sandbox_process("--latency-ms", "50", "--db", str(db)) as box:
        args = ["run", str(sheet), *FAST, "--concurrency", str(concurrency)]
        run = start_cli(args, tmp_path / "out", url=box.url)
        box.wait_for_imap_auth(40)
        box.kill()
        result = run.finish()
    with contextlib.closing(sqlite3.connect(db)) as accounts:
        accepted = {email for (email,) in accounts.execute("SELECT email FROM accounts")}
    assert result.code == 69, result.stderr
    assert_promises(result, sheet, secrets)
    assert succeeded(result) == accepted
    reasons = Counter(r["reason"] for r in result.report("unprocessed.csv"))
    assert set(reasons) <= {"aborted", "unknown_outcome"}
    assert reasons["aborted"] > 100
    # Only rows on the wire when the server died (or sent on a kept-alive connection it had
    # already dropped) may have failed instead of being left unprocessed.
    failed = result.report("failed.csv")
    assert {r["error_code"] for r in failed} <= {"network"}
    assert len(failed) + reasons["unknown_outcome"] <= 2 * concurrency


@pytest.mark.timeout(60)
def test_a_key_revoked_mid_run_exits_77_and_reports_everything_accepted_so_far(
    tmp_path: Path,
) -> None:
    sheet, secrets = sheet_of(tmp_path, 100)
    with sandbox_process("--revoke-after", "20", "--latency-ms", "5") as box:
        args = ["run", str(sheet), *FAST, "--concurrency", "4"]
        result = run_cli(args, tmp_path / "out", url=box.url)
        accepted = box.accepted()
    assert result.code == 77, result.stderr
    assert_promises(result, sheet, secrets)
    assert len(accepted) == 20
    assert succeeded(result) == set(accepted)
    assert {r["reason"] for r in result.report("unprocessed.csv")} == {"aborted"}
    assert result.report("failed.csv") == []


# Signals.


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_mid_run_drains_in_flight_rows_and_leaves_the_rest_interrupted(
    tmp_path: Path, signum: signal.Signals, code: int
) -> None:
    sheet, secrets = sheet_of(tmp_path, 200)
    with sandbox_process("--latency-ms", "100") as box:
        args = ["run", str(sheet), *FAST, "--concurrency", "8"]
        run = start_cli(args, tmp_path / "out", url=box.url)
        box.wait_for_imap_auth(20)
        run.send(signum)
        result = run.finish()
        accepted = box.accepted()
    assert result.code == code, result.stderr
    assert_promises(result, sheet, secrets)
    assert succeeded(result) == set(accepted), "every request in flight was drained"
    assert {r["reason"] for r in result.report("unprocessed.csv")} == {"interrupted"}
    assert "Run folder:" in result.stdout


# After a stop no request may start: a row's arrival at the server later than this after the
# signal was sent can only be a request started after it (loopback takes microseconds).
ARRIVAL_SLACK_S = 0.05


def arrived_after(box: SandboxProcess, when: float) -> list[dict[str, object]]:
    return [r for r in box.imap_auth() if r["t"] > when + ARRIVAL_SLACK_S]


def interrupt_now(
    run: RunningCli, box: SandboxProcess, timeout_s: float = 60
) -> tuple[Result, list[dict[str, object]]]:
    """SIGINT the run and let it finish: its result, and the rows that reached `box` after."""
    signalled = time.time()
    run.send(signal.SIGINT)
    result = run.finish(timeout_s=timeout_s)
    return result, arrived_after(box, signalled)


def assert_stopped_sending(
    result: Result,
    sheet: Path,
    secrets: set[str],
    late: list[dict[str, object]],
    box: SandboxProcess,
) -> None:
    """A run stopped by SIGINT while no row was in doubt: 130, the promises, no row sent after
    the signal, the accepted ones succeeded and the rest interrupted."""
    assert result.code == 130, result.stderr
    assert_promises(result, sheet, secrets)
    assert late == [], "a row was sent after the signal"
    assert succeeded(result) == set(box.accepted())
    assert {r["reason"] for r in result.report("unprocessed.csv")} == {"interrupted"}


@pytest.mark.timeout(60)
def test_a_signal_under_a_rate_starts_no_request_after_it(tmp_path: Path) -> None:
    """Workers waiting for their rate slot send nothing once the signal has come."""
    sheet, secrets = sheet_of(tmp_path, 60)
    with sandbox_process() as box:
        args = ["run", str(sheet), "--rate", "2", "--concurrency", "8", "--no-progress"]
        run = start_cli(args, tmp_path / "out", url=box.url)
        box.wait_for_imap_auth(3)
        result, late = interrupt_now(run, box)
        assert_stopped_sending(result, sheet, secrets, late, box)


@pytest.mark.timeout(60)
def test_a_signal_during_a_429_pause_starts_no_request_after_it(tmp_path: Path) -> None:
    """One request a second is admitted, the rest get 429 (Retry-After: 1): the workers spend
    the run held by the pause."""
    sheet, secrets = sheet_of(tmp_path, 40)
    with sandbox_process("--rate-limit", "1") as box:
        # Paced at 4/s, workers wait for their slots while a 429's pause holds them all.
        args = ["run", str(sheet), "--rate", "4", "--concurrency", "8", "--max-attempts", "50"]
        run = start_cli([*args, "--no-progress"], tmp_path / "out", url=box.url)
        run.wait_for("429s", lambda: len(box.imap_auth(status=429)) >= 3)
        result, late = interrupt_now(run, box)
        # A 429 is not carried out, so no row is in doubt.
        assert_stopped_sending(result, sheet, secrets, late, box)


@pytest.mark.timeout(60)
def test_a_row_waiting_out_a_backoff_does_not_hold_its_worker(tmp_path: Path) -> None:
    """One worker, every row's first try answered 503: the worker sends the other rows while
    the first waits out its backoff, instead of sleeping it out."""
    sheet, secrets = sheet_of(tmp_path, 3)
    with sandbox_process("--fail-first", "1") as box:
        args = ["run", str(sheet), "--rate", "0", "--backoff", "1", "--concurrency", "1"]
        result = run_cli([*args, "--no-progress"], tmp_path / "out", url=box.url)
        arrivals = [r["status"] for r in sorted(box.imap_auth(), key=lambda r: r["t"])]
    assert result.code == 0, result.stderr
    assert_promises(result, sheet, secrets)
    assert arrivals == [503, 503, 503, 200, 200, 200]
    assert {r["attempts"] for r in result.report("succeeded.csv")} == {"2"}


@pytest.mark.timeout(60)
def test_a_signal_settles_rows_waiting_out_a_backoff_at_once(tmp_path: Path) -> None:
    """Rows in the delayed queue are not sent again after a signal, nor waited for."""
    sheet, secrets = sheet_of(tmp_path, 6)
    with sandbox_process("--fail-first", "1") as box:
        args = ["run", str(sheet), "--rate", "0", "--backoff", "20", "--concurrency", "2"]
        run = start_cli([*args, "--no-progress"], tmp_path / "out", url=box.url)
        box.wait_for_imap_auth(6, status=503)
        result, late = interrupt_now(run, box, timeout_s=15)  # the backoff is 20 s: not waited
    assert result.code == 130, result.stderr
    assert_promises(result, sheet, secrets)
    assert late == []
    assert {r["reason"] for r in result.report("unprocessed.csv")} == {"interrupted"}
    assert len(result.report("unprocessed.csv")) == 6


@pytest.mark.timeout(60)
def test_a_second_sigint_abandons_in_flight_rows_as_unknown_outcome(tmp_path: Path) -> None:
    sheet, secrets = sheet_of(tmp_path, 40)
    # Long enough that finishing the run (its reports included) on a busy machine takes
    # less; the outcomes below (unknown_outcome, nothing succeeded) are the real proof.
    latency_s, concurrency = 8.0, 4
    with (
        sandbox_process("--latency-ms", str(latency_s * 1000)) as box,
        fault_proxy(box.url) as proxy,
    ):
        # --no-lookup: the listing would wait out the latency too, before any row is sent.
        args = ["run", str(sheet), *FAST, "--concurrency", str(concurrency), "--grace", "30"]
        run = start_cli([*args, "--no-lookup"], tmp_path / "out", url=proxy.url)
        # The ping, then one request per worker, all waiting out the server's latency.
        run.wait_for("rows on the wire", lambda: proxy.requests >= 1 + concurrency)
        run.send(signal.SIGINT)
        run.wait_for("the first SIGINT noted", lambda: "SIGINT received" in run.stderr_so_far())
        second = time.monotonic()
        run.send(signal.SIGINT)
        result = run.finish()
        abandoned_after_s = time.monotonic() - second
    assert result.code == 130, result.stderr
    assert_promises(result, sheet, secrets)
    assert abandoned_after_s < latency_s, "the second signal did not abandon the requests"
    assert proxy.requests == 1 + concurrency, "a row was sent after the first signal"
    reasons = {r["email"]: r["reason"] for r in result.report("unprocessed.csv")}
    unknown = {email for email, why in reasons.items() if why == "unknown_outcome"}
    assert unknown == {f"user{i}@fleet.test" for i in range(concurrency)}  # one per worker
    assert set(reasons.values()) == {"interrupted", "unknown_outcome"}
    assert succeeded(result) == set()


@pytest.mark.timeout(60)
def test_a_second_sigint_during_the_key_check_abandons_it(tmp_path: Path) -> None:
    sheet, secrets = sheet_of(tmp_path, 10)
    # Long, so that finishing the run on a busy machine (its reports included) stays well
    # inside half of it: only waiting the key check out would take longer.
    timeout_s = 20.0
    with sandbox_process() as box, fault_proxy(box.url, Blackhole()) as proxy:
        args = ["run", str(sheet), *FAST, "--timeout", str(timeout_s), "--grace", "1"]
        run = start_cli(args, tmp_path / "out", url=proxy.url)
        run.wait_for("the key check on the wire", lambda: proxy.requests >= 1)
        run.send(signal.SIGINT)
        run.wait_for("the first SIGINT noted", lambda: "SIGINT received" in run.stderr_so_far())
        second = time.monotonic()
        run.send(signal.SIGINT)
        result = run.finish()
        abandoned_after_s = time.monotonic() - second
    assert result.code == 130, result.stderr
    assert_promises(result, sheet, secrets)
    assert {r["reason"] for r in result.report("unprocessed.csv")} == {"interrupted"}
    assert abandoned_after_s < timeout_s / 2, "the second signal did not abandon the key check"


@pytest.mark.timeout(90)
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_while_the_input_is_being_read_still_reports_every_row(
    tmp_path: Path, signum: signal.Signals, code: int
) -> None:
    sheet, secrets = sheet_of(tmp_path, 10_000)  # reading it takes about a tenth of a second
    with sandbox_process() as box:
        run = start_cli(["run", str(sheet), *FAST], tmp_path / "out", url=box.url)
        run.wait_for("the input being read", lambda: run.has_open(sheet))
        run.send(signum)
        result = run.finish()
    assert result.code == code, result.stderr
    assert_promises(result, sheet, secrets)
    assert {r["reason"] for r in result.report("unprocessed.csv")} <= {"interrupted"}


# kill -9, then --resume.


@pytest.mark.timeout(90)
@UPSERT_OR_NOT
def test_kill_9_then_resume_reports_every_row_once_and_resends_only_unsettled_rows(
    tmp_path: Path, knobs: tuple[str, ...]
) -> None:
    """After `kill -9`, `--resume` finishes the run in its own folder.

    Rows the journal had committed are never sent again. Rows it had not are: those in flight
    at the kill (at most --concurrency) and those settled since its last commit (it commits
    about once a second). Only rows the server had accepted before the kill can be accepted
    twice, so the bound on emails accepted twice is --concurrency plus the rows the server
    answered in the last commit interval (plus one latency, for answers still on their way)
    before the kill. The resumed run lists the accounts first, so those are re-sent with
    their id: harmless whether or not MailReach upserts by email.
    """
    sheet, secrets = sheet_of(tmp_path, 300)
    concurrency, latency_s = 8, 0.1
    out = tmp_path / "out"
    with sandbox_process("--latency-ms", str(latency_s * 1000), *knobs) as box:
        args = ["run", str(sheet), *FAST, "--concurrency", str(concurrency)]
        run = start_cli(args, out, url=box.url)
        box.wait_for_imap_auth(150)
        killed_at = time.time()
        run.proc.kill()
        killed = run.finish()
        run_dir = killed.run_dir
        committed = journal_statuses(run_dir)
        resumed = run_cli(["run", "--resume", str(run_dir), *FAST], out, url=box.url)
        log = box.imap_auth()
        accounts = box.accounts()
    assert killed.code == -signal.SIGKILL
    assert committed, "the journal should have committed some rows before the kill"
    assert resumed.code == 0, resumed.stderr
    assert resumed.run_dir == run_dir
    assert_promises(resumed, sheet, secrets)
    assert_no_secret(killed, secrets)

    by_row = {int(r["row"]): r["email"] for r in resumed.report("succeeded.csv")}
    settled = {by_row[row] for row in committed}
    sent_after_kill = {r["email"] for r in log if r["t"] > killed_at}
    assert not settled & sent_after_kill, "a row the journal had settled was sent again"

    accepted = Counter(r["email"] for r in log if r["status"] == 200)
    twice = {email for email, n in accepted.items() if n > 1}
    accepted_before = {r["email"] for r in log if r["status"] == 200 and r["t"] < killed_at}
    assert twice == accepted_before - settled, "only accepted-but-uncommitted rows repeat"
    window_s = JOURNAL_COMMIT_EVERY_S + latency_s + 0.25
    recent = [r for r in log if r["status"] == 200 and killed_at - window_s < r["t"] < killed_at]
    assert len(twice) <= concurrency + len(recent)
    assert accounts == 300
