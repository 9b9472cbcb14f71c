"""Email workspaces: a sheet of bare Google Workspace addresses plus `--workspace google=ID` is
linked in batches (tasks polled), one address failing per the sandbox's error, every row in
exactly one report; `kill -9` during a task, then `--resume`, sends no address twice and loses
none. The sandbox's tasks complete after `task_delay_s`."""

from __future__ import annotations

import asyncio
import csv
import signal
from collections import Counter
from pathlib import Path

import pytest

from bulk_onboard.engine.workspace_batches import BATCH_SIZE, errors_by_email
from bulk_onboard.jobs.run import RunMode, run_job
from bulk_onboard.rows.normalise import NormaliseOptions
from bulk_onboard.sandbox import SandboxConfig
from tests.jobs.test_account_settings import accounts, call, paths, summary
from tests.rows.test_normalise import BASE, run
from tests.support.cli import journal_statuses, start_cli
from tests.support.run_settings import quick_run_settings
from tests.support.sandbox_process import SANDBOX_KEY
from tests.support.sandbox_thread import sandbox_thread

REPORTS = ("succeeded.csv", "failed.csv", "unprocessed.csv")
FAILING = "unknown.person@acme-gw.test"  # the sandbox's "not in the directory" address


def bare_sheet(path: Path, count: int) -> list[str]:
    emails = [f"user{i:02d}@acme-gw.test" for i in range(count - 1)] + [FAILING]
    path.write_text("Email\n" + "\n".join(emails) + "\n", encoding="utf-8")
    return emails


def run_linked(sheet: Path, out: Path, url: str, mode: RunMode | None = None) -> tuple[int, Path]:
    settings = quick_run_settings(sheet, out, url, workspaces=(("google", 1),))
    code, run_dir = asyncio.run(run_job(settings, ["run"], None, mode or RunMode()))
    return int(code), run_dir


def rows_by_report(run_dir: Path) -> dict[str, dict[str, dict[str, str]]]:
    found = {}
    for name in REPORTS:
        with (run_dir / name).open(newline="", encoding="utf-8") as handle:
            found[name] = {r["email"]: r for r in csv.DictReader(handle)}
    return found


