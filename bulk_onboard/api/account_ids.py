"""The ids of the accounts MailReach already has, by email: learnt from the listing before rows
are sent, and looked up again when a create's outcome is unknown.

MailReach documents `id` as the way to update an account; it does not document that
`imap_auth` without one matches an existing account by email. So an existing mailbox is sent
with its id, and a create that may have been carried out (a timeout, a reset after sending) is
looked up before it is sent again. The only lookup MailReach documents is the listing, so a
lookup is a new pass of it: one pass at a time, shared by every row that can use it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bulk_onboard.api.listing import Listing


class AccountIds:
    """Account ids by lower-cased email, and fresh lookups of the ones not known yet."""

    def __init__(
        self,
        known: Mapping[str, int],
        relist: Callable[[], Awaitable[Listing]],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._known = dict(known)
        self._tags: dict[str, int] = {}  # tag ids by case-folded name
        self._seen: dict[str, dict[str, Any]] = {}  # the listing's tracked fields, by email
        self._relist = relist
        self._clock = clock
        self._pass: asyncio.Task[Listing] | None = None
        self._pass_started = float("-inf")
        self.passes = 0  # listing passes made for lookups
        self.requests = 0  # their HTTP requests, retries included

    def learn(self, listing: Listing) -> None:
        """Take the ids a listing found."""
        self._known.update((e, a.account_id) for e, a in listing.accounts.items())
        self._tags.update(listing.tags)
        self._seen.update((e, a.seen) for e, a in listing.accounts.items())

    def account(self, email: str) -> dict[str, Any] | None:
        """What the last listing showed of `email`'s account: `id` and its tracked fields
        (scores, flags), or None if it was not listed."""
        email = email.lower()
        found = self._known.get(email)
        return None if found is None else {"id": found, **self._seen.get(email, {})}

    def learn_tag(self, name: str, tag_id: int) -> None:
        """A tag seen otherwise (a link's answer names its tag)."""
        self._tags.setdefault(name.strip().casefold(), tag_id)

    def tag_id(self, name: str) -> int | None:
        """The id of the tag of this name seen on a listed account, if any."""
        return self._tags.get(name.strip().casefold())

    def id_for(self, email: str) -> int | None:
        """The known account id of `email`, if any."""
        return self._known.get(email.lower())

    def with_id(self, body: dict[str, object]) -> dict[str, object]:
        """`body` with the id of its email's account when one is known and it names none."""
        if "id" not in body and (found := self.id_for(str(body.get("email", "")))) is not None:
            body["id"] = found
        return body

    def clock(self) -> float:
        """The clock lookups are timed by (`since` of `look_up`)."""
        return self._clock()

    async def look_up(self, email: str, since: float) -> int | None:
        """The account id of `email` as a listing pass started at or after `since` shows it.

        A pass already running that started before `since` can't show what happened since: it
        is left to finish, then a new one starts, which every caller waiting meanwhile shares.
        Raises ListingFailed when the pass fails.
        """
        while self._pass is None or self._pass_started < since:
            if self._pass is not None and not self._pass.done():
                await asyncio.wait({self._pass})
                continue
            self._pass_started = self._clock()
            self._pass = asyncio.create_task(self._relisted())
            # Its failure is raised to the callers awaiting it; this keeps asyncio from also
            # warning that it was never retrieved when none is left to await it.
            self._pass.add_done_callback(lambda task: task.cancelled() or task.exception())
            self.passes += 1
        # shield: one row giving up (a stop) must not cancel the pass others wait for.
        listing = await asyncio.shield(self._pass)
        found = listing.accounts.get(email.lower())
        return None if found is None else found.account_id

    async def _relisted(self) -> Listing:
        listing = await self._relist()
        self.requests += listing.requests
        self.learn(listing)
        return listing
