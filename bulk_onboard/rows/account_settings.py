"""The account settings a row may carry: the fields of `POST /v1/accounts/{id}` ("Update an
account") with their documented ranges, in one table, and how a cell or `--set` is read by it.

The table is the only statement of these ranges: the sandbox validates its update endpoint with
it, the row checks read sheet cells with it, and `--set FIELD=VALUE` is checked by it. A value
out of range fails the row, with the range in its message: a user's number is never changed.

Tags are read here too: a `Tags` cell lists tag ids (`7`) or names (`sales-team`), separated by
commas, semicolons or `|`. Ids are sent as they are; a name resolves later, through the tags the
account listing shows on accounts (MailReach publishes no tag listing).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

_TRUE = frozenset({"true", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "no", "n", "0", "off"})
_TAG_SEPARATORS = re.compile(r"[,;|]")
MAX_TAGS = 50  # per row: more is a column read wrongly, not a mailbox's tags


@dataclass(frozen=True, slots=True)
class UpdateField:
    """One body field of `POST /v1/accounts/{id}` and its documented range.

    `low`/`high` bound an integer's value and a text's length. `in_account` is False for a field
    the published account object does not show (it is accepted, and not echoed back). `sheet`
    says whether a spreadsheet column (or `--set`) may set it: the names and `imap_issue` go in
    `imap_auth` already, and an alias must be one MailReach lists for the account.
    """

    name: str
    kind: type[bool] | type[int] | type[str]
    low: int | None = None
    high: int | None = None
    in_account: bool = True
    sheet: bool = True
    meaning: str = ""

    def allowed(self) -> str:
        """The values it takes, for a message: `a whole number from 3 to 35`."""
        if self.kind is bool:
            return "true or false (or yes/no, 1/0)"
        if self.kind is int:
            return f"a whole number from {self.low} to {self.high}"
        return f"text of at most {self.high:,} characters"

    def read(self, text: str) -> bool | int | str | None:
        """The value of a (non-blank, stripped) cell, or None if it is not one this field takes."""
        if self.kind is bool:
            lowered = text.lower()
            return True if lowered in _TRUE else False if lowered in _FALSE else None
        if self.kind is int:
            number = _whole(text)
            if number is None or not (self.low or 0) <= number <= (self.high or 0):
                return None
            return number
        if self.high is not None and len(text) > self.high:
            return None
        return text


# Every field of MailReach's "Update an account", as documented (MAILREACH-API.md). Texts the
# docs give no bound are held to the sandbox's own sane limits.
UPDATE_FIELDS: tuple[UpdateField, ...] = (
    UpdateField("alias", str, 1, 254, in_account=False, sheet=False),
    UpdateField("alive", bool, meaning="false pauses the account"),
    UpdateField("autopilot", bool, meaning="MailReach picks the warming recipe"),
    UpdateField(
        "config_max_conversation_running", int, 0, 35, meaning="warming conversations at once"
    ),
    UpdateField("config_rampup_increase", int, 0, 5, meaning="conversations added per day"),
    UpdateField("config_rampup_target", int, 3, 35, meaning="conversations per day once ramped"),
    UpdateField(
        "config_smtp_append_after_sent", bool, meaning="copy sent warming mail to Sent (IMAP)"
    ),
    UpdateField("desc", str, 0, 10_000, in_account=False, meaning="a description"),
    UpdateField("first_name", str, 1, 255, sheet=False),
    UpdateField("last_name", str, 1, 255, sheet=False),
    UpdateField("imap_issue", bool, sheet=False),
    UpdateField("signature", str, 0, 10_000, meaning="HTML signature"),
    UpdateField("time_zone", str, 1, 64, meaning="e.g. Europe/Paris"),
)
UPDATE_FIELD: Mapping[str, UpdateField] = MappingProxyType({f.name: f for f in UPDATE_FIELDS})
# The settings a sheet column or `--set` may give, in the table's order.
SETTINGS: tuple[UpdateField, ...] = tuple(f for f in UPDATE_FIELDS if f.sheet)
SETTING_NAMES = frozenset(f.name for f in SETTINGS)
TAGS_FIELD = "tags"

TagRef = int | str  # a tag id, or a name to resolve through the listing


def _whole(text: str) -> int | None:
    """`20`, `20.0` or `-1` as a whole number; None for anything else."""
    match = re.fullmatch(r"(-?\d{1,6})(?:\.0*)?", text)
    return int(match[1]) if match else None


def setting_problem(field: UpdateField, where: str) -> str:
    """The sentence for a value `field` does not take, naming where it was (a column, --set)."""
    return f"{where} must be {field.allowed()} (MailReach's range for {field.name}); correct it."


def parse_setting(assignment: str) -> tuple[str, bool | int | str]:
    """`--set FIELD=VALUE` as (field, value); ValueError with one sentence if it is not one."""
    name, sep, text = assignment.partition("=")
    name = name.strip()
    field = UPDATE_FIELD.get(name)
    if not sep or field is None or not field.sheet:
        raise ValueError(
            f"--set takes FIELD=VALUE with FIELD one of {', '.join(f.name for f in SETTINGS)}, "
            f"not {assignment!r}."
        )
    value = field.read(text.strip())
    if value is None or (field.kind is not str and not text.strip()):
        raise ValueError(setting_problem(field, f"--set {name}"))
    return name, value


def read_tags(text: str) -> tuple[list[TagRef], str | None]:
    """The tag ids and names of a Tags cell, in order, without repeats; a problem sentence
    when the cell can't be tags."""
    refs: list[TagRef] = []
    for part in _TAG_SEPARATORS.split(text):
        word = part.strip()
        if not word:
            continue
        ref: TagRef = word
        if word.isascii() and word.isdigit():  # an id: MailReach's ids are positive int32s
            if len(word) > 10 or not 1 <= int(word) <= 2**31 - 1:
                return [], "{column} holds a tag id out of range; use MailReach's tag ids or names."
            ref = int(word)
        if ref not in refs:
            refs.append(ref)
    if len(refs) > MAX_TAGS:
        return [], f"{{column}} lists more than {MAX_TAGS} tags; is it the right column?"
    return refs, None
