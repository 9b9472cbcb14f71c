"""Why a check failed, as a stable error code and one sentence. Pure functions, tables as data.

Each code has a hint in `bulk_onboard.base.hints`. Messages quote what a server said (never what we
sent: that holds the password).
"""

from __future__ import annotations

import errno
import re
import ssl
from collections.abc import Iterator
from enum import StrEnum

SERVER_TEXT_MAX = 200  # characters of a server's reply kept in a message


class Code(StrEnum):
    DNS_NXDOMAIN = "dns_nxdomain"
    DNS_TIMEOUT = "dns_timeout"
    DNS_ERROR = "dns_error"
    DNS_NO_ADDRESS = "dns_no_address"
    NO_MX = "no_mx"
    CONNECT_REFUSED = "connect_refused"
    CONNECT_TIMEOUT = "connect_timeout"
    NETWORK_UNREACHABLE = "network_unreachable"
    SERVER_TIMEOUT = "server_timeout"
    SERVER_CLOSED = "server_closed"
    SERVER_UNAVAILABLE = "server_unavailable"
    PROTOCOL_ERROR = "protocol_error"
    TLS_NAME_MISMATCH = "tls_name_mismatch"
    TLS_UNTRUSTED = "tls_untrusted"
    TLS_EXPIRED = "tls_expired"
    TLS_FAILED = "tls_handshake_failed"
    TLS_NOT_OFFERED = "tls_not_offered"
    IMAP_AUTH_FAILED = "imap_auth_failed"
    IMAP_DISABLED = "imap_disabled"
    SMTP_AUTH_FAILED = "smtp_auth_failed"
    SMTP_AUTH_NOT_OFFERED = "smtp_auth_not_offered"
    SMTP_AUTH_MECHANISM = "smtp_auth_mechanism_unsupported"
    APP_PASSWORD_REQUIRED = "app_password_required"
    SMTP_AUTH_DISABLED_TENANT = "smtp_auth_disabled_tenant"
    AUTH_FAILED = "auth_failed"  # IMAP and SMTP both refused the password


class CheckFailed(Exception):
    """One check's failure: `code` is stable, `str()` is one sentence without any secret."""

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Phase(StrEnum):
    """Where a check was when it failed: what a timeout or an OS error there means."""

    RESOLVE = "resolve"
    CONNECT = "connect"
    TLS = "tls"
    GREETING = "greeting"
    AUTH = "auth"


