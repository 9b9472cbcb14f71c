"""The ping before the first row: whatever would fail every row alike stops `run` at once, with one
sentence naming the URL tried (never its credentials) and what to change, before any password
is sent."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import (
    Result,
    assert_conservation,
    assert_no_secret,
    data_rows,
    run_cli,
    unique_mailboxes,
    write_mailboxes,
)
from tests.support.recording_proxy import recording_proxy
from tests.support.sandbox_process import SANDBOX_KEY, SandboxProcess, sandbox_process

FAST = ["--rate", "0", "--backoff", "0.01", "--no-progress", "--max-attempts", "2"]
PING = "/api/v1/ping"


@pytest.fixture
def sandbox() -> Iterator[SandboxProcess]:
    with sandbox_process() as box:
        yield box


@pytest.fixture
def sheet(tmp_path: Path) -> tuple[Path, set[str]]:
    path = tmp_path / "in.csv"
    return path, write_mailboxes(path, unique_mailboxes(4))


def said(result: Result) -> str:
    """What the run told its user: stderr, and the summary on stdout."""
    return result.stderr + result.stdout


def stopped_before_any_row(result: Result, sheet: Path, code: int) -> None:
    assert result.code == code, said(result)
    assert_conservation(result, data_rows(sheet))
    assert {r["reason"] for r in result.report("unprocessed.csv")} == {"aborted"}
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("bearer", "advice"),
    [([], "try --bearer"), (["--bearer"], "try without --bearer")],
)
def test_a_refused_key_stops_at_the_ping_naming_the_other_header_form(
    sandbox: SandboxProcess,
    sheet: tuple[Path, set[str]],
    tmp_path: Path,
    bearer: list[str],
    advice: str,
) -> None:
    path, passwords = sheet
    with recording_proxy(sandbox.url) as proxy:
        result = run_cli(
            ["run", str(path), *FAST, *bearer], tmp_path / "out", url=proxy.url, key="wrong-key"
        )
    stopped_before_any_row(result, path, 77)
    assert advice in said(result)
    assert proxy.url in said(result)
    # No password went anywhere: the only request the sandbox ever saw is the ping.
    assert proxy.paths() == [PING]
    assert [(r["path"], r["status"]) for r in sandbox.requests()] == [(PING, 401)]
    assert_no_secret(result, passwords | {"wrong-key"})


def test_a_refused_key_is_an_error_event_with_its_exit_code_in_json_logs(
    sandbox: SandboxProcess, sheet: tuple[Path, set[str]], tmp_path: Path
) -> None:
    path, passwords = sheet
    args = ["run", str(path), *FAST, "--log-format", "json"]
    result = run_cli(args, tmp_path / "out", url=sandbox.url, key="wrong-key")
    stopped_before_any_row(result, path, 77)
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    errors = [line for line in lines if line["level"] == "error"]
    assert [(e["event"], e["exit_code"]) for e in errors] == [("error", 77)]
    assert {line["event"] for line in lines if line["level"] != "error"} <= {"log", "listing"}
    assert_no_secret(result, passwords | {"wrong-key"})


def test_a_firewall_page_is_the_client_refused_not_the_key_and_user_agent_gets_past_it(
    sandbox: SandboxProcess, sheet: tuple[Path, set[str]], tmp_path: Path
) -> None:
    path, passwords = sheet
    with recording_proxy(sandbox.url, refuse_agent="bulk-onboard/") as waf:
        refused = run_cli(["run", str(path), *FAST], tmp_path / "refused", url=waf.url)
        passed = run_cli(
            ["run", str(path), *FAST, "--user-agent", "Mozilla/5.0 (tests)"],
            tmp_path / "passed",
            url=waf.url,
        )
    stopped_before_any_row(refused, path, 69)
    assert "not the API key" in said(refused)
    assert "--user-agent" in said(refused)
    assert passed.code == 0, said(passed)
    assert {s.user_agent for s in waf.sent[1:]} == {"Mozilla/5.0 (tests)"}
    assert_no_secret(refused, passwords | {SANDBOX_KEY})


def test_a_404_from_the_ping_is_a_wrong_url_and_nothing_is_sent(
    sandbox: SandboxProcess, sheet: tuple[Path, set[str]], tmp_path: Path
) -> None:
    path, _ = sheet
    base = sandbox.url.removesuffix("/api")  # the usual mistake: --api-url without /api
    result = run_cli(["run", str(path), *FAST], tmp_path / "out", url=base)
    stopped_before_any_row(result, path, 69)
    assert f"{base}/v1/ping does not exist (HTTP 404)" in said(result)
    assert "--api-url" in said(result)
    assert sandbox.requests() == []  # nothing reached the API's own routes


def test_https_to_a_plain_http_port_stops_naming_the_url(
    sandbox: SandboxProcess, sheet: tuple[Path, set[str]], tmp_path: Path
) -> None:
    path, _ = sheet
    url = sandbox.url.replace("http://", "https://")
    result = run_cli(["run", str(path), *FAST], tmp_path / "out", url=url)
    stopped_before_any_row(result, path, 69)
    assert "TLS could not be set up" in said(result)
    assert url in said(result)
    assert sandbox.requests() == []


def test_an_unreachable_api_is_named_without_its_credentials(
    sheet: tuple[Path, set[str]], tmp_path: Path
) -> None:
    path, _ = sheet
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    url = f"http://someone:hunter2-secret@127.0.0.1:{port}/api"
    result = run_cli(["run", str(path), *FAST], tmp_path / "out", url=url)
    stopped_before_any_row(result, path, 69)
    assert f"http://127.0.0.1:{port}/api could not be reached" in said(result)
    assert_no_secret(result, {"hunter2-secret"})
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert f"127.0.0.1:{port}" in summary["stopped"]
