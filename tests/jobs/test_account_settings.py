"""Warm-up settings and tags after the connect: the sandbox's accounts end with the sheet's
settings and tags; a row connected whose later step failed is reported as exactly that, and
`--retry-failed` / `--resume` send only the missing step, never a second `imap_auth`.

The job runs in this process (jobs.run.run_job) against a sandbox served from a thread: each
run takes a fraction of a second.
"""

from __future__ import annotations

import asyncio
import csv
import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from bulk_onboard.jobs.run import RunMode, run_job
from bulk_onboard.sandbox import SandboxConfig
from tests.support.recording_proxy import recording_proxy
from tests.support.run_settings import quick_run_settings
from tests.support.sandbox_process import SANDBOX_KEY
from tests.support.sandbox_thread import SandboxThread, sandbox_thread

HEADER = (
    "Email,First Name,Last Name,IMAP Username,IMAP Password,IMAP Host,IMAP Port,SMTP Username,"
    "SMTP Password,SMTP Host,SMTP Port,Daily Limit,Warmup Enabled,Warmup Limit,Warmup Increment,"
    "Tags"
)


def instantly_sheet(path: Path, rows: list[tuple[str, int, int, str]]) -> Path:
    """An Instantly export: (local part, warm-up limit, increment, tags) per mailbox."""
    lines = [HEADER]
    for i, (local, limit, increment, tags) in enumerate(rows):
        email = f"{local}@fleet.test"
        password = f"In5t-pw-{i:04d}-x"
        lines.append(
            f"{email},Ann,Lee{i},{email},{password},imap.fleet.test,993,{email},{password},"
            f"smtp.fleet.test,587,30,TRUE,{limit},{increment},{tags}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(
    sheet: Path,
    out: Path,
    url: str,
    mode: RunMode | None = None,
    *,
    concurrency: int = 4,
    backoff_s: float = 0.01,
) -> tuple[int, Path]:
    settings = quick_run_settings(sheet, out, url, concurrency=concurrency, backoff_s=backoff_s)
    code, run_dir = asyncio.run(run_job(settings, ["run", str(sheet)], None, mode or RunMode()))
    return int(code), run_dir


def call(box: SandboxThread, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        box.url + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"X-Api-Key": SANDBOX_KEY, "Content-Type": "application/json"},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def accounts(box: SandboxThread) -> dict[str, dict[str, Any]]:
    return {a["email"]: a for a in call(box, "GET", "/v1/accounts?page=0")}


