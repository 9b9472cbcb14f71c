"""The retry table, tested as a table: each answer's action and error code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from bulk_onboard.api.retry_rules import (
    MAX_RETRY_AFTER_S,
    STOP_EXIT_CODES,
    TRANSPORT_RULES,
    Action,
    classify_response,
    classify_transport,
    parse_retry_after,
)

AUTH_BOTH = {"success": False, "imap_auth_success": False, "smtp_auth_success": False, "error": "x"}
AUTH_IMAP = {"success": False, "imap_auth_success": False, "smtp_auth_success": True, "error": "x"}
AUTH_SMTP = {"success": False, "imap_auth_success": True, "smtp_auth_success": False, "error": "x"}
AUTH_NEITHER = {
    "success": False,
    "imap_auth_success": True,
    "smtp_auth_success": True,
    "error": "x",
}


@pytest.mark.parametrize(
    ("status", "body", "action", "code"),
    [
        (200, {"id": 1}, Action.ACCEPT, ""),
        (201, {"id": 1}, Action.ACCEPT, ""),
        (301, None, Action.FAIL, "redirected"),
        (307, "<a href=x>moved</a>", Action.FAIL, "redirected"),
        (308, None, Action.FAIL, "redirected"),
        (400, {"error": "email is missing"}, Action.FAIL, "rejected"),
        (404, None, Action.FAIL, "rejected"),
        (409, {"message": "conflict"}, Action.FAIL, "rejected"),
        (422, {"errors": ["bad port"]}, Action.FAIL, "rejected"),
        (422, {"error": "Email has already been taken"}, Action.FAIL, "email_taken"),
        (409, {"errors": ["email already exists"]}, Action.FAIL, "email_taken"),
        (400, {"error": "Email has already been taken"}, Action.FAIL, "rejected"),
        (401, {"error": "Unauthorized"}, Action.STOP_KEY, "key_refused"),
        (403, {"error": "Forbidden"}, Action.STOP_KEY, "key_refused"),
        (403, None, Action.STOP_KEY, "key_refused"),
        (403, "<html><h1>403 Forbidden</h1></html>", Action.STOP_CLIENT, "client_refused"),
        (429, {"error": "slow down"}, Action.RETRY, "rate_limited"),
        (500, AUTH_BOTH, Action.FAIL, "auth_failed"),
        (500, AUTH_IMAP, Action.FAIL, "imap_auth_failed"),
        (500, AUTH_SMTP, Action.FAIL, "smtp_auth_failed"),
        (500, AUTH_NEITHER, Action.FAIL, "connect_failed"),
        (500, {"error": "boom"}, Action.RETRY, "server_error"),
        (500, "<html>oops</html>", Action.RETRY, "server_error"),
        (502, None, Action.RETRY, "server_error"),
        (503, {"error": "Service unavailable"}, Action.RETRY, "server_error"),
        (504, None, Action.RETRY, "server_error"),
        (599, None, Action.RETRY, "server_error"),
    ],
)
def test_response_classification(status: int, body: Any, action: Action, code: str) -> None:
    verdict = classify_response(status, body)
    assert (verdict.action, verdict.code) == (action, code)


def test_a_redirect_names_its_target_and_is_not_followed() -> None:
    message = classify_response(307, None, None, "https://elsewhere.test/v1\x1b[2J").message
    assert "https://elsewhere.test/v1\\x1b[2J" in message
    assert "not followed" in message


def test_auth_error_message_quotes_the_server_error() -> None:
    body = {**AUTH_IMAP, "error": "[AUTHENTICATIONFAILED] Invalid credentials"}
    assert "Invalid credentials" in classify_response(500, body).message


@pytest.mark.parametrize(
    ("flags", "code"),
    [
        ({"imap_auth_success": False, "smtp_auth_success": False}, "auth_failed"),
        ({"imap_auth_success": False, "smtp_auth_success": True}, "imap_auth_failed"),
        ({"imap_auth_success": False}, "imap_auth_failed"),
        ({"smtp_auth_success": False, "imap_auth_success": True}, "smtp_auth_failed"),
        ({"smtp_auth_success": False}, "smtp_auth_failed"),
        ({"imap_auth_success": True, "smtp_auth_success": True}, "connect_failed"),
        ({"imap_auth_success": True}, "connect_failed"),
        ({"smtp_auth_success": None}, "connect_failed"),
    ],
)
def test_only_a_false_flag_names_a_failed_side(flags: dict[str, Any], code: str) -> None:
    error = "Connection to imap.acme.test:993 timed out"
    verdict = classify_response(500, {"success": False, **flags, "error": error})
    assert (verdict.action, verdict.code) == (Action.FAIL, code)
    assert verdict.message.endswith(error)  # MailReach's own words, whatever the code


def test_connect_failed_says_it_is_mailreachs_reason_and_not_a_side() -> None:
    message = classify_response(500, {**AUTH_NEITHER, "error": "Mailbox is full"}).message
    assert message == "MailReach could not connect the mailbox: Mailbox is full"
    assert "IMAP" not in message
    assert "SMTP" not in message


def test_a_403_web_page_stops_the_run_as_a_refused_client_not_a_refused_key() -> None:
    verdict = classify_response(403, "<!doctype html><title>Access denied</title>")
    assert verdict.action is Action.STOP_CLIENT
    assert "not the API key" in verdict.message
    assert STOP_EXIT_CODES[Action.STOP_CLIENT] == 69
    assert STOP_EXIT_CODES[Action.STOP_KEY] == 77


def test_a_500_success_false_without_auth_keys_is_retried() -> None:
    assert classify_response(500, {"success": False, "error": "x"}).action is Action.RETRY


@pytest.mark.parametrize(
    ("kind", "action", "code", "ambiguous"),
    [
        ("refused", Action.RETRY, "network", False),
        ("dns", Action.RETRY, "network", False),
        ("reset", Action.RETRY, "network", True),
        ("timeout", Action.RETRY, "timeout", True),
        ("bad_json", Action.RETRY, "server_error", True),
        ("tls", Action.FAIL, "tls_error", False),
        ("tls_handshake", Action.FAIL, "tls_error", False),
    ],
)
def test_transport_classification(kind: str, action: Action, code: str, ambiguous: bool) -> None:
    verdict = classify_transport(kind)
    assert (verdict.action, verdict.code, verdict.ambiguous) == (action, code, ambiguous)


def test_every_transport_rule_is_tested() -> None:
    assert set(TRANSPORT_RULES) == {
        "refused", "dns", "reset", "timeout", "bad_json", "tls", "tls_handshake",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("", None),
        ("3", 3.0),
        (" 2.5 ", 2.5),
        ("-4", 0.0),
        ("100000", MAX_RETRY_AFTER_S),
        ("soon", None),
        ("nan", None),
    ],
)
def test_retry_after_seconds(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


def test_retry_after_http_date() -> None:
    now = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(header, now=now.timestamp) == pytest.approx(30.0)


def test_429_carries_retry_after() -> None:
    assert classify_response(429, None, "7").retry_after_s == 7.0
