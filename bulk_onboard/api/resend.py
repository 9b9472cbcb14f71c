"""Before a connect is sent again: the lookup that keeps a retry from duplicating an account, or
from failing because the first try did create it, whether or not MailReach upserts by email.

Two answers mean the email may have an account the body does not name:
- an *ambiguous* failure (a timeout, a connection dropped after sending, a 2xx that is no JSON):
  the create may have been carried out;
- an `email_taken` refusal (422 "Email has already been taken"): it has one.
Either way a body without `id` is sent again only after its email was looked up, and with the
id the lookup found. A taken refusal is retried for that (it fails the row only when the
lookup can't find the account). When the lookup itself fails, an ambiguous row is not sent
again: it ends as `unknown_outcome`, as a run that stopped would leave it.

The submission loop (submit.py) calls this at two points: `reconsider` on each answer, and
`before_resend` just before the next attempt (after the backoff, so a server still working on
the first try has had time to finish).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from bulk_onboard.api.account_ids import AccountIds
from bulk_onboard.api.listing import ListingFailed
from bulk_onboard.api.retry_rules import EMAIL_TAKEN, Action, Verdict
from bulk_onboard.api.submit import Submission

# Submission.learned_from: why the id sent on a retry was looked up.
AFTER_AMBIGUOUS = "ambiguous"  # a try may have made the account: this run created it
AFTER_TAKEN = "taken"  # MailReach said it existed, with no try of ours before: updated


class Resend:
    """The lookups of one run, on the ids it knows (AccountIds)."""

    def __init__(self, ids: AccountIds) -> None:
        self._ids = ids

    @staticmethod
    def needs_lookup(body: dict[str, Any], verdict: Verdict) -> bool:
        """Whether `body` may be sent again only after its email was looked up."""
        if "id" in body or not isinstance(body.get("email"), str):
            return False
        return verdict.ambiguous or verdict.code == EMAIL_TAKEN

    def reconsider(self, body: dict[str, Any], verdict: Verdict) -> Verdict:
        """An `email_taken` refusal of a body without `id` is retried, after a lookup."""
        if verdict.code == EMAIL_TAKEN and verdict.action is Action.FAIL and "id" not in body:
            return dataclasses.replace(verdict, action=Action.RETRY)
        return verdict

    def since(self) -> float:
        """A reading of the lookups' clock: taken when an answer calling for one came."""
        return self._ids.clock()

    async def before_resend(
        self, body: dict[str, Any], sub: Submission, since: float
    ) -> dict[str, Any] | None:
        """The body of the next try after `sub.verdict`, with the account's id when a lookup
        found one; None when the lookup failed, so the row must not be sent again (`sub` then
        says how it ends: unknown_outcome if a try may have been carried out, else failed).

        `since`: when the last answer came; the lookup shows what happened up to then at least.
        """
        verdict = sub.verdict
        if not self.needs_lookup(body, verdict):
            return body
        try:
            found = await self._ids.look_up(str(body.get("email", "")), since)
        except ListingFailed:
            if sub.ambiguous:
                sub.interrupted = True  # reported unknown_outcome, as after a stop
            else:
                sub.verdict = dataclasses.replace(verdict, action=Action.FAIL)
            return None
        if found is None:
            return body
        # `sub.ambiguous`: this or an earlier try may have been carried out.
        sub.learned_from = AFTER_AMBIGUOUS if sub.ambiguous else AFTER_TAKEN
        return {**body, "id": found}
