"""The two promises of a run, as a property over random fault schedules and random sheets.

For any sheet (new mailboxes, magic wrong passwords, repeated emails, invalid rows) and any fault
schedule of the sandbox (503s, dropped connections, 429s, latency, each seeded), the real
`bulk-onboard run`:
- reports every input row in exactly one report, and leaks no password;
- reports a row succeeded IF AND ONLY IF the server accepted it (answered 200 for its email).

Each example serves its own sandbox (from a thread: its knobs are its config) and runs the CLI
once, about a second in all. The number of examples is the Hypothesis profile's: 20 by
default, 80 in CI (HYPOTHESIS_PROFILE=ci, which .ci/run sets; see tests/conftest.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bulk_onboard.sandbox import SandboxConfig
from tests.support.cli import (
    MAGIC_PASSWORDS,
    Mailbox,
    assert_conservation,
    assert_no_secret,
    data_rows,
    emails_by_report,
    run_cli,
    write_mailboxes,
)
from tests.support.sandbox_process import SANDBOX_KEY
from tests.support.sandbox_thread import sandbox_thread

EXAMPLE_TIMEOUT_S = 30  # the slowest examples take under 10 s on a busy machine
KINDS = ("new", "new", "new", "wrong", "repeat", "bad_port", "bad_email")
MAGIC = sorted(MAGIC_PASSWORDS)


@dataclass(frozen=True)
class Schedule:
    """The sandbox's fault knobs and the client's retry budget for one example."""

    fail_rate: float
    reset_rate: float
    rate_limit: int | None
    latency_ms: int
    seed: int
    concurrency: int
    max_attempts: int
    dry_run: bool

    def sandbox(self) -> SandboxConfig:
        return SandboxConfig(
            api_key=SANDBOX_KEY,
            fail_rate=self.fail_rate,
            reset_rate=self.reset_rate,
            rate_limit=self.rate_limit,
            latency_ms=self.latency_ms,
            seed=self.seed,
        )

    def options(self) -> list[str]:
        flags = [
            "--rate", "0", "--backoff", "0.01", "--no-progress",
            "--concurrency", str(self.concurrency), "--max-attempts", str(self.max_attempts),
        ]  # fmt: skip
        return [*flags, "--dry-run"] if self.dry_run else flags


schedules = st.builds(
    Schedule,
    fail_rate=st.sampled_from([0.0, 0.2, 0.5]),
    reset_rate=st.sampled_from([0.0, 0.2, 0.4]),
    rate_limit=st.sampled_from([None, None, 10, 30]),
    latency_ms=st.integers(0, 30),
    seed=st.integers(0, 2**16),
    concurrency=st.integers(1, 8),
    max_attempts=st.integers(1, 4),
    dry_run=st.booleans(),
)


@st.composite
def sheets(draw: st.DrawFn) -> list[Mailbox]:
    """1-20 rows: mostly new mailboxes, some magic wrong passwords, repeats and invalid rows."""
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=20))
    rows: list[Mailbox] = []
    for i, kind in enumerate(kinds):
        earlier = [row.email for row in rows if "@" in row.email]
        if kind == "repeat" and earlier:
            rows.append(Mailbox(draw(st.sampled_from(earlier))))
        elif kind == "wrong":
            rows.append(Mailbox(f"wrong{i}@fleet.test", draw(st.sampled_from(MAGIC))))
        elif kind == "bad_port":
            rows.append(Mailbox(f"port{i}@fleet.test", imap_port="99999"))
        elif kind == "bad_email":
            rows.append(Mailbox(f"not-an-email-{i}"))
        else:
            rows.append(Mailbox(f"user{i}@fleet.test"))
    return rows


# The budget of examples is the loaded profile's; the timeout follows it.
@pytest.mark.timeout(60 + EXAMPLE_TIMEOUT_S * settings().max_examples)
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=sheets(), schedule=schedules)
def test_every_row_is_in_one_report_and_succeeded_iff_the_server_accepted_it(
    tmp_path_factory: pytest.TempPathFactory, rows: list[Mailbox], schedule: Schedule
) -> None:
    folder = tmp_path_factory.mktemp("example")
    sheet = folder / "in.csv"
    secrets = write_mailboxes(sheet, rows) | {SANDBOX_KEY}
    with sandbox_thread(schedule.sandbox()) as box:
        result = run_cli(["run", str(sheet), *schedule.options()], folder / "out", url=box.url)
        accepted = Counter(box.accepted())
        accounts = box.accounts()

    for code in sorted({r["error_code"] for r in result.report("failed.csv")}):
        event(f"a row failed: {code}")  # shown by --hypothesis-show-statistics
    # The accounts are listed before any row is sent; when the faults beat the retry budget
    # there, the run stops (69) without sending a row: it can't tell new mailboxes from others.
    listing_failed = "Listing MailReach's accounts" in result.stderr
    event(f"the listing {'failed' if listing_failed else 'completed'}")
    assert result.code in ((0, 1, 69) if listing_failed else (0, 1)), result.stderr
    assert_conservation(result, data_rows(sheet))
    assert_no_secret(result, secrets)
    assert "Traceback" not in result.stderr
    reported = emails_by_report(result)
    assert reported["succeeded.csv"] == set(accepted), "succeeded iff the server accepted it"
    assert set(accepted.values()) <= {1}, "no fault here lets the server work unheard"
    assert accounts == (0 if schedule.dry_run else len(accepted))
    if result.code == 69:
        assert accepted == Counter()
        # Rows that fail locally (invalid, repeated) are still reported failed; the rest wait.
        assert {r["reason"] for r in result.report("unprocessed.csv")} <= {"aborted"}
        assert result.report("succeeded.csv") == []
        return
    all_succeeded = len(result.report("succeeded.csv")) == len(data_rows(sheet))
    assert result.code == (0 if all_succeeded else 1)
