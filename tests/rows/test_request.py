"""The request model is exactly the `POST /v1/imap_auth` body, and never shows a password."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from pydantic import ValidationError

from bulk_onboard.rows.request import INT32_MAX, ConnectRequest

PASSWORD = "Pw-req-7Yq2!x"

MINIMAL = {"email": "ann@acme.test", "first_name": "Ann", "last_name": "Lee", "provider": "custom"}
FULL = {
    **MINIMAL,
    "id": 42,
    "imap_server": "imap.acme.test",
    "imap_server_port": 993,
    "imap_server_username": "ann@acme.test",
    "imap_server_password": PASSWORD + "-imap",
    "smtp_server": "smtp.acme.test",
    "smtp_server_port": 587,
    "smtp_server_username": "ann@acme.test",
    "smtp_server_password": PASSWORD + "-smtp",
    "smtp_server_auth_type": "login",
    "smtp_server_starttls": True,
    "smtp_only": False,
    "imap_issue": False,
    "spamchecker_only": False,
    "test": True,
    "password": PASSWORD,
}


def _error_fields(data: Mapping[str, object]) -> set[str]:
    with pytest.raises(ValidationError) as caught:
        ConnectRequest.model_validate(data)
    return {str(error["loc"][0]) for error in caught.value.errors()}


def test_accepts_the_required_fields_alone() -> None:
    assert ConnectRequest.model_validate(MINIMAL).to_body() == MINIMAL


def test_accepts_every_field_of_the_body() -> None:
    assert ConnectRequest.model_validate(FULL).to_body() == FULL


@pytest.mark.parametrize("field", ["email", "first_name", "last_name", "provider"])
def test_required_field_missing_is_rejected(field: str) -> None:
    data = {name: value for name, value in MINIMAL.items() if name != field}
    assert _error_fields(data) == {field}


@pytest.mark.parametrize("field", ["email", "first_name", "last_name"])
def test_required_text_must_not_be_empty(field: str) -> None:
    assert _error_fields({**MINIMAL, field: "  "}) == {field}


def test_unknown_field_is_rejected() -> None:
    assert _error_fields({**MINIMAL, "daily_limit": 30}) == {"daily_limit"}


@pytest.mark.parametrize(
    ("value", "ok"),
    [(1, True), (INT32_MAX, True), (INT32_MAX + 1, False), (0, False), (-5, False)],
)
def test_id_is_a_positive_int32(value: int, ok: bool) -> None:
    data = {**MINIMAL, "id": value}
    if ok:
        assert ConnectRequest.model_validate(data).id == value
    else:
        assert _error_fields(data) == {"id"}


@pytest.mark.parametrize("field", ["imap_server_port", "smtp_server_port"])
@pytest.mark.parametrize(("value", "ok"), [(1, True), (65535, True), (0, False), (65536, False)])
def test_ports_are_1_to_65535(field: str, value: int, ok: bool) -> None:
    data = {**MINIMAL, field: value}
    if ok:
        assert ConnectRequest.model_validate(data).to_body()[field] == value
    else:
        assert _error_fields(data) == {field}


@pytest.mark.parametrize("provider", ["gmail", "outlook", "custom"])
def test_provider_accepts_the_three_kinds(provider: str) -> None:
    assert ConnectRequest.model_validate({**MINIMAL, "provider": provider}).provider == provider


@pytest.mark.parametrize("provider", ["google", "GMAIL", "smtp", ""])
def test_provider_rejects_anything_else(provider: str) -> None:
    assert _error_fields({**MINIMAL, "provider": provider}) == {"provider"}


@pytest.mark.parametrize("value", ["plain", "login", "cram_md5"])
def test_auth_type_accepts_the_ruby_smtp_kinds(value: str) -> None:
    request = ConnectRequest.model_validate({**MINIMAL, "smtp_server_auth_type": value})
    assert request.smtp_server_auth_type == value


@pytest.mark.parametrize("value", ["CRAM-MD5", "xoauth2", "PLAIN"])
def test_auth_type_rejects_other_spellings(value: str) -> None:
    assert _error_fields({**MINIMAL, "smtp_server_auth_type": value}) == {"smtp_server_auth_type"}


def test_to_body_leaves_out_unset_fields() -> None:
    body = ConnectRequest.model_validate({**MINIMAL, "imap_server": "imap.acme.test"}).to_body()
    assert body == {**MINIMAL, "imap_server": "imap.acme.test"}


def test_to_body_round_trips() -> None:
    request = ConnectRequest.model_validate(FULL)
    assert ConnectRequest.model_validate(request.to_body()) == request


def test_to_body_reveals_the_passwords() -> None:
    body = ConnectRequest.model_validate(FULL).to_body()
    assert body["password"] == PASSWORD
    assert body["imap_server_password"] == PASSWORD + "-imap"
    assert body["smtp_server_password"] == PASSWORD + "-smtp"


def test_passwords_keep_their_spaces() -> None:
    request = ConnectRequest.model_validate({**MINIMAL, "password": " two words "})
    assert request.to_body()["password"] == " two words "


def test_other_text_is_trimmed() -> None:
    request = ConnectRequest.model_validate({**MINIMAL, "imap_server": " imap.acme.test "})
    assert request.imap_server == "imap.acme.test"


def test_empty_password_is_rejected() -> None:
    assert _error_fields({**MINIMAL, "password": ""}) == {"password"}


def test_repr_str_and_dumps_never_show_a_password() -> None:
    request = ConnectRequest.model_validate(FULL)
    shown = [repr(request), str(request), request.model_dump_json(), str(request.model_dump())]
    assert not [text for text in shown if PASSWORD in text]


def test_validation_errors_never_show_a_password() -> None:
    data = {**FULL, "provider": "nope", "stray": PASSWORD, "id": PASSWORD, "imap_server_port": 0}
    with pytest.raises(ValidationError) as caught:
        ConnectRequest.model_validate(data)
    assert PASSWORD not in str(caught.value)
    assert PASSWORD not in repr(caught.value)


def test_request_is_frozen() -> None:
    request = ConnectRequest.model_validate(MINIMAL)
    with pytest.raises(ValidationError):
        request.email = "other@acme.test"
