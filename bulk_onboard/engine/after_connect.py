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
from bulk_onboard.api.paths import account_path, tag_link_path
from bulk_onboard.api.retry_rules import STOP_EXIT_CODES, Action, Verdict
from bulk_onboard.api.submit import Submission, Submitter
from bulk_onboard.base.hints import hint_for
from bulk_onboard.base.outcomes import Outcome, Stage, Status, Unprocessed
from bulk_onboard.engine.stopping import StopControl
from bulk_onboard.rows.account_settings import TagRef
from bulk_onboard.rows.normalise import NormalisedRow

STEPS_PENDING = Unprocessed.STEPS_PENDING


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

    def start(self, item: NormalisedRow, connected: Connected, attempts: int = 0) -> RowSteps:
        """The row's steps not done yet, journaled as pending: for the pool to send one
        attempt at a time (a step waiting out a backoff holds no worker)."""
        return RowSteps(self, item, connected, attempts)

    async def finish(self, item: NormalisedRow, connected: Connected, attempts: int = 0) -> Outcome:
        """Send the row's steps not done yet, here and now (a workspace row's, after its
        batch); the row's final outcome, or its interim record when a stop came first."""
        steps = self.start(item, connected, attempts)
        while (step := steps.next()) is not None:
            if self._stop.requested.is_set():
                return steps.interim
            sub = await self._submitter.submit(step.body, step.path)
            if not steps.answered(sub):
                return steps.interim
        return steps.outcome()

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


class RowSteps:
    """One row's steps after its connect: `next()` the step to send (its submission in `sub`),
    `answered(sub)` once its attempts are over, `outcome()` when `next()` gives None. `interim`
    is the journaled record of what is done so far."""

    def __init__(
        self, owner: AfterConnect, item: NormalisedRow, connected: Connected, attempts: int
    ) -> None:
        account_id = connected.account_id
        assert account_id is not None
        self._owner = owner
        self.item = item
        self._connected = connected.fields
        self._fields = dict(connected.fields)
        self._done = list(connected.done)
        self._attempts = attempts
        self._problems: list[tuple[Stage, str, str, Submission | None]] = []
        self._linked: list[str] = []
        self._steps = owner._steps(item, account_id)
        self.step: Step | None = None
        self.sub: Submission | None = None
        self.interim = owner._record(item, self._connected, self._done)

    def next(self) -> Step | None:
        """The next step to send, with a fresh `sub`; None once every step is over."""
        for step, unknown in self._steps:
            if unknown is not None:
                self._problems.append((Stage.TAGS, "unknown_tag", unknown, None))
            elif step.key not in self._done:
                self.step, self.sub = step, Submission(Verdict(Action.RETRY))
                return step
        self.step = self.sub = None
        return None

    def answered(self, sub: Submission) -> bool:
        """Take the current step's last answer; False when the run must stop (the key was
        refused, or a stop cut it short): the row then stays as `interim` says."""
        step = self.step
        assert step is not None
        self._attempts += sub.attempts
        verdict = sub.verdict
        if verdict.action is Action.ACCEPT:
            self._done.append(step.key)
            self.interim = self._owner._record(self.item, self._connected, self._done)
            if step.stage is Stage.SETTINGS and sub.account:
                self._fields |= _fresh(account_fields(sub.account, self.item.email))
            elif step.stage is Stage.TAGS:
                self._linked.append(self._owner._learn_tag(sub.account, step))
            return True
        if (exit_code := STOP_EXIT_CODES.get(verdict.action)) is not None:
            self._owner._stop.request(Unprocessed.ABORTED, exit_code, verdict.message)
            return False
        if sub.interrupted:
            return False
        text = f"{step.shown}: {verdict.message}"
        self._problems.append((step.stage, f"{step.stage.value}_failed", text, sub))
        return True

    def outcome(self) -> Outcome:
        """The row's final outcome, every step over."""
        item = self.item
        self._owner._interim.pop(item.row, None)
        if self._problems:
            return self._owner._failed(
                item, self._connected, self._done, self._problems, self._attempts
            )
        fields = self._fields
        fields["applied"] = "; ".join(_shown(key) for key in self._done)
        if self._linked:
            names = [n for n in str(fields.get("tags") or "").split(", ") if n]
            fields["tags"] = ", ".join(dict.fromkeys([*names, *self._linked]))
        fields["attempts"] = self._attempts or fields.get("attempts")
        return Outcome(item.row, item.email, Status.SUCCEEDED, fields)


def _fresh(fields: dict[str, Any]) -> dict[str, Any]:
    """The columns an account update's answer may freshen (not how the row was connected)."""
    return {k: v for k, v in fields.items() if v is not None and k != "account_id"}


def _shown(key: str) -> str:
    kind, _, rest = key.partition(":")
    return "settings" if kind == "settings" else f"tag {rest}"