def server_text(text: str | bytes) -> str:
    """A server's reply on one line, shortened."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    flat = " ".join(text.split())
    return flat if len(flat) <= SERVER_TEXT_MAX else flat[: SERVER_TEXT_MAX - 1] + "…"


# What big providers say on a refused login, most specific first: (regex, code). Matched
# case-insensitively against the reply text (SMTP: "code text").
SMTP_AUTH_REPLIES: tuple[tuple[str, Code], ...] = (
    (r"\b5\.7\.9\b|application-specific password", Code.APP_PASSWORD_REQUIRED),
    (r"smtpclientauthentication is disabled|5\.7\.139.*disabled", Code.SMTP_AUTH_DISABLED_TENANT),
    (r"^4\d\d\b", Code.SERVER_UNAVAILABLE),
    (r"must issue a starttls|5\.7\.11\b|encryption required", Code.TLS_NOT_OFFERED),
)
IMAP_LOGIN_REPLIES: tuple[tuple[str, Code], ...] = (
    (r"application-specific password|app password", Code.APP_PASSWORD_REQUIRED),
    (r"not enabled for imap|imap access is disabled|imap is disabled", Code.IMAP_DISABLED),
    (r"\[unavailable\]|try again later", Code.SERVER_UNAVAILABLE),
    (r"\[privacyrequired\]|plaintext authentication disallowed", Code.TLS_NOT_OFFERED),
)


def _match(table: tuple[tuple[str, Code], ...], text: str, default: Code) -> Code:
    for pattern, code in table:
        if re.search(pattern, text, re.IGNORECASE):
            return code
    return default


def smtp_auth_refused(reply_code: int, text: str | bytes) -> CheckFailed:
    """The failure of an SMTP AUTH the server answered with `reply_code`."""
    said = server_text(f"{reply_code} {server_text(text)}")
    code = _match(SMTP_AUTH_REPLIES, said, Code.SMTP_AUTH_FAILED)
    return CheckFailed(code, f"The SMTP server refused the login: {said}")


def imap_login_refused(text: str | bytes) -> CheckFailed:
    """The failure of an IMAP LOGIN the server answered NO (or BAD) to."""
    said = server_text(text) or "no reason given"
    code = _match(IMAP_LOGIN_REPLIES, said, Code.IMAP_AUTH_FAILED)
    return CheckFailed(code, f"The IMAP server refused the login: {said}")


# OpenSSL's X509_V_ERR_* numbers.
_NAME_MISMATCH = frozenset({62})  # hostname mismatch
_EXPIRED = frozenset({9, 10})  # not yet valid, expired
_UNTRUSTED = frozenset({2, 18, 19, 20, 21, 27, 28})  # unknown issuer, self-signed, untrusted


def tls_failure(exc: ssl.SSLError, where: str) -> CheckFailed:
    """What a failed TLS handshake with `where` (e.g. "imap.example.com:993") means."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        number = exc.verify_code
        reason = exc.verify_message or "the certificate was refused"
        if number in _NAME_MISMATCH:
            return CheckFailed(
                Code.TLS_NAME_MISMATCH,
                f"The certificate of {where} is for another name ({reason}).",
            )
        if number in _EXPIRED:
            return CheckFailed(Code.TLS_EXPIRED, f"The certificate of {where} is {reason}.")
        if number in _UNTRUSTED:
            return CheckFailed(
                Code.TLS_UNTRUSTED, f"The certificate of {where} is not trusted ({reason})."
            )
        return CheckFailed(Code.TLS_UNTRUSTED, f"The certificate of {where} was refused: {reason}.")
    reason = getattr(exc, "reason", None) or str(exc)
    return CheckFailed(Code.TLS_FAILED, f"The TLS handshake with {where} failed ({reason}).")


def os_failure(exc: OSError, phase: Phase, where: str) -> CheckFailed:
    """What an OS-level socket error while at `phase` with `where` means."""
    if isinstance(exc, ConnectionRefusedError):
        return CheckFailed(Code.CONNECT_REFUSED, f"{where} refused the connection.")
    if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL):
        return CheckFailed(Code.NETWORK_UNREACHABLE, f"{where} can't be reached from here.")
    if isinstance(exc, TimeoutError):
        return timeout_failure(phase, where)
    if phase is Phase.CONNECT:
        return CheckFailed(Code.CONNECT_REFUSED, f"Could not connect to {where}: {exc.strerror}.")
    return CheckFailed(Code.SERVER_CLOSED, f"{where} dropped the connection ({exc.strerror}).")


def timeout_failure(phase: Phase, where: str) -> CheckFailed:
    """The failure of a check whose deadline passed while at `phase`."""
    if phase is Phase.RESOLVE:
        return CheckFailed(Code.DNS_TIMEOUT, f"DNS did not answer in time for {where}.")
    if phase is Phase.CONNECT:
        return CheckFailed(Code.CONNECT_TIMEOUT, f"Connecting to {where} timed out.")
    return CheckFailed(
        Code.SERVER_TIMEOUT,
        f"{where} accepted the connection, then did not answer ({_WAITING_FOR[phase]}).",
    )


_WAITING_FOR = {
    Phase.TLS: "during the TLS handshake",
    Phase.GREETING: "waiting for it to speak",
    Phase.AUTH: "during the login",
}


def causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and the exceptions it was raised from, innermost last."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def failure_of(exc: BaseException, phase: Phase, where: str) -> CheckFailed | None:
    """The failure a library's exception stands for, judged by the TLS/OS error under it."""
    for cause in causes(exc):
        if isinstance(cause, CheckFailed):
            return cause
        if isinstance(cause, ssl.SSLError):
            return tls_failure(cause, where)
    for cause in causes(exc):
        if isinstance(cause, TimeoutError):
            return timeout_failure(phase, where)
        if isinstance(cause, OSError):
            return os_failure(cause, phase, where)
    return None
