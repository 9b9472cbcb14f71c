"""The sandbox, over real HTTP on loopback: routes, answers, fault knobs, and running it."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bulk_onboard.sandbox import Sandbox, SandboxConfig, running_sandbox

KEY = {"X-Api-Key": "sandbox"}
SECRET = "s3cret-Pa55word-nobody-echoes"
REPO_ROOT = Path(__file__).resolve().parents[2]

Json = Any


def connect_body(email: str = "ada@example.com", **fields: Json) -> dict[str, Json]:
    """A valid imap_auth body for a Gmail mailbox; `fields` override or add."""
    return {
        "email": email,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "provider": "gmail",
        "password": SECRET,
        **fields,
    }


async def call(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    method: str,
    path: str,
    body: Json = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Json]:
    """One request: its status and its JSON body (None if the body is empty)."""
    async with session.request(
        method, sandbox.base_url + path, json=body, headers=KEY if headers is None else headers
    ) as response:
        raw = await response.read()
        return response.status, json.loads(raw) if raw else None


async def connect(
    session: aiohttp.ClientSession, sandbox: Sandbox, body: dict[str, Json]
) -> tuple[int, Json]:
    return await call(session, sandbox, "POST", "/v1/imap_auth", body)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with running_sandbox(SandboxConfig()) as running:
        yield running


async def test_connecting_the_same_email_again_updates_the_same_account(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    status, created = await connect(session, sandbox, connect_body())
    assert status == 200
    status, updated = await connect(
        session, sandbox, connect_body("ADA@Example.com", first_name="Augusta")
    )
    assert status == 200
    assert updated["id"] == created["id"]
    assert updated["first_name"] == "Augusta"
    assert updated["email"] == "ada@example.com"
    assert len(sandbox.state.store) == 1


async def test_without_upsert_an_existing_email_sent_without_id_is_422(
    session: aiohttp.ClientSession,
) -> None:
    async with running_sandbox(SandboxConfig(upsert=False)) as sandbox:
        status, created = await connect(session, sandbox, connect_body())
        assert status == 200
        taken = await connect(session, sandbox, connect_body("ADA@example.com", first_name="A"))
        assert taken == (422, {"error": "Email has already been taken"})
        status, updated = await connect(
            session, sandbox, connect_body(id=created["id"], first_name="Augusta")
        )
        assert (status, updated["id"], updated["first_name"]) == (200, created["id"], "Augusta")
        # A test changes nothing, so it is not refused.
        status, tested = await connect(session, sandbox, connect_body(test=True))
        assert (status, tested["id"]) == (200, created["id"])
        assert len(sandbox.state.store) == 1


async def test_concurrent_connects_of_one_email_make_one_account(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    emails = ["bob@example.com", "BOB@example.com", "Bob@Example.com"] * 8
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(connect(session, sandbox, connect_body(e))) for e in emails]
    answers = [task.result() for task in tasks]
    assert {status for status, _ in answers} == {200}
    assert len({account["id"] for _, account in answers}) == 1
    assert len(sandbox.state.store) == 1


@pytest.mark.parametrize(
    ("fields", "imap_ok", "smtp_ok", "error_starts"),
    [
        ({"password": "wrong-password"}, False, False, "IMAP authentication failed: "),
        ({"password": "wrong-imap-password"}, False, True, "IMAP authentication failed: "),
        ({"password": "wrong-smtp-password"}, True, False, "SMTP authentication failed: "),
        ({"smtp_server_password": "wrong-smtp-password"}, True, False, "SMTP authentication"),
    ],
)
async def test_magic_passwords_fail_login_with_the_auth_error_body(
    session: aiohttp.ClientSession,
    sandbox: Sandbox,
    fields: dict[str, str],
    imap_ok: bool,
    smtp_ok: bool,
    error_starts: str,
) -> None:
    status, body = await connect(session, sandbox, connect_body(**fields))
    assert status == 500
    assert set(body) == {"success", "imap_auth_success", "smtp_auth_success", "error"}
    assert body["success"] is False
    assert (body["imap_auth_success"], body["smtp_auth_success"]) == (imap_ok, smtp_ok)
    assert body["error"].startswith(error_starts)
    assert len(sandbox.state.store) == 0


async def test_gmail_imap_failure_reads_like_the_real_one(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    _, body = await connect(session, sandbox, connect_body(password="wrong-imap-password"))
    assert body["error"] == (
        "IMAP authentication failed: [AUTHENTICATIONFAILED] Invalid credentials (Failure)"
    )


async def test_dry_run_answers_the_account_but_stores_nothing(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    status, preview = await connect(session, sandbox, connect_body(test=True))
    assert status == 200
    assert preview["id"] is None
    assert preview["email"] == "ada@example.com"
    assert len(sandbox.state.store) == 0
    _, created = await connect(session, sandbox, connect_body())
    _, preview = await connect(session, sandbox, connect_body(test=True, first_name="Changed"))
    assert preview["id"] == created["id"]
    assert preview["first_name"] == "Changed"
    assert sandbox.state.store.get(created["id"])["first_name"] == "Ada"  # type: ignore[index]


async def test_dry_run_still_fails_on_magic_passwords(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    status, _ = await connect(session, sandbox, connect_body(test=True, password="wrong-password"))
    assert status == 500


@pytest.mark.parametrize(
    ("body", "error_has"),
    [
        ({k: v for k, v in connect_body().items() if k != "last_name"}, "last_name is required"),
        (connect_body(provider="yahoo"), "provider"),
        (connect_body(imap_server_port=70000), "imap_server_port"),
        (connect_body(smtp_server_port="587"), "smtp_server_port"),
        (connect_body(daily_limit=30), "daily_limit is not a known field"),
        (connect_body(email="not-an-email"), "email"),
        (connect_body(id=2**31), "id"),
        (connect_body(provider="custom"), "smtp_server is required"),
        ([connect_body()], "JSON object"),
    ],
)
async def test_invalid_bodies_are_refused_with_400(
    session: aiohttp.ClientSession, sandbox: Sandbox, body: Json, error_has: str
) -> None:
    status, answer = await connect(session, sandbox, body)
    assert status == 400
    assert set(answer) == {"error"}
    assert error_has in answer["error"]


async def test_a_body_that_is_not_json_is_refused_with_400(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    headers = {**KEY, "Content-Type": "application/json"}
    async with session.post(
        sandbox.base_url + "/v1/imap_auth", data=b"{email:", headers=headers
    ) as response:
        assert response.status == 400
        assert await response.json() == {"error": "the body is not valid JSON"}


async def test_a_body_without_json_content_type_is_refused_with_400(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    headers = {**KEY, "Content-Type": "text/plain"}
    payload = json.dumps(connect_body()).encode()
    async with session.post(
        sandbox.base_url + "/v1/imap_auth", data=payload, headers=headers
    ) as response:
        assert response.status == 400


@pytest.mark.parametrize("headers", [{}, {"X-Api-Key": "wrong"}, {"X-Api-Key": "Bearer wrong"}])
async def test_a_wrong_or_missing_key_is_401(
    session: aiohttp.ClientSession, sandbox: Sandbox, headers: dict[str, str]
) -> None:
    assert await call(session, sandbox, "GET", "/v1/ping", headers=headers) == (
        401,
        {"error": "Unauthorized"},
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Api-Key": "sandbox"},
        {"X-Api-Key": "Bearer sandbox"},
        {"Authorization": "Bearer sandbox"},
    ],
)
async def test_the_key_is_accepted_bare_or_with_a_bearer_prefix(
    session: aiohttp.ClientSession, sandbox: Sandbox, headers: dict[str, str]
) -> None:
    assert await call(session, sandbox, "GET", "/v1/ping", headers=headers) == (
        200,
        {"success": True},
    )


async def test_connecting_an_unknown_id_is_404(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    assert await connect(session, sandbox, connect_body(id=4242)) == (
        404,
        {"error": "Account not found"},
    )


async def test_connecting_an_id_of_another_email_is_400(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    _, other = await connect(session, sandbox, connect_body("other@example.com"))
    status, _ = await connect(session, sandbox, connect_body(id=other["id"]))
    assert status == 400


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/nope"), ("POST", "/v1/ping"), ("GET", "/v2/ping"), ("GET", "/v1/accounts/x")],
)
async def test_a_wrong_path_is_404_with_an_empty_body(
    session: aiohttp.ClientSession, sandbox: Sandbox, method: str, path: str
) -> None:
    async with session.request(method, sandbox.base_url + path, headers=KEY) as response:
        assert response.status == 404
        assert await response.read() == b""


async def test_accounts_are_listed_in_pages_until_an_empty_one(
    session: aiohttp.ClientSession,
) -> None:
    async with running_sandbox(SandboxConfig(page_size=2)) as sandbox:
        for n in range(5):
            await connect(session, sandbox, connect_body(f"user{n}@example.com"))
        pages = [
            (await call(session, sandbox, "GET", f"/v1/accounts?page={p}"))[1] for p in range(4)
        ]
        assert [[a["email"] for a in page] for page in pages] == [
            ["user0@example.com", "user1@example.com"],
            ["user2@example.com", "user3@example.com"],
            ["user4@example.com"],
            [],
        ]
        assert (await call(session, sandbox, "GET", "/v1/accounts"))[1] == pages[0]
        assert (await call(session, sandbox, "GET", "/v1/accounts?page=-1"))[0] == 400


async def test_an_account_is_read_by_id(session: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    _, created = await connect(session, sandbox, connect_body())
    assert await call(session, sandbox, "GET", f"/v1/accounts/{created['id']}") == (200, created)
    assert (await call(session, sandbox, "GET", "/v1/accounts/999"))[0] == 404


async def test_an_account_is_updated_by_id_leaving_other_fields(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    _, created = await connect(session, sandbox, connect_body())
    path = f"/v1/accounts/{created['id']}"
    status, updated = await call(
        session, sandbox, "POST", path, {"alive": False, "config_rampup_target": 35}
    )
    assert status == 200
    assert (updated["alive"], updated["config_rampup_target"]) == (False, 35)
    assert updated["first_name"] == created["first_name"]
    assert (await call(session, sandbox, "GET", path))[1] == updated


async def test_accounts_have_deterministic_plausible_scores_and_dns(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    _, account = await connect(session, sandbox, connect_body())
    for field in ("score", "score_gmail", "score_outlook", "score_custom"):
        assert 60 <= account[field] <= 100
    domain = account["domain"]
    assert domain["domain"] == "example.com"
    assert (domain["spf_valid"], domain["dkim_valid"], domain["dmarc_valid"]) == (True,) * 3
    assert domain["mx_records"][0] == ["aspmx.l.google.com", "142.250.27.1", "1"]
    async with running_sandbox(SandboxConfig()) as other:
        _, again = await connect(session, other, connect_body())
    assert again["score"] == account["score"]
    timestamps = ("created_at", "updated_at", "last_check_at")
    assert {k: v for k, v in again["domain"].items() if k not in timestamps} == {
        k: v for k, v in domain.items() if k not in timestamps
    }


async def test_a_nodns_test_domain_fails_every_dns_check(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    _, account = await connect(session, sandbox, connect_body("eve@broken.nodns.test"))
    domain = account["domain"]
    assert (domain["spf_valid"], domain["dkim_valid"], domain["dmarc_valid"]) == (False,) * 3
    assert (domain["spf_value"], domain["dkim_selector"], domain["dmarc_value"]) == ("",) * 3
    assert domain["mx_records"] == []


async def test_past_the_rate_limit_requests_get_429_with_retry_after(
    session: aiohttp.ClientSession,
) -> None:
    async with running_sandbox(SandboxConfig(rate_limit=5)) as sandbox:
        statuses = []
        for _ in range(6):
            async with session.get(sandbox.base_url + "/v1/ping", headers=KEY) as response:
                statuses.append(response.status)
                retry_after = response.headers.get("Retry-After")
                body = await response.json()
        assert statuses == [200] * 5 + [429]
        assert retry_after == "1"
        assert body == {"error": "Too many requests"}


async def test_fail_rate_one_answers_every_request_503(session: aiohttp.ClientSession) -> None:
    async with running_sandbox(SandboxConfig(fail_rate=1.0)) as sandbox:
        assert await connect(session, sandbox, connect_body()) == (
            503,
            {"error": "Service unavailable"},
        )
        assert len(sandbox.state.store) == 0


async def test_fail_first_answers_each_emails_first_tries_503_then_serves_it(
    session: aiohttp.ClientSession,
) -> None:
    async with running_sandbox(SandboxConfig(fail_first=2)) as sandbox:
        statuses = [
            (await connect(session, sandbox, connect_body(email)))[0]
            for email in ("a@example.com", "b@example.com", "A@example.com", "b@example.com")
        ]
        assert statuses == [503, 503, 503, 503]
        assert (await connect(session, sandbox, connect_body("a@example.com")))[0] == 200
        assert (await connect(session, sandbox, connect_body("b@example.com")))[0] == 200
        assert len(sandbox.state.store) == 2


async def test_reset_rate_one_drops_the_connection_unanswered(
    session: aiohttp.ClientSession,
) -> None:
    async with running_sandbox(SandboxConfig(reset_rate=1.0)) as sandbox:
        with pytest.raises(aiohttp.ClientConnectionError):
            await connect(session, sandbox, connect_body())
        assert len(sandbox.state.store) == 0
        assert [entry["status"] for entry in sandbox.state.log.as_json()] == [None]


async def test_latency_delays_every_answer(session: aiohttp.ClientSession) -> None:
    async with running_sandbox(SandboxConfig(latency_ms=200)) as sandbox:
        started = time.monotonic()
        status, _ = await call(session, sandbox, "GET", "/v1/ping")
        assert status == 200
        assert time.monotonic() - started >= 0.2


async def test_the_key_is_refused_for_good_after_revoke_after_connects(
    session: aiohttp.ClientSession,
) -> None:
    async with running_sandbox(SandboxConfig(revoke_after=2)) as sandbox:
        statuses = [
            (await connect(session, sandbox, connect_body(f"u{n}@example.com")))[0]
            for n in range(3)
        ]
        assert statuses == [200, 200, 401]
        assert (await call(session, sandbox, "GET", "/v1/ping"))[0] == 401


async def test_the_request_log_records_arrival_times_statuses_and_emails(
    session: aiohttp.ClientSession,
) -> None:
    async with running_sandbox(SandboxConfig(latency_ms=100)) as sandbox:
        before = time.time()
        await connect(session, sandbox, connect_body())
        await call(session, sandbox, "GET", "/v1/ping", headers={})
        after = time.time()
        _, log = await call(session, sandbox, "GET", "/_sandbox/requests", headers={})
        first, second = log["requests"]
        assert before <= first["t"] <= second["t"] - 0.1 <= after - 0.1
        assert (first["method"], first["path"], first["status"], first["email"]) == (
            "POST",
            "/api/v1/imap_auth",
            200,
            "ada@example.com",
        )
        assert (second["status"], second["email"]) == (401, None)
        assert log["accounts"] == 1
        async with session.delete(sandbox.base_url + "/_sandbox/requests") as response:
            assert response.status == 200
        assert (await call(session, sandbox, "GET", "/_sandbox/requests"))[1]["requests"] == []


async def test_drift_changes_account_fields_behind_the_clients_back(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    _, created = await connect(session, sandbox, connect_body())
    drift = f"/_sandbox/accounts/{created['id']}/drift"
    changes = {"score": 12, "alive": False, "domain.dmarc_valid": False}
    status, drifted = await call(session, sandbox, "POST", drift, changes, headers={})
    assert status == 200
    assert drifted["score"] == 12
    assert drifted["alive"] is False
    assert drifted["domain"]["dmarc_valid"] is False
    _, reconnected = await connect(session, sandbox, connect_body())
    assert reconnected["score"] == 12
    assert (await call(session, sandbox, "POST", drift, {"nope": 1}, headers={}))[0] == 400


async def test_accounts_persist_in_a_db_file_across_instances(
    session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    config = SandboxConfig(db=str(tmp_path / "sandbox.sqlite"))
    async with running_sandbox(config) as first:
        _, created = await connect(session, first, connect_body())
    async with running_sandbox(config) as second:
        assert await call(session, second, "GET", f"/v1/accounts/{created['id']}") == (
            200,
            created,
        )
        _, again = await connect(session, second, connect_body("ADA@example.com"))
        _, newer = await connect(session, second, connect_body("new@example.com"))
        assert again["id"] == created["id"]
        assert newer["id"] == created["id"] + 1


async def test_the_db_file_is_private_to_its_owner(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.sqlite"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bulk_onboard.sandbox", "--port", "0", "--db", str(db),
        cwd=REPO_ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), 10)).decode()
        url = line.split(" listening on ")[1].split()[0]
        async with (
            aiohttp.ClientSession() as client,
            client.post(url + "/v1/imap_auth", json=connect_body(), headers=KEY) as response,
        ):
            assert response.status == 200
        files = sorted(tmp_path.glob("sandbox.sqlite*"))
        assert db in files
        assert {f.name: f.stat().st_mode & 0o777 for f in files} == {f.name: 0o600 for f in files}
    finally:
        process.terminate()
        await process.wait()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
async def test_a_bind_beyond_loopback_is_refused_with_the_public_default_key(host: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bulk_onboard.sandbox", "--host", host, "--port", "0",
        cwd=REPO_ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), 10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 2
    assert stdout == b""  # never listened
    assert "--api-key" in stderr.decode()
    assert "Traceback" not in stderr.decode()


@pytest.mark.parametrize(
    ("host", "key", "allowed"),
    [
        ("127.0.0.1", None, True),
        ("localhost", None, True),
        ("::1", None, True),
        ("0.0.0.0", None, False),
        ("0.0.0.0", "a-key-of-its-own", True),
        ("", None, False),
        ("sandbox.example.test", None, False),  # a name is not looked up: loopback is named
    ],
)
def test_which_binds_need_a_key_of_their_own(host: str, key: str | None, allowed: bool) -> None:
    from bulk_onboard.commands.sandbox import sandbox_key
    from bulk_onboard.errors import UsageError

    if allowed:
        assert sandbox_key(host, key) == (key or "sandbox")
    else:
        with pytest.raises(UsageError, match="--api-key"):
            sandbox_key(host, key)


async def test_no_password_appears_in_any_answer_or_the_log(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    bodies = [
        connect_body(),
        connect_body(imap_server_password=SECRET, smtp_server_password=SECRET, test=True),
        connect_body("x@example.com", smtp_server_password="wrong-smtp-password"),
        connect_body(surprise=SECRET),
        connect_body(password=987654321),
        connect_body(provider="custom"),
    ]
    texts = []
    for body in bodies:
        async with session.post(sandbox.base_url + "/v1/imap_auth", json=body, headers=KEY) as r:
            texts.append(await r.text())
    for path in ("/v1/accounts", "/_sandbox/requests"):
        async with session.get(sandbox.base_url + path, headers=KEY) as response:
            texts.append(await response.text())
    everything = "\n".join(texts)
    for secret in (SECRET, "987654321", "wrong-smtp-password"):
        assert secret not in everything


async def test_the_module_exits_with_one_sentence_when_its_port_is_taken() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bulk_onboard.sandbox",
            "--port",
            port,
            cwd=REPO_ROOT,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(process.communicate(), 10)
    assert process.returncode == 69
    assert stderr.decode().startswith(f"error: The sandbox can't listen on 127.0.0.1:{port}")
    assert "Traceback" not in stderr.decode()


async def _serve_in_a_process(signum: signal.Signals) -> tuple[str, int | None, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bulk_onboard.sandbox",
        "--port",
        "0",
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), 10)).decode()
        url = line.split(" listening on ")[1].split()[0]
        async with (
            aiohttp.ClientSession() as client,
            client.get(url + "/v1/ping", headers=KEY) as response,
        ):
            assert response.status == 200
        process.send_signal(signum)
        _, stderr = await asyncio.wait_for(process.communicate(), 10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return line, process.returncode, stderr.decode()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_the_module_serves_prints_its_url_and_stops_cleanly_on_a_signal(
    signum: signal.Signals,
) -> None:
    line, returncode, stderr = await _serve_in_a_process(signum)
    assert line.startswith("MailReach sandbox listening on http://127.0.0.1:")
    assert line.rstrip().endswith("/api (key: sandbox)")
    assert returncode == 0
    assert "Traceback" not in stderr