def report(run_dir: Path, name: str) -> list[dict[str, str]]:
    with (run_dir / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def paths(box: SandboxThread) -> list[str]:
    return [r["path"].removeprefix("/api") for r in box.requests()]


def summary(run_dir: Path) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((run_dir / "summary.json").read_text())
    return found


@pytest.fixture
def box() -> Any:
    with sandbox_thread(SandboxConfig(api_key=SANDBOX_KEY)) as served:
        yield served


def test_an_instantly_export_leaves_every_account_with_its_warmup_and_tags(
    box: SandboxThread, tmp_path: Path
) -> None:
    # A tag is known by name only once an account carries it: one made by hand does.
    hand = call(
        box,
        "POST",
        "/v1/imap_auth",
        {
            "email": "by.hand@fleet.test",
            "first_name": "By",
            "last_name": "Hand",
            "provider": "custom",
            "imap_server": "imap.fleet.test",
            "smtp_server": "smtp.fleet.test",
            "password": "made-by-hand-1",
        },
    )
    call(box, "POST", "/v1/tags/8/link", {"account_id": hand["id"]})
    rows = [("ann.one", 20, 2, "7"), ("ann.two", 35, 0, "7;warm-up"), ("ann.three", 3, 5, "")]
    sheet = instantly_sheet(tmp_path / "instantly.csv", rows)
    box_paths_before = len(paths(box))

    code, run_dir = run(sheet, tmp_path / "out", box.url)

    assert code == 0
    found = accounts(box)
    for local, limit, increment, tags in rows:
        account = found[f"{local}@fleet.test"]
        assert account["config_rampup_target"] == limit
        assert account["config_rampup_increase"] == increment
        wanted = {"7": {7}, "7;warm-up": {7, 8}, "": set()}[tags]
        assert {t["id"] for t in account["tags"]} == wanted
    sent = paths(box)[box_paths_before:]
    assert sent.count("/v1/imap_auth") == 3
    assert len([p for p in sent if p.startswith("/v1/accounts/")]) == 3  # one update per row
    assert len([p for p in sent if p.startswith("/v1/tags/")]) == 3
    succeeded = {r["email"]: r for r in report(run_dir, "succeeded.csv")}
    assert succeeded["ann.two@fleet.test"]["applied"] == "settings; tag 7; tag 8"
    assert succeeded["ann.two@fleet.test"]["tags"] == "sales-team, warm-up"
    assert summary(run_dir)["connected_incomplete"] == 0


def test_an_out_of_range_warmup_fails_the_row_before_anything_is_sent(
    box: SandboxThread, tmp_path: Path
) -> None:
    sheet = instantly_sheet(tmp_path / "in.csv", [("too.many", 40, 2, ""), ("fine", 20, 2, "")])
    code, run_dir = run(sheet, tmp_path / "out", box.url)
    assert code == 1
    (failed,) = report(run_dir, "failed.csv")
    assert failed["email"] == "too.many@fleet.test"
    assert (failed["stage"], failed["error_code"]) == ("validation", "invalid_setting")
    assert "from 3 to 35" in failed["message"]
    assert "3-35" in failed["hint"]
    assert "too.many@fleet.test" not in accounts(box)  # never connected, nothing changed


def test_a_failed_tag_link_leaves_the_row_connected_and_retry_failed_links_only_it(
    box: SandboxThread, tmp_path: Path
) -> None:
    sheet = instantly_sheet(
        tmp_path / "in.csv", [("ok.row", 20, 2, "7"), ("late.tag", 25, 3, "7;99")]
    )
    code, first = run(sheet, tmp_path / "out", box.url)

    assert code == 1
    (failed,) = report(first, "failed.csv")
    account_id = accounts(box)["late.tag@fleet.test"]["id"]
    assert (failed["stage"], failed["error_code"]) == ("tags", "tags_failed")
    assert f"Connected as account {account_id}" in failed["message"]
    assert "tag 99" in failed["message"]
    assert summary(first)["connected_incomplete"] == 1
    assert accounts(box)["late.tag@fleet.test"]["config_rampup_target"] == 25  # settings applied

    call(box, "POST", "/_sandbox/tags", {"id": 99, "name": "made-later"})
    call(box, "DELETE", "/_sandbox/requests")
    code, second = run(sheet, tmp_path / "out", box.url, RunMode(retry_failed=first))

    assert code == 0
    assert [r["email"] for r in report(second, "succeeded.csv")] == ["late.tag@fleet.test"]
    sent = [p for p in paths(box) if p not in ("/v1/ping", "/v1/accounts")]
    assert sent == ["/v1/tags/99/link"]  # no imap_auth, no settings again, no tag 7 again
    assert {t["id"] for t in accounts(box)["late.tag@fleet.test"]["tags"]} == {7, 99}


def test_an_unknown_tag_name_fails_that_step_with_a_hint(
    box: SandboxThread, tmp_path: Path
) -> None:
    sheet = instantly_sheet(tmp_path / "in.csv", [("named", 20, 2, "no-such-tag;7")])
    code, run_dir = run(sheet, tmp_path / "out", box.url)
    assert code == 1
    (failed,) = report(run_dir, "failed.csv")
    assert (failed["stage"], failed["error_code"]) == ("tags", "unknown_tag")
    assert "'no-such-tag'" in failed["message"]
    assert "id" in failed["hint"]
    assert {t["id"] for t in accounts(box)["named@fleet.test"]["tags"]} == {7}  # the rest done


def test_a_run_stopped_between_connect_and_tags_resumes_with_the_tags_alone(
    tmp_path: Path,
) -> None:
    db = str(tmp_path / "sandbox.sqlite")
    sheet = instantly_sheet(tmp_path / "in.csv", [("first", 20, 2, "7"), ("second", 30, 4, "8")])
    with (
        sandbox_thread(SandboxConfig(api_key=SANDBOX_KEY, db=db)) as box,
        recording_proxy(box.url, refuse_key_on="/v1/tags/") as proxy,
    ):
        code, run_dir = run(sheet, tmp_path / "out", proxy.url)
        settings_sent = [s.body for s in proxy.sent if "/v1/accounts/" in s.path]
    assert code == 77  # the key refused at the tag links: the run stops
    pending = report(run_dir, "unprocessed.csv")
    assert {r["reason"] for r in pending} == {"steps_pending"}
    assert all(r["account_id"] for r in pending)
    # Each row's settings went out unless the stop came first (rows run at once): either way
    # the journal says which were done.
    assert all(body in ({"config_rampup_target": 20, "config_rampup_increase": 2},
                        {"config_rampup_target": 30, "config_rampup_increase": 4})
               for body in settings_sent)  # fmt: skip

    with sandbox_thread(SandboxConfig(api_key=SANDBOX_KEY, db=db)) as box:
        code, resumed = run(sheet, tmp_path / "out", box.url, RunMode(resume=run_dir))
        sent = [p for p in paths(box) if p not in ("/v1/ping", "/v1/accounts")]
        found = accounts(box)
    assert code == 0
    assert resumed == run_dir
    updates = [p for p in sent if p.startswith("/v1/accounts/")]
    assert len(updates) == 2 - len(settings_sent)  # only the settings not done before the stop
    assert sorted(p for p in sent if p not in updates) == ["/v1/tags/7/link", "/v1/tags/8/link"]
    assert {t["id"] for t in found["first@fleet.test"]["tags"]} == {7}
    assert found["second@fleet.test"]["config_rampup_target"] == 30
    assert found["first@fleet.test"]["config_rampup_increase"] == 2
    assert len(report(resumed, "succeeded.csv")) == 2


def test_a_settings_update_waiting_to_be_retried_holds_no_worker(
    box: SandboxThread, tmp_path: Path
) -> None:
    """One worker: while the first row's update waits out its backoff after a 503, the next
    row is connected (the step went back to the delayed queue, as a connect would)."""
    sheet = instantly_sheet(tmp_path / "in.csv", [("slow", 20, 2, ""), ("next", 20, 2, "")])
    with recording_proxy(box.url, unavailable_once_on="/v1/accounts/") as proxy:
        code, run_dir = run(sheet, tmp_path / "out", proxy.url, concurrency=1, backoff_s=0.5)
        order = [s.path.removeprefix("/api") for s in proxy.sent]
    assert code == 0
    slow_id = accounts(box)["slow@fleet.test"]["id"]
    update = f"/v1/accounts/{slow_id}"
    first, retry = (i for i, path in enumerate(order) if path == update)
    connects = [i for i, path in enumerate(order) if path == "/v1/imap_auth"]
    assert first < connects[1] < retry  # the next row went out during the backoff
    assert len(report(run_dir, "succeeded.csv")) == 2
