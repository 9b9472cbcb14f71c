"""The body of `POST /v1/imap_auth` as a pydantic model that accepts exactly what the API does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr

Provider = Literal["gmail", "outlook", "custom"]
AuthType = Literal["plain", "login", "cram_md5"]

INT32_MAX = 2**31 - 1
SECRET_FIELDS = ("imap_server_password", "smtp_server_password", "password")


def _secret_as_given(value: object) -> object:
    # The model strips strings (str_strip_whitespace), but a password's leading or trailing space
    # is part of it: wrapping it first keeps pydantic's stripping away from it.
    return SecretStr(value) if isinstance(value, str) else value


Password = Annotated[SecretStr, BeforeValidator(_secret_as_given), Field(min_length=1)]
Port = Annotated[int, Field(ge=1, le=65535)]
Text = Annotated[str, Field(min_length=1)]


class ConnectRequest(BaseModel):
    """One `imap_auth` request body. `repr()` and `str()` show passwords as `**********`."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, hide_input_in_errors=True, str_strip_whitespace=True
    )

    email: Text
    first_name: Text
    last_name: Text
    provider: Provider
    # MailReach ids are positive int32s; 0 or a negative id can only be a spreadsheet mistake.
    id: Annotated[int, Field(ge=1, le=INT32_MAX)] | None = None
    imap_server: Text | None = None
    imap_server_port: Port | None = None
    imap_server_username: Text | None = None
    imap_server_password: Password | None = None
    smtp_server: Text | None = None
    smtp_server_port: Port | None = None
    smtp_server_username: Text | None = None
    smtp_server_password: Password | None = None
    smtp_server_auth_type: AuthType | None = None
    smtp_server_starttls: bool | None = None
    smtp_only: bool | None = None
    imap_issue: bool | None = None
    spamchecker_only: bool | None = None
    test: bool | None = None
    password: Password | None = None

    def to_body(self) -> dict[str, object]:
        """The JSON body to send, with unset fields left out.

        This is the only place in the program where passwords are revealed: call it right before
        the request is sent, and never log, store or print what it returns.
        """
        # Every field is a JSON scalar or a SecretStr, so the validated attributes are the body:
        # reading them directly costs a fifth of model_dump on the per-row hot path.
        return {
            name: value.get_secret_value() if isinstance(value, SecretStr) else value
            for name, value in self.__dict__.items()
            if value is not None
        }


def secrets_in(body: Mapping[str, object]) -> list[str]:
    """The passwords of a body (`to_body()`'s, or one a server received): what a server's answer
    to it must not be allowed to repeat into a report."""
    return [value for name in SECRET_FIELDS if isinstance(value := body.get(name), str)]
