"""The sandbox's email workspaces: batches of OAuth addresses linked without passwords.

Documented by MailReach: `POST /v1/email_workspaces/{id}/accounts` with `{accounts: [...],
spamchecker_only?, imap_only?, account_id?}`; a batch of 4 or fewer is processed at once and its
errors come back directly; a larger one runs in the background and the answer carries a
`task_id` to poll at `GET /v1/tasks/{task_id}`; the documented answer is
`{"completed": true, "errors": [], "task_id": 8421}`.

NOT published, and so the sandbox's own choice, written down here and nowhere else:
- an element of `errors` is `{"email": "<address>", "error": "<text>"}`;
- the batch answer is `{"completed": bool, "errors": [...], "task_id": int | null}`:
  `completed: true, task_id: null` for ≤ 4 addresses, `completed: false` and a task id beyond;
- the task object is `{"id", "status": "running" | "completed", "completed": bool,
  "total", "processed", "errors": [...]}`; a task completes `task_delay_s` after it was made
  (SandboxConfig), all addresses at once;
- which addresses fail: one whose local part starts with `unknown` (`unknown.user@...`) is "not
  found in the workspace's directory"; one whose domain is not the workspace's domain, when the
  workspace has one (none by default), is refused as outside it. The others get an account
  (provider `gmail` for a Google workspace, `outlook` for a Microsoft one), or keep theirs.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from bulk_onboard.sandbox.bodies import BodyError
from bulk_onboard.sandbox.store import AccountError, AccountStore

AT_ONCE = 4  # batches up to this size are answered at once (MailReach's documented rule)
MAX_BATCH = 1000  # the sandbox's own bound on one batch
_UNKNOWN_PREFIX = "unknown"
NOT_FOUND = "User not found in the workspace's directory"
PROVIDER_OF_KIND = {"google": "gmail", "outlook": "outlook"}
# The workspaces that exist (id → kind); MailReach makes them in its app, once per customer.
DEFAULT_WORKSPACES: tuple[tuple[int, str], ...] = ((1, "google"), (2, "outlook"))


@dataclass(slots=True)
class Task:
    id: int
    workspace: int
    addresses: list[str]
    completed: bool = False
    errors: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": "completed" if self.completed else "running",
            "completed": self.completed,
            "total": len(self.addresses),
            "processed": len(self.addresses) if self.completed else 0,
            "errors": self.errors,
        }


class Workspaces:
    """The workspaces and their tasks; accounts go into the sandbox's store."""

    def __init__(
        self,
        store: AccountStore,
        workspaces: tuple[tuple[int, str], ...] = DEFAULT_WORKSPACES,
        *,
        task_delay_s: float = 0.5,
        domains: dict[int, str] | None = None,
    ) -> None:
        self._store = store
        self.kinds = dict(workspaces)
        self._domains = dict(domains or {})
        self._delay_s = task_delay_s
        self._tasks: dict[int, Task] = {}
        self._ids = itertools.count(8421)

    def add(self, workspace: int, body: dict[str, object]) -> dict[str, Any]:
        """A batch: its answer now, processed now (≤ 4) or by a task that completes later."""
        kind = self.kinds.get(workspace)
        if kind is None:
            raise AccountError(404, "Email workspace not found")
        addresses = body.get("accounts")
        if (
            not isinstance(addresses, list)
            or not addresses
            or len(addresses) > MAX_BATCH
            or not all(isinstance(a, str) and "@" in a for a in addresses)
        ):
            raise BodyError(f"accounts must be a list of 1 to {MAX_BATCH} email addresses")
        unknown = set(body) - {"accounts", "spamchecker_only", "imap_only", "account_id"}
        if unknown:
            raise BodyError(f"{sorted(unknown)[0]} is not a known field")
        emails = [str(a).strip().lower() for a in addresses]
        if len(emails) <= AT_ONCE:
            return {"completed": True, "errors": self._link(workspace, emails), "task_id": None}
        task = Task(next(self._ids), workspace, emails)
        self._tasks[task.id] = task
        asyncio.get_running_loop().call_later(self._delay_s, self._complete, task)
        return {"completed": False, "errors": [], "task_id": task.id}

    def task(self, task_id: int) -> dict[str, Any]:
        task = self._tasks.get(task_id)
        if task is None:
            raise AccountError(404, "Task not found")
        return task.as_json()

    def _complete(self, task: Task) -> None:
        task.errors = self._link(task.workspace, task.addresses)
        task.completed = True

    def _link(self, workspace: int, emails: list[str]) -> list[dict[str, str]]:
        errors = []
        domain = self._domains.get(workspace)
        provider = PROVIDER_OF_KIND[self.kinds[workspace]]
        for email in emails:
            local, _, at = email.partition("@")
            if local.startswith(_UNKNOWN_PREFIX):
                errors.append(
                    {"email": email, "error": "User not found in the workspace's directory"}
                )
            elif domain is not None and at != domain:
                errors.append({"email": email, "error": f"Not in the workspace's domain {domain}"})
            else:
                self._store.link_oauth(email, provider)
        return errors
