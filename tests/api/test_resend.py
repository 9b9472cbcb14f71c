"""The lookup before a create is sent again: shared listing passes, and the submission's retries
against a sandbox that refuses an existing email sent without its id."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable

import pytest
from aiohttp import web

from bulk_onboard.api.account_ids import AccountIds
from bulk_onboard.api.client import ApiClient
from bulk_onboard.api.config import ApiConfig
from bulk_onboard.api.listing import Listing, ListingFailed, LiveAccount, list_accounts
from bulk_onboard.api.resend import AFTER_AMBIGUOUS, AFTER_TAKEN, Resend
from bulk_onboard.api.retry_rules import EMAIL_TAKEN, Action, Verdict, classify_transport
from bulk_onboard.api.submit import RetryPolicy, Submission, Submitter
from bulk_onboard.api.throttle import Throttle
from bulk_onboard.errors import ExitCode
from bulk_onboard.sandbox import SandboxConfig, running_sandbox

KEY = "resend-key"
TAKEN = Verdict(Action.FAIL, EMAIL_TAKEN, "Email has already been taken")


class Passes:
    """A stand-in for the listing: each pass waits for `release`, then lists `accounts`."""

    def __init__(self) -> None:
        self.accounts: dict[str, int] = {}
        self.started = 0
        self.release = asyncio.Event()
        self.fail_next = False

    async def __call__(self) -> Listing:
        self.started += 1
        await self.release.wait()
        if self.fail_next:
            self.fail_next = False
            raise ListingFailed(ExitCode.UNAVAILABLE, "listing failed")
        found = {e: LiveAccount(i, {}) for e, i in self.accounts.items()}
        return Listing(found, 1, 1, False)


def ticking() -> Callable[[], float]:
    """A clock that moves one tick per reading."""
    now = iter(range(1, 1_000_000))
    return lambda: float(next(now))


async def test_lookups_waiting_together_share_one_listing_pass() -> None:
    passes = Passes()
    ids = AccountIds({}, passes, clock=ticking())
    since = ids.clock()
    first = asyncio.create_task(ids.look_up("a@x.test", since))
    second = asyncio.create_task(ids.look_up("B@x.test", since))
    await asyncio.sleep(0)
    passes.accounts = {"a@x.test": 1, "b@x.test": 2}
    passes.release.set()
    assert list(await asyncio.gather(first, second)) == [1, 2]
    assert (passes.started, ids.passes) == (1, 1)
    assert ids.id_for("b@x.test") == 2


async def test_a_lookup_never_trusts_a_pass_that_began_before_its_answer() -> None:
    passes = Passes()
    ids = AccountIds({}, passes, clock=ticking())
    early = asyncio.create_task(ids.look_up("a@x.test", ids.clock()))
    await asyncio.sleep(0)
    late = asyncio.create_task(ids.look_up("a@x.test", ids.clock()))  # after the pass began
    await asyncio.sleep(0)
    passes.release.set()
    assert await early is None
    passes.accounts = {"a@x.test": 5}  # made while the first pass ran
    assert await late == 5
    assert passes.started == 2


async def test_a_failed_pass_fails_its_lookups_and_the_next_lookup_lists_again() -> None:
    passes = Passes()
    passes.fail_next = True
    passes.release.set()
    ids = AccountIds({}, passes, clock=ticking())
    with pytest.raises(ListingFailed):
        await ids.look_up("a@x.test", ids.clock())
    passes.accounts = {"a@x.test": 3}
    assert await ids.look_up("a@x.test", ids.clock()) == 3


def test_a_taken_refusal_is_retried_only_for_a_body_without_id() -> None:
    resend = Resend(AccountIds({}, Passes()))
    assert resend.reconsider({"email": "a@x.test"}, TAKEN).action is Action.RETRY
    assert resend.reconsider({"email": "a@x.test", "id": 4}, TAKEN).action is Action.FAIL
    other = Verdict(Action.FAIL, "rejected", "bad port")
    assert resend.reconsider({"email": "a@x.test"}, other) is other


@pytest.mark.parametrize(
    ("verdict", "ambiguous", "learned"),
    [
        (classify_transport("timeout"), True, AFTER_AMBIGUOUS),
        (classify_transport("reset"), True, AFTER_AMBIGUOUS),
        (Verdict(Action.RETRY, EMAIL_TAKEN, "taken"), False, AFTER_TAKEN),
        (Verdict(Action.RETRY, EMAIL_TAKEN, "taken"), True, AFTER_AMBIGUOUS),  # a try before
    ],
)
async def test_the_resent_body_carries_the_id_found_and_why(
    verdict: Verdict, ambiguous: bool, learned: str
) -> None:
    passes = Passes()
    passes.accounts = {"a@x.test": 9}
    passes.release.set()
    ids = AccountIds({}, passes, clock=ticking())
    sub = Submission(verdict, ambiguous=ambiguous)
    body = await Resend(ids).before_resend({"email": "a@x.test", "test": False}, sub, ids.clock())
    assert body == {"email": "a@x.test", "test": False, "id": 9}
    assert sub.learned_from == learned


async def test_nothing_is_looked_up_for_a_body_with_an_id_or_a_plain_retry() -> None:
    passes = Passes()
    ids = AccountIds({}, passes)
    resend = Resend(ids)
    with_id = {"email": "a@x.test", "id": 2}
    timeout = Submission(classify_transport("timeout"), ambiguous=True)
    assert await resend.before_resend(with_id, timeout, 0.0) is with_id
    busy = Submission(Verdict(Action.RETRY, "server_error", "503"))
    body = {"email": "a@x.test"}
    assert await resend.before_resend(body, busy, 0.0) is body
    assert passes.started == 0


@pytest.mark.parametrize("ambiguous", [True, False])
async def test_when_the_lookup_fails_the_row_is_not_sent_again(ambiguous: bool) -> None:
    passes = Passes()
    passes.fail_next = True
    passes.release.set()
    ids = AccountIds({}, passes)
    verdict = classify_transport("timeout") if ambiguous else dataclass_retry(TAKEN)
    sub = Submission(verdict, ambiguous=ambiguous)
    assert await Resend(ids).before_resend({"email": "a@x.test"}, sub, ids.clock()) is None
    if ambiguous:  # it may exist: reported unknown_outcome, never sent blind
        assert sub.interrupted
    else:  # it exists and can't be found: the row fails with the API's word
        assert (sub.verdict.action, sub.verdict.code) == (Action.FAIL, EMAIL_TAKEN)


def dataclass_retry(verdict: Verdict) -> Verdict:
    return Verdict(Action.RETRY, verdict.code, verdict.message)


async def test_a_submission_refused_as_taken_looks_the_id_up_and_updates() -> None:
    body = {
        "email": "old@x.test",
        "first_name": "O",
        "last_name": "L",
        "provider": "custom",
        "imap_server": "imap.x.test",
        "smtp_server": "smtp.x.test",
        "password": "pw-1",
    }
    async with (
        running_sandbox(SandboxConfig(api_key=KEY, upsert=False)) as box,
        ApiClient(ApiConfig(box.base_url, KEY)) as client,
    ):
        made = await client.call("POST", "/v1/imap_auth", body)
        throttle, policy, stop = Throttle(None), RetryPolicy(3, 0.01), asyncio.Event()
        rng = random.Random(0)
        ids = AccountIds({}, lambda: list_accounts(client, throttle, policy, stop, rng))
        submitter = Submitter(client, throttle, policy, stop, rng=rng, resend=Resend(ids))
        sub = await submitter.submit(dict(body))
    assert sub.verdict.action is Action.ACCEPT
    assert sub.account is not None
    assert sub.account["id"] == made.body["id"]
    assert (sub.attempts, sub.learned_from, ids.passes) == (2, AFTER_TAKEN, 1)


async def test_only_a_connect_is_looked_up_a_ping_that_timed_out_is_simply_sent_again() -> None:
    pings: list[float] = []
    listed: list[str] = []

    async def ping(request: web.Request) -> web.Response:
        pings.append(time.monotonic())
        if len(pings) == 1:
            await asyncio.sleep(1.0)  # past the client's deadline: an ambiguous timeout
        return web.json_response({"success": True})

    async def accounts(request: web.Request) -> web.Response:
        listed.append(request.path_qs)
        return web.json_response([])

    app = web.Application()
    app.router.add_get("/api/v1/ping", ping)
    app.router.add_get("/api/v1/accounts", accounts)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}/api"
    try:
        async with ApiClient(ApiConfig(base, KEY, timeout_s=0.3)) as client:
            throttle, policy, stop = Throttle(None), RetryPolicy(3, 0.01), asyncio.Event()
            rng = random.Random(0)
            ids = AccountIds({}, lambda: list_accounts(client, throttle, policy, stop, rng))
            submitter = Submitter(client, throttle, policy, stop, rng=rng, resend=Resend(ids))
            sub = await submitter.submit({}, "/v1/ping", method="GET")
    finally:
        await runner.cleanup()
    assert (sub.verdict.action, sub.attempts) == (Action.ACCEPT, 2)
    assert listed == []
    assert ids.passes == 0


def test_a_body_without_an_email_is_never_looked_up() -> None:
    assert not Resend.needs_lookup({}, classify_transport("timeout"))
    assert Resend.needs_lookup({"email": "a@x.test"}, classify_transport("timeout"))
