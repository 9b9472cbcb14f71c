"""Listing MailReach's accounts page by page, against the in-process sandbox and odd servers."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bulk_onboard.api.client import ApiClient
from bulk_onboard.api.config import ApiConfig
from bulk_onboard.api.listing import Listing, ListingFailed, list_accounts
from bulk_onboard.api.submit import RetryPolicy
from bulk_onboard.api.throttle import Throttle
from bulk_onboard.errors import ExitCode
from bulk_onboard.sandbox import SandboxConfig, running_sandbox

KEY = "reconcile-key"


def body(i: int) -> dict[str, object]:
    return {
        "email": f"User{i}@Example.test",
        "first_name": "U",
        "last_name": f"N{i}",
        "provider": "custom",
        "imap_server": "imap.example.test",
        "imap_server_port": 993,
        "smtp_server": "smtp.example.test",
        "smtp_server_port": 587,
        "password": f"pw-{i}",
    }


async def listing_of(base_url: str, key: str = KEY) -> tuple[dict[str, int], int]:
    async with ApiClient(ApiConfig(base_url, key, timeout_s=5)) as client:
        listing = await list_accounts(
            client, Throttle(None), RetryPolicy(2, 0.01), asyncio.Event(), random.Random(0)
        )
    return {e: a.account_id for e, a in listing.accounts.items()}, listing.pages


async def test_every_page_is_read_until_an_empty_one() -> None:
    async with running_sandbox(SandboxConfig(api_key=KEY, page_size=2)) as box:
        async with ApiClient(ApiConfig(box.base_url, KEY)) as client:
            for i in range(5):
                assert (await client.call("POST", "/v1/imap_auth", body(i))).status == 200
        accounts, pages = await listing_of(box.base_url)
    assert accounts == {f"user{i}@example.test": i + 1 for i in range(5)}
    assert pages == 4  # 2 + 2 + 1, then the empty page


@pytest.fixture
async def page_ignoring_server() -> AsyncIterator[str]:
    """A server that answers the same page whatever `page` asks for."""

    async def same_page(request: web.Request) -> web.Response:
        return web.json_response([{"id": 9, "email": "only@example.test"}])

    app = web.Application()
    app.router.add_get("/api/v1/accounts", same_page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/api"
    await runner.cleanup()


async def test_a_page_repeating_the_one_before_ends_the_listing(page_ignoring_server: str) -> None:
    accounts, pages = await listing_of(page_ignoring_server)
    assert accounts == {"only@example.test": 9}
    assert pages == 2


async def test_a_refused_key_fails_the_listing_with_exit_77() -> None:
    async with running_sandbox(SandboxConfig(api_key=KEY)) as box:
        with pytest.raises(ListingFailed) as failed:
            await listing_of(box.base_url, key="wrong")
    assert failed.value.exit_code == ExitCode.KEY_REFUSED


async def test_an_unreachable_api_fails_the_listing_with_exit_69() -> None:
    with pytest.raises(ListingFailed) as failed:
        await listing_of("http://127.0.0.1:9/api")
    assert failed.value.exit_code == ExitCode.UNAVAILABLE


@pytest.mark.parametrize(
    ("accounts", "pages", "repeated", "said"),
    [
        (0, 1, False, "0 accounts (1 page)"),
        (1, 2, False, "1 account (2 pages)"),
        (2, 3, True, "2 accounts (3 pages, the last one repeating)"),
    ],
)
def test_the_listing_is_counted_in_words(
    accounts: int, pages: int, repeated: bool, said: str
) -> None:
    by_email = dict.fromkeys((f"u{i}@x.test" for i in range(accounts)), None)
    listing = Listing(by_email, pages, pages, repeated)  # type: ignore[arg-type]
    assert listing.counted() == said
