"""Every account MailReach holds, by email, from `GET /v1/accounts?page=N`: how `run` and `sync`
learn the ids of existing accounts, and how a create whose outcome is unknown is looked up.

Each page goes through the run's throttle and the same retry table as a row. The loop is not
the Submitter's: that one keeps an account object per answer, while a page is an array, and a
page that fails stops the whole job rather than failing a row.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bulk_onboard.api.accounts import account_fields, tracked
from bulk_onboard.api.client import ApiClient, TransportFailure
from bulk_onboard.api.key_check import client_refused_message, key_refused_message
from bulk_onboard.api.paths import ACCOUNTS_PATH
from bulk_onboard.api.retry_rules import Action, Verdict, classify_response, classify_transport
from bulk_onboard.api.submit import RetryPolicy
from bulk_onboard.api.throttle import Throttle
from bulk_onboard.base.printable import url_shown
from bulk_onboard.errors import ExitCode

# The paging rules, in one place. Documented (MailReach's reference): `GET /v1/accounts` takes
# a `page` query parameter and answers a bare JSON array of account objects. Inferred, as the
# reference says no more: pages are numbered from 0 (page 0 and no `page` give the same first
# page); the page size is the server's (no size parameter is documented, so none is sent, and
# any size works); an empty array means the end. A page equal to the one before also ends the
# listing, so a server that ignores `page` is not listed forever, and MAX_PAGES bounds the rest.
FIRST_PAGE = 0
MAX_PAGES = 100_000  # a listing that never ends is a server fault, not an account base
_WRAPPER_KEYS = ("accounts", "data")  # tolerated around the documented bare array


def page_path(number: int) -> str:
    """The request path of page `number` (FIRST_PAGE first)."""
    return f"{ACCOUNTS_PATH}?page={number}"


def is_last_page(page: list[dict[str, Any]], previous: list[dict[str, Any]] | None) -> bool:
    """Whether `page` ends the listing: empty, or the same as the page before."""
    return not page or page == previous


@dataclass(frozen=True, slots=True)
class LiveAccount:
    """What the listing says of one account: its id and its tracked fields (accounts.tracked)."""

    account_id: int
    seen: dict[str, Any]
    tag_ids: tuple[int, ...] = ()  # the tags it carries: a link to one of these is not resent


@dataclass(frozen=True, slots=True)
class Listing:
    accounts: dict[str, LiveAccount]  # by lower-cased email
    pages: int  # pages fetched, the closing empty or repeated one included
    requests: int  # HTTP requests, retries included
    repeated: bool  # ended because a page repeated the one before
    # Tag ids by case-folded name, as the listed accounts carry them (MailReach publishes no
    # tag listing: this is the only way a tag's name can be resolved to its id).
    tags: dict[str, int] = field(default_factory=dict)

    def counted(self) -> str:
        """ "12 accounts (1 page)", as the run and sync logs say it."""
        accounts = f"{len(self.accounts)} account{'' if len(self.accounts) == 1 else 's'}"
        pages = f"{self.pages} page{'' if self.pages == 1 else 's'}"
        return f"{accounts} ({pages}{', the last one repeating' if self.repeated else ''})"


class ListingFailed(Exception):
    """The listing could not be completed; nothing may be submitted without it."""

    def __init__(self, exit_code: ExitCode, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.message = message


async def list_accounts(
    client: ApiClient,
    throttle: Throttle,
    policy: RetryPolicy,
    stop: asyncio.Event,
    rng: random.Random,
) -> Listing:
    """Page through the account list; raises ListingFailed (77, 69) or on a stop request."""
    accounts: dict[str, LiveAccount] = {}
    tags: dict[str, int] = {}
    previous: list[dict[str, Any]] | None = None
    requests = 0
    for number in range(FIRST_PAGE, FIRST_PAGE + MAX_PAGES):
        page, attempts = await _fetch_page(client, throttle, policy, stop, rng, number)
        requests += attempts
        if is_last_page(page, previous):
            return Listing(accounts, number - FIRST_PAGE + 1, requests, bool(page), tags)
        for item in page:
            _remember(accounts, item)
            _remember_tags(tags, item)
        previous = page
    raise ListingFailed(
        ExitCode.UNAVAILABLE, f"MailReach's account list did not end after {MAX_PAGES} pages."
    )


def _remember(accounts: dict[str, LiveAccount], item: Mapping[str, Any]) -> None:
    email, account_id = item.get("email"), item.get("id")
    if (
        not isinstance(email, str)
        or not isinstance(account_id, int)
        or isinstance(account_id, bool)
    ):
        return  # tolerated, not understood: such an entry can't be matched to a row anyway
    email = email.strip().lower()
    if email not in accounts:
        tags = item.get("tags")
        tag_ids = tuple(
            tag["id"]
            for tag in (tags if isinstance(tags, list) else ())
            if isinstance(tag, Mapping) and type(tag.get("id")) is int
        )
        accounts[email] = LiveAccount(account_id, tracked(account_fields(item, email)), tag_ids)


def _remember_tags(tags: dict[str, int], item: Mapping[str, Any]) -> None:
    found = item.get("tags")
    for tag in found if isinstance(found, list) else ():
        if isinstance(tag, Mapping):
            name, tag_id = tag.get("name"), tag.get("id")
            if isinstance(name, str) and isinstance(tag_id, int) and not isinstance(tag_id, bool):
                tags.setdefault(name.strip().casefold(), tag_id)


def _page_of(body: Any) -> list[dict[str, Any]] | None:
    if isinstance(body, dict):
        body = next((body[k] for k in _WRAPPER_KEYS if isinstance(body.get(k), list)), None)
    if not isinstance(body, list):
        return None
    return [item for item in body if isinstance(item, dict)]


async def _fetch_page(
    client: ApiClient,
    throttle: Throttle,
    policy: RetryPolicy,
    stop: asyncio.Event,
    rng: random.Random,
    number: int,
) -> tuple[list[dict[str, Any]], int]:
    attempts = 0
    while True:
        if stop.is_set():
            raise ListingFailed(ExitCode.UNAVAILABLE, "Stopped while listing the accounts.")
        await throttle.admit()
        attempts += 1
        status = None
        try:
            answer = await client.call("GET", page_path(number))
        except TransportFailure as failure:
            verdict = classify_transport(failure.kind)
        else:
            status = answer.status
            verdict = classify_response(
                answer.status, answer.body, answer.retry_after, answer.location
            )
            if verdict.action is Action.ACCEPT:
                page = _page_of(answer.body)
                if page is not None:
                    return page, attempts
                verdict = Verdict(Action.FAIL, "rejected", "the answer is not a list of accounts.")
        if verdict.action is Action.STOP_KEY:
            raise ListingFailed(ExitCode.KEY_REFUSED, key_refused_message(status, client.config))
        if verdict.action is Action.STOP_CLIENT:
            raise ListingFailed(ExitCode.UNAVAILABLE, client_refused_message(client.config))
        if verdict.action is not Action.RETRY or attempts >= policy.max_attempts:
            raise ListingFailed(
                ExitCode.UNAVAILABLE,
                f"Listing MailReach's accounts at {url_shown(client.config.base_url)} failed at "
                f"page {number} after {attempts} attempt(s): {verdict.message}",
            )
        pause = policy.backoff_s(attempts, rng)
        if verdict.code == "rate_limited":
            pause = verdict.retry_after_s if verdict.retry_after_s is not None else pause
            throttle.pause(pause)
        elif verdict.retry_after_s is not None:
            pause = max(pause, verdict.retry_after_s)
        try:
            async with asyncio.timeout(pause):
                await stop.wait()
        except TimeoutError:
            continue
