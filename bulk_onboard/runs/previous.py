"""What a later run needs from an earlier run folder: its input, and which rows to (re)send."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulk_onboard.base.outcomes import Stage, Status
from bulk_onboard.engine.after_connect import Connected, connected_record
from bulk_onboard.engine.journal import JOURNAL_NAME, Journal
from bulk_onboard.engine.workspace_batches import Pending, pending_record
from bulk_onboard.errors import UsageError
from bulk_onboard.rows.normalise import NormalisedRow

Wanted = Callable[[NormalisedRow], bool]


@dataclass(frozen=True, slots=True)
class PreviousRun:
    run_dir: Path
    manifest: dict[str, Any]

    @property
    def input_path(self) -> str:
        """The input as it was named, made absolute so a run works from any folder."""
        info = self.manifest.get("input", {})
        path = info.get("absolute_path") or info.get("path")
        if not path or path == "-":
            raise UsageError(
                f"The run in {self.run_dir} read standard input, which can't be read again: "
                "save the sheet to a file and start a new run."
            )
        return str(path)

    @property
    def input_sha256(self) -> str:
        return str(self.manifest.get("input", {}).get("sha256", ""))


def load_previous(run_dir: Path) -> PreviousRun:
    """Open a run folder written by `run`; one clear sentence if it isn't one."""
    run_dir = run_dir.resolve()  # OUT/latest is a symlink: name the folder itself
    manifest_path = run_dir / "manifest.json"
    if not manifest_path.is_file() or not (run_dir / JOURNAL_NAME).is_file():
        raise UsageError(
            f"{run_dir} is not a run folder of bulk-onboard run (no manifest/journal)."
        )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return PreviousRun(run_dir, manifest)


def settled_elsewhere(journal: Journal) -> Wanted:
    """For --resume: rows with no final outcome yet (never settled, or left unprocessed).

    A row counts as settled only if it still holds the same email: after `--force` on a sheet
    whose rows moved, a mailbox now at a settled row number is sent, not silently skipped.
    """
    settled = journal.settled_emails()
    return lambda item: settled.get(item.row) != item.email


def failed_or_unprocessed(journal: Journal) -> Wanted:
    """For --retry-failed: the rows of that run that failed or were left unprocessed.

    Rows refused before any network (input/validation) are matched by row number, since a user
    fixes those cells in place; rows that failed at the API or were never sent are matched by
    email, so the retry finds them even if rows were added or removed above them. An email that
    succeeded in that run is never re-sent.
    """
    by_row: set[int] = set()
    emails: set[str] = set()
    for outcome in journal.outcomes(Status.FAILED):
        if outcome.fields.get("stage") in (Stage.INPUT.value, Stage.VALIDATION.value):
            by_row.add(outcome.row)
        elif outcome.fields.get("stage") != Stage.DUPLICATE.value:
            emails.add(outcome.email)
    emails.update(o.email for o in journal.outcomes(Status.UNPROCESSED))
    emails.difference_update(o.email for o in journal.outcomes(Status.SUCCEEDED))
    emails.discard("")
    return lambda item: item.row in by_row or item.email in emails


def connected_earlier(journal: Journal) -> dict[str, Connected]:
    """Emails whose connect succeeded but whose settings or tags were not all applied (left
    `steps_pending`, or failed at stage settings/tags): `--resume` and `--retry-failed` send
    only their missing steps, never a second connect."""
    found: dict[str, Connected] = {}
    candidates = [
        *(o for o in journal.outcomes(Status.UNPROCESSED) if o.fields.get("connected")),
        *(
            o
            for o in journal.outcomes(Status.FAILED)
            if o.fields.get("stage") in (Stage.SETTINGS.value, Stage.TAGS.value)
        ),
    ]
    for outcome in candidates:
        if (record := connected_record(outcome)) is not None:
            found[outcome.email] = record
    return found


def sent_to_workspaces(journal: Journal) -> dict[str, Pending]:
    """Emails sent in an email workspace batch whose outcome was never seen (unprocessed
    `workspace_pending`): the next run asks their task or the listing before sending any again."""
    found: dict[str, Pending] = {}
    for outcome in journal.outcomes(Status.UNPROCESSED):
        if (record := pending_record(outcome)) is not None:
            found[outcome.email] = record
    return found
