"""The retry table: what each API answer or transport failure means for a row. Pure functions.

One table, tested as a table (stripe-python's habit): which answers are retried, which fail the row
for good, and which stop the whole run.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bulk_onboard.base.printable import printable
from bulk_onboard.errors import ExitCode

MAX_RETRY_AFTER_S = 120.0  # a server asking for longer than this is capped, not obeyed blindly


class Action(StrEnum):
    ACCEPT = "accept"  # the row succeeded
    RETRY = "retry"  # try again after a pause, within --max-attempts
    FAIL = "fail"  # the row failed for good
    STOP_KEY = "stop_key"  # the key was refused: stop the whole run (exit 77)
    # Something in front of the API refused this client (a web page, not an API answer): stop
    # the whole run (exit 69); the key was never looked at.
    STOP_CLIENT = "stop_client"


# The actions that stop the whole run, and the exit code each stops it with (SPEC.md).
STOP_EXIT_CODES: Mapping[Action, ExitCode] = {
    Action.STOP_KEY: ExitCode.KEY_REFUSED,
    Action.STOP_CLIENT: ExitCode.UNAVAILABLE,
}


@dataclass(frozen=True, slots=True)
class Verdict:
    action: Action
    code: str = ""  # error_code for RETRY/FAIL
    message: str = ""  # one sentence, no secrets
    retry_after_s: float | None = None  # from Retry-After, for 429/503
    ambiguous: bool = False  # the server may have done the work (no answer after sending)


# Status codes with a fixed meaning; anything else is decided by its class (2xx/4xx/5xx) below.
STATUS_RULES: Mapping[int, tuple[Action, str]] = {
    401: (Action.STOP_KEY, "key_refused"),
    403: (Action.STOP_KEY, "key_refused"),
    429: (Action.RETRY, "rate_limited"),
    502: (Action.RETRY, "server_error"),
    503: (Action.RETRY, "server_error"),
    504: (Action.RETRY, "server_error"),
}

AUTH_ERROR_KEYS = frozenset({"imap_auth_success", "smtp_auth_success"})
# A refusal because the email already has an account (Rails' uniqueness message): the API wants
# that account's `id`. Submitting looks the id up and sends again (api/resend.py).
EMAIL_TAKEN = "email_taken"
_TAKEN_STATUSES = frozenset({409, 422})
_TAKEN_TEXT = re.compile(r"already (been )?taken|already exists", re.IGNORECASE)


def parse_retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a Retry-After header: seconds, milliseconds-ish floats or an HTTP date.

    Capped at MAX_RETRY_AFTER_S; None when absent or unreadable.
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - now()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def error_text(body: Any) -> str:
    """The error sentence of a JSON error body, read defensively (error, message, errors[])."""
    if isinstance(body, dict):
        for key in ("error", "message"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            return "; ".join(str(e) for e in errors[:5])
        if isinstance(errors, dict) and errors:
            return "; ".join(f"{k}: {v}" for k, v in list(errors.items())[:5])
    if isinstance(body, str) and body.strip():
        return body.strip()[:300]
    return ""


def auth_failure(body: Any) -> tuple[str, str] | None:
    """(error_code, message) when a 500 body is MailReach's mailbox auth-error shape, else None.

    The shape is `{success: false, imap_auth_success, smtp_auth_success, error}`. A side is said
    to have failed only when its flag is `false`; when neither is (both true, or one missing),
    the connect failed for another reason, which only MailReach's `error` text tells.
    """
    if not isinstance(body, dict) or body.get("success") is not False:
        return None
    if not AUTH_ERROR_KEYS & body.keys():
        return None
    imap_failed = body.get("imap_auth_success") is False
    smtp_failed = body.get("smtp_auth_success") is False
    text = error_text(body)
    if imap_failed and smtp_failed:
        return "auth_failed", f"IMAP and SMTP login both failed: {text or 'no reason given'}"
    if imap_failed:
        return "imap_auth_failed", f"IMAP login failed: {text or 'no reason given'}"
    if smtp_failed:
        return "smtp_auth_failed", f"SMTP login failed: {text or 'no reason given'}"
    return "connect_failed", f"MailReach could not connect the mailbox: {text or 'no reason given'}"


def classify_response(
    status: int, body: Any, retry_after: str | None = None, location: str | None = None
) -> Verdict:
    """What an HTTP answer means for the row that caused it."""
    if 200 <= status < 300:
        return Verdict(Action.ACCEPT)
    if 300 <= status < 400:
        return Verdict(Action.FAIL, "redirected", redirect_message(status, location))
    text = error_text(body)
    rule = STATUS_RULES.get(status)
    if rule is not None:
        action, code = rule
        message = text or f"MailReach answered HTTP {status}."
        if action is Action.STOP_KEY:
            if status == 403 and isinstance(body, str) and body.strip():
                return Verdict(Action.STOP_CLIENT, "client_refused", CLIENT_REFUSED)
            message = f"MailReach refused the API key (HTTP {status})."
        return Verdict(action, code, message, parse_retry_after(retry_after))
    if status == 500 and (auth := auth_failure(body)) is not None:
        return Verdict(Action.FAIL, auth[0], auth[1])
    if status in _TAKEN_STATUSES and _TAKEN_TEXT.search(text):
        return Verdict(Action.FAIL, EMAIL_TAKEN, text)
    if status >= 500:
        return Verdict(Action.RETRY, "server_error", text or f"MailReach answered HTTP {status}.")
    return Verdict(Action.FAIL, "rejected", text or f"MailReach answered HTTP {status}.")


def redirect_message(status: int, location: str | None) -> str:
    """Why a redirect was not followed, naming where it pointed (credentials already removed)."""
    target = printable(location, 200) if location else "no Location"
    return (
        f"MailReach answered HTTP {status} redirecting to {target}; redirects are not followed, "
        "as they would carry the API key and the passwords elsewhere: check --api-url."
    )


CLIENT_REFUSED = (
    "MailReach's servers refused this client itself (HTTP 403 with a web page, not an API "
    "answer): a firewall or the User-Agent was turned away, not the API key."
)


def classify_transport(kind: str) -> Verdict:
    """What a failure without an HTTP answer means. `kind` comes from the client's exception map."""
    return TRANSPORT_RULES[kind]


# Failures below HTTP. A dropped or timed-out request may have been carried out by the server
# (`ambiguous`): a create is sent again only after its email was looked up (api/resend.py), as
# MailReach does not document matching an account by email.
TRANSPORT_RULES: Mapping[str, Verdict] = {
    "refused": Verdict(Action.RETRY, "network", "Could not connect to the MailReach API."),
    "dns": Verdict(Action.RETRY, "network", "Could not resolve the MailReach API's host name."),
    "reset": Verdict(
        Action.RETRY, "network", "The connection to MailReach dropped before an answer.", None, True
    ),
    "timeout": Verdict(
        Action.RETRY, "timeout", "MailReach did not answer within --timeout.", None, True
    ),
    "tls": Verdict(Action.FAIL, "tls_error", "The API's TLS certificate could not be verified."),
    "tls_handshake": Verdict(
        Action.FAIL,
        "tls_error",
        "TLS could not be set up with the API (does the URL say https:// for a plain http port?).",
    ),
    "bad_json": Verdict(
        Action.RETRY, "server_error", "MailReach answered with a body that is not JSON.", None, True
    ),
}
