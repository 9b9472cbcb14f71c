"""What follows a connect: the row's account settings and tag links, as their own steps.

After `imap_auth` succeeds, a row with settings sends one `POST /v1/accounts/{id}` and one
`POST /v1/tags/{tag}/link` per tag, through the same submitter (client, throttle, retry table)
as the connect. Each step is keyed (`settings:<body>`, `tag:<id>`), and the keys done are
journaled with the account, so a row that connected is never connected again for what is left:

- the moment the connect succeeds, the row is journaled as unprocessed `steps_pending` with its
  account (a crash or a stop then leaves exactly that for `--resume`);
- a step that fails for good leaves the row failed at stage `settings` or `tags`, its message
  naming the account id, for `--retry-failed`;
- either way the next run takes the account from that record and sends only the steps whose
  keys are not done (`settings` again if the sheet's settings changed since).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from bulk_onboard.api.account_ids import AccountIds
from bulk_onboard.api.accounts import account_fields
from bulk_onboard.api.retry_rules import STOP_EXIT_CODES, Action
from bulk_onboard.api.submit import Submission, Submitter
from bulk_onboard.base.hints import hint_for
from bulk_onboard.base.outcomes import Outcome, Stage, Status, Unprocessed
from bulk_onboard.engine.stopping import StopControl
from bulk_onboard.rows.account_settings import TagRef
from bulk_onboard.rows.normalise import NormalisedRow

STEPS_PENDING = Unprocessed.STEPS_PENDING


def account_path(account_id: int) -> str:
    return f"/v1/accounts/{account_id}"


def tag_link_path(tag_id: int) -> str:
    return f"/v1/tags/{tag_id}/link"


@dataclass(frozen=True, slots=True)
class Step:
    """One request after the connect; `key` is what the journal remembers once it is done."""

    key: str
    stage: Stage
    path: str
    body: dict[str, Any]
    shown: str  # how the report names it: "settings", "tag 7"


@dataclass(frozen=True, slots=True)
class Connected:
    """A row connected earlier (this run before a crash, or the run being retried)."""

    fields: dict[str, Any]  # succeeded.csv's columns as the connect left them
    done: tuple[str, ...]  # keys of the steps done since

    @property
    def account_id(self) -> int | None:
        found = self.fields.get("account_id")
        return found if isinstance(found, int) else None


def connected_record(outcome: Outcome) -> Connected | None:
    """What an outcome says of a connect whose steps were not all done, if it says so."""
    fields = outcome.fields
    connected = fields.get("connected")
    if not isinstance(connected, dict) or not isinstance(connected.get("account_id"), int):
        return None
    done = fields.get("done")
    return Connected(connected, tuple(d for d in done if isinstance(d, str)) if done else ())


def settings_key(settings: Mapping[str, object]) -> str:
    return "settings:" + json.dumps(dict(settings), sort_keys=True, separators=(",", ":"))


class AfterConnect:
    """The steps after each row's connect, for one run."""

    def __init__(
        self,
        submitter: Submitter,
        ids: AccountIds,
        stop: StopControl,
        note: Callable[[Outcome], None],
        earlier: Mapping[str, Connected] | None = None,
        *,
        dry_run: bool = False,
    ) -> None:
        self._submitter = submitter
        self._ids = ids  # also the tags seen on listed accounts, by name
        self._stop = stop
        self._note = note  # journals a row's interim record (not its final outcome)
        self._earlier = dict(earlier or {})
        self._dry_run = dry_run
        self._interim: dict[int, Outcome] = {}

    def needed(self, item: NormalisedRow) -> bool:
        """Whether the row has steps after its connect (never in a dry run: nothing is saved)."""
        return not self._dry_run and bool(item.settings or item.tags)

    def earlier(self, item: NormalisedRow) -> Connected | None:
        """The earlier connect of the row's email, when only its steps are left to do."""
        return None if self._dry_run else self._earlier.get(item.email)

    def interim(self, row: int) -> Outcome | None:
        """The row's journaled interim record while its steps run: how a stop leaves it."""
        return self._interim.get(row)

    async def finish(self, item: NormalisedRow, connected: Connected, attempts: int = 0) -> Outcome:
        """Send the row's steps not done yet; the row's final outcome (or its interim record
        when a stop came first)."""
        account_id = connected.account_id
        assert account_id is not None
        done = list(connected.done)
        interim = self._record(item, connected.fields, done)
        problems: list[tuple[Stage, str, str, Submission | None]] = []
        linked: list[str] = []
        fields = dict(connected.fields)
        for step, unknown in self._steps(item, account_id):
            if unknown is not None:
                problems.append((Stage.TAGS, "unknown_tag", unknown, None))
                continue
            if step.key in done:
                continue
            if self._stop.requested.is_set():
                return interim
            sub = await self._submitter.submit(step.body, step.path)
            attempts += sub.attempts
            verdict = sub.verdict
            if verdict.action is Action.ACCEPT:
                done.append(step.key)
                interim = self._record(item, connected.fields, done)
                if step.stage is Stage.SETTINGS and sub.account:
                    fields |= _fresh(account_fields(sub.account, item.email))
                elif step.stage is Stage.TAGS:
                    linked.append(self._learn_tag(sub.account, step))
                continue
            if (exit_code := STOP_EXIT_CODES.get(verdict.action)) is not None:
                self._stop.request(Unprocessed.ABORTED, exit_code, verdict.message)
                return interim
            if sub.interrupted:
                return interim
            problems.append(
                (step.stage, f"{step.stage.value}_failed", f"{step.shown}: {verdict.message}", sub)
            )
        self._interim.pop(item.row, None)
        if problems:
            return self._failed(item, connected.fields, done, problems, attempts)
        fields["applied"] = "; ".join(_shown(key) for key in done)
        if linked:
            names = [n for n in str(fields.get("tags") or "").split(", ") if n]
            fields["tags"] = ", ".join(dict.fromkeys([*names, *linked]))
        fields["attempts"] = attempts or fields.get("attempts")
        return Outcome(item.row, item.email, Status.SUCCEEDED, fields)

    def _steps(self, item: NormalisedRow, account_id: int) -> Iterator[tuple[Step, str | None]]:
        """The row's steps, each with why it can't be sent (an unknown tag name), if so.

        A generator: a tag name is resolved when its turn comes, so a tag an earlier link of
        this run named (the answer is the tag) resolves too.
        """
        if item.settings:
            body = dict(item.settings)
            step = Step(
                settings_key(body), Stage.SETTINGS, account_path(account_id), body, "settings"
            )
            yield step, None
        for ref in item.tags:
            tag_id = self._tag_id(ref)
            if tag_id is None:
                unknown = (
                    f"tag '{ref}' is not the name of a tag on any listed account, so its id is "
                    "unknown; it was not linked"
                )
                yield Step(f"tag:{ref}", Stage.TAGS, "", {}, f"tag '{ref}'"), unknown
                continue
            shown = f"tag {tag_id}" if isinstance(ref, int) else f"tag '{ref}' ({tag_id})"
            body = {"account_id": account_id}
            step = Step(f"tag:{tag_id}", Stage.TAGS, tag_link_path(tag_id), body, shown)
            yield step, None

    def _tag_id(self, ref: TagRef) -> int | None:
        return ref if isinstance(ref, int) else self._ids.tag_id(ref)

    def _learn_tag(self, answer: dict[str, Any] | None, step: Step) -> str:
        """The linked tag's name (from the answer, `{id, name}`), remembered for later rows."""
        name = (answer or {}).get("name")
        tag_id = (answer or {}).get("id")
        if isinstance(name, str) and name.strip():
            if isinstance(tag_id, int):
                self._ids.learn_tag(name, tag_id)
            return name.strip()
        return step.shown

    def _record(self, item: NormalisedRow, fields: dict[str, Any], done: list[str]) -> Outcome:
        """Journal the row as connected with `done` steps: what a crash leaves behind."""
        interim = Outcome(
            item.row,
            item.email,
            Status.UNPROCESSED,
            {
                "reason": STEPS_PENDING.value,
                "account_id": fields.get("account_id"),
                "connected": fields,
                "done": list(done),
            },
        )
        self._interim[item.row] = interim
        self._note(interim)
        return interim

    def _failed(
        self,
        item: NormalisedRow,
        fields: dict[str, Any],
        done: list[str],
        problems: list[tuple[Stage, str, str, Submission | None]],
        attempts: int,
    ) -> Outcome:
        stage, code, _, _ = problems[0]
        subs = [sub for *_, sub in problems if sub is not None]
        account = fields.get("account_id")
        message = f"Connected as account {account}, but " + "; ".join(
            text for _, _, text, _ in problems
        )
        return Outcome(
            item.row,
            item.email,
            Status.FAILED,
            {
                "stage": stage.value,
                "error_code": code,
                "http_status": subs[-1].http_status if subs else None,
                "message": message + ".",
                "hint": hint_for(code),
                "attempts": attempts,
                "account_id": account,
                "connected": fields,
                "done": list(done),
            },
            item.original,
        )


def _fresh(fields: dict[str, Any]) -> dict[str, Any]:
    """The columns an account update's answer may freshen (not how the row was connected)."""
    return {k: v for k, v in fields.items() if v is not None and k != "account_id"}


def _shown(key: str) -> str:
    kind, _, rest = key.partition(":")
    return "settings" if kind == "settings" else f"tag {rest}"