def test_a_40_address_sheet_is_linked_in_batches_without_passwords(tmp_path: Path) -> None:
    emails = bare_sheet(tmp_path / "gw.csv", 40)
    with sandbox_thread(SandboxConfig(api_key=SANDBOX_KEY, task_delay_s=0.05)) as box:
        code, run_dir = run_linked(tmp_path / "gw.csv", tmp_path / "out", box.url)
        sent = paths(box)
        found = accounts(box)

    assert code == 1
    reports = rows_by_report(run_dir)
    assert sorted(e for rows in reports.values() for e in rows) == sorted(emails)  # each once
    failed = reports["failed.csv"][FAILING]
    assert (failed["stage"], failed["error_code"]) == ("workspace", "workspace_refused")
    assert "not found" in failed["message"]
    assert len(reports["succeeded.csv"]) == 39
    for email, row in reports["succeeded.csv"].items():
        assert int(row["account_id"]) == found[email]["id"]  # ids (and scores) from the listing
        assert row["score"] == str(found[email]["score"])
        assert found[email]["provider"] == "gmail"
    batches = [p for p in sent if p == "/v1/email_workspaces/1/accounts"]
    assert len(batches) == -(-40 // BATCH_SIZE)
    assert any(p.startswith("/v1/tasks/") for p in sent)  # larger batches are polled
    assert "/v1/imap_auth" not in sent
    assert summary(run_dir)["failed"] == 1


def test_a_batch_of_four_is_answered_at_once(tmp_path: Path) -> None:
    bare_sheet(tmp_path / "small.csv", 4)
    with sandbox_thread(SandboxConfig(api_key=SANDBOX_KEY, task_delay_s=5)) as box:
        code, run_dir = run_linked(tmp_path / "small.csv", tmp_path / "out", box.url)
        sent = paths(box)
    assert code == 1
    assert len(rows_by_report(run_dir)["succeeded.csv"]) == 3
    assert not any(p.startswith("/v1/tasks/") for p in sent)


def test_kill_9_during_a_workspace_task_then_resume_sends_no_address_twice(
    tmp_path: Path,
) -> None:
    emails = bare_sheet(tmp_path / "gw.csv", 40)
    out = tmp_path / "out"
    # Tasks take long enough to kill the run while it polls them.
    with sandbox_thread(SandboxConfig(api_key=SANDBOX_KEY, task_delay_s=1.5)) as box:
        cli = start_cli(
            ["run", str(tmp_path / "gw.csv"), "--workspace", "google=1", "--rate", "0",
             "--no-progress", "--backoff", "0.01"],
            out,
            url=box.url,
        )  # fmt: skip
        cli.wait_for(
            "every batch's task to be polled",
            lambda: len({p for p in paths(box) if p.startswith("/v1/tasks/")}) == 2,
        )
        cli.proc.send_signal(signal.SIGKILL)
        cli.proc.wait(10)
        run_dir = next(p for p in out.iterdir() if p.is_dir() and not p.is_symlink())
        assert set(journal_statuses(run_dir).values()) == {"unprocessed"}  # all pending

        code, resumed = run_linked(tmp_path / "gw.csv", out, box.url, RunMode(resume=run_dir))
        sent = paths(box)

    assert code == 1
    assert resumed == run_dir
    assert Counter(sent)["/v1/email_workspaces/1/accounts"] == 2  # no batch sent again
    reports = rows_by_report(run_dir)
    assert sorted(e for rows in reports.values() for e in rows) == sorted(emails)
    assert list(reports["failed.csv"]) == [FAILING]
    assert len(reports["succeeded.csv"]) == 39


def test_rows_go_to_a_workspace_by_their_provider_or_as_bare_addresses() -> None:
    both = NormaliseOptions(route_workspaces=True, workspaces=(("google", 1), ("outlook", 2)))
    google = run({"Email": "a@acme.test", "Provider": "Google Workspace"}, both)
    assert (google.workspace, google.problems) == (1, ())
    assert "provider column" in google.workspace_why
    microsoft = run({"Email": "b@acme.test", "Provider": "m365", "Password": "x"}, both)
    assert microsoft.workspace == 2  # its kind has a workspace: the password is not needed
    custom = run(BASE, both)
    assert custom.workspace is None
    assert custom.request is not None  # a mailbox with its servers keeps imap_auth
    only = NormaliseOptions(route_workspaces=True, workspaces=(("google", 1),))
    assert run({"Email": "c@acme.test"}, only).workspace == 1
    assert run({"Email": "c@acme.test"}, both).workspace is None  # which one? not guessed
    column = run(
        {"Email": "d@acme.test", "Workspace": "7"}, NormaliseOptions(route_workspaces=True)
    )
    assert column.workspace == 7


@pytest.mark.parametrize(
    ("errors", "named", "shared"),
    [
        ([{"email": "A@x.test", "error": "nope"}], {"a@x.test": "nope"}, []),
        (["a@x.test: not found", "quota hit"], {"a@x.test": "a@x.test: not found"}, ["quota hit"]),
        ([{"code": 5, "message": "domain not verified"}], {}, ["domain not verified"]),
        ("workspace disconnected", {}, ["workspace disconnected"]),
        ([], {}, []),
    ],
)  # fmt: skip
def test_errors_are_matched_to_addresses_where_they_name_one(
    errors: object, named: dict[str, str], shared: list[str]
) -> None:
    assert errors_by_email(errors, ["a@x.test", "b@x.test"]) == (named, shared)


def test_the_sandbox_answers_a_batch_of_four_with_its_errors(tmp_path: Path) -> None:
    with sandbox_thread(SandboxConfig(api_key=SANDBOX_KEY)) as box:
        answer = call(
            box, "POST", "/v1/email_workspaces/2/accounts", {"accounts": ["x@m.test", FAILING]}
        )
        assert answer == {
            "completed": True,
            "errors": [{"email": FAILING, "error": "User not found in the workspace's directory"}],
            "task_id": None,
        }
        assert accounts(box)["x@m.test"]["provider"] == "outlook"
