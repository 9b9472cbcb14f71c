"""The request bodies the sandbox accepts, and the one-sentence 400 errors for the rest.

Strict on purpose: the real service's exact coercions are unknown, so the sandbox refuses
anything a careful client would not send ("993" as a port, 1 as a boolean, unknown fields).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

# The update fields and their ranges: one table, shared with the row checks.
from bulk_onboard.rows.account_settings import UPDATE_FIELDS, UpdateField

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

Int32 = Annotated[int, Field(ge=INT32_MIN, le=INT32_MAX)]
Port = Annotated[int, Field(ge=1, le=65535)]
Name = Annotated[str, Field(min_length=1, max_length=255)]
Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]

_STRICT = ConfigDict(extra="forbid", strict=True)


class BodyError(ValueError):
    """A body the sandbox refuses with 400; `str()` says what is wrong and never holds a value."""


class ImapAuthBody(BaseModel):
    """`POST /v1/imap_auth`: connect (create or update) an account via IMAP/SMTP."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    email: Email
    first_name: Name
    last_name: Name
    provider: Literal["gmail", "outlook", "custom"]
    id: Int32 | None = None
    imap_server: str | None = None
    imap_server_port: Port | None = None
    imap_server_username: str | None = None
    imap_server_password: str | None = None
    smtp_server: str | None = None
    smtp_server_port: Port | None = None
    smtp_server_username: str | None = None
    smtp_server_password: str | None = None
    smtp_server_auth_type: Literal["plain", "login", "cram_md5"] | None = None
    smtp_server_starttls: bool | None = None
    smtp_only: bool | None = None
    imap_issue: bool | None = None
    spamchecker_only: bool | None = None
    test: bool | None = None
    password: str | None = None

    @property
    def imap_password(self) -> str | None:
        """The password the IMAP login would use: its own, else the shared one."""
        return self.imap_server_password or self.password

    @property
    def smtp_password(self) -> str | None:
        """The password the SMTP login would use: its own, else the shared one."""
        return self.smtp_server_password or self.password

    def problem(self) -> str | None:
        """What makes a well-typed body still unusable, if anything."""
        if self.provider == "custom":
            if not self.smtp_server:
                return "smtp_server is required for a custom provider"
            if not self.imap_server and not self.smtp_only:
                return "imap_server is required for a custom provider"
        if not self.smtp_password:
            return "a password is required (password or smtp_server_password)"
        if not self.imap_password and not self.smtp_only:
            return "a password is required (password or imap_server_password)"
        return None


def _annotated(field: UpdateField) -> Any:
    if field.kind is int:
        return Annotated[int, Field(ge=field.low, le=field.high)]
    if field.kind is str:
        return Annotated[str, Field(min_length=field.low, max_length=field.high)]
    return bool


# A field left out stays as it is; one given must be of its type (null is refused too), which
# the default of None never has to be.
_UPDATE_DEFINITIONS: dict[str, Any] = {f.name: (_annotated(f), None) for f in UPDATE_FIELDS}
_ACCOUNT_UPDATE: type[BaseModel] = create_model(
    "AccountUpdate", __config__=_STRICT, **_UPDATE_DEFINITIONS
)


def parse_json_object(raw: bytes) -> dict[str, object]:
    """The body as a JSON object, or BodyError."""
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BodyError("the body is not valid JSON") from None
    if not isinstance(value, dict):
        raise BodyError("the body must be a JSON object")
    return value


def imap_auth_body(value: dict[str, object]) -> ImapAuthBody:
    """Validate an imap_auth body, or BodyError naming every problem."""
    try:
        body = ImapAuthBody.model_validate(value)
    except ValidationError as exc:
        raise BodyError(describe(exc)) from None
    problem = body.problem()
    if problem is not None:
        raise BodyError(problem)
    return body


def account_update(value: dict[str, object]) -> dict[str, object]:
    """Validate an account update body, or BodyError naming every problem; the fields given."""
    try:
        update = _ACCOUNT_UPDATE.model_validate(value)
    except ValidationError as exc:
        raise BodyError(describe(exc)) from None
    return update.model_dump(include=update.model_fields_set)


def describe(exc: ValidationError) -> str:
    """One sentence for a 400: field names and rules only, never the rejected value (a password)."""
    parts: list[str] = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        field = ".".join(str(part) for part in error["loc"]) or "body"
        if error["type"] == "missing":
            parts.append(f"{field} is required")
        elif error["type"] == "extra_forbidden":
            parts.append(f"{field} is not a known field")
        else:
            parts.append(f"{field}: {error['msg']}")
    return "; ".join(parts)
