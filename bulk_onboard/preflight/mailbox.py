"""What a mailbox check needs from an `imap_auth` body, and what it found."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bulk_onboard.preflight.connect import Security, imap_security, smtp_security
from bulk_onboard.preflight.domain import DomainReport
from bulk_onboard.preflight.failures import CheckFailed, Code

# Failures that mean the password itself was refused (rather than the server being unreachable).
PASSWORD_REFUSED = frozenset({Code.IMAP_AUTH_FAILED, Code.SMTP_AUTH_FAILED})


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One server to sign in to. `repr()` hides the password."""

    host: str
    port: int
    username: str
    password: str = field(repr=False)
    security: Security

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Mailbox:
    email: str
    imap: Endpoint | None  # None: SMTP only
    smtp: Endpoint | None
    smtp_auth_type: str | None = None

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2].lower()


def _text(body: Mapping[str, object], name: str) -> str:
    value = body.get(name)
    return value if isinstance(value, str) else ""


def _port(body: Mapping[str, object], name: str, default: int) -> int:
    value = body.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def mailbox_of(body: Mapping[str, object]) -> Mailbox:
    """The servers and logins of an `imap_auth` body (ours or one the sandbox received).

    Usernames default to the email and passwords to the shared `password`, as MailReach does.
    """
    email = _text(body, "email").lower()
    shared = _text(body, "password")
    imap = smtp = None
    if _text(body, "imap_server") and not body.get("smtp_only"):
        port = _port(body, "imap_server_port", 993)
        imap = Endpoint(
            _text(body, "imap_server").lower(),
            port,
            _text(body, "imap_server_username") or email,
            _text(body, "imap_server_password") or shared,
            imap_security(port),
        )
    if _text(body, "smtp_server"):
        port = _port(body, "smtp_server_port", 587)
        starttls = body.get("smtp_server_starttls")
        smtp = Endpoint(
            _text(body, "smtp_server").lower(),
            port,
            _text(body, "smtp_server_username") or email,
            _text(body, "smtp_server_password") or shared,
            smtp_security(port, starttls if isinstance(starttls, bool) else None),
        )
    auth_type = body.get("smtp_server_auth_type")
    return Mailbox(email, imap, smtp, auth_type if isinstance(auth_type, str) else None)


@dataclass(frozen=True, slots=True)
class LoginResult:
    protocol: str  # "IMAP" or "SMTP"
    failure: CheckFailed | None
    elapsed_ms: int
    in_clear: str | None = None  # a note, when the login was sent without TLS (--allow-plaintext)
    mechanism: str | None = None  # SMTP: the AUTH mechanism accepted (plain, login, cram-md5)

    @property
    def ok(self) -> bool:
        return self.failure is None


@dataclass(frozen=True, slots=True)
class MailboxReport:
    """Everything one mailbox check found: its domain's DNS and each login."""

    domain: DomainReport
    imap: LoginResult | None
    smtp: LoginResult | None

    @property
    def imap_ok(self) -> bool:
        return self.imap is None or self.imap.ok

    @property
    def smtp_ok(self) -> bool:
        return self.smtp is None or self.smtp.ok

    def in_clear(self) -> list[str]:
        """A note per login that passed only by going unencrypted (--allow-plaintext)."""
        return [r.in_clear for r in (self.imap, self.smtp) if r is not None and r.in_clear]

    def login_failures(self) -> list[CheckFailed]:
        return [r.failure for r in (self.imap, self.smtp) if r is not None and r.failure]

    def verdict(self) -> CheckFailed | None:
        """The row's failure: the domain's first, then IMAP's, then SMTP's; all in the message.

        Both passwords refused is `auth_failed`, as the API calls it.
        """
        failures = [f for f in (self.domain.failure, *self.login_failures()) if f is not None]
        if not failures:
            return None
        message = " ".join(f.message for f in failures)
        logins = self.login_failures()
        both_refused = len(logins) == 2 and {f.code for f in logins} == PASSWORD_REFUSED
        if both_refused and self.domain.failure is None:
            return CheckFailed(Code.AUTH_FAILED, message)
        return CheckFailed(failures[0].code, message)

    def login_error(self) -> str | None:
        """The API's `error` text for the failed logins, None when both succeeded."""
        parts = [
            f"{result.protocol} authentication failed: {result.failure.message}"
            for result in (self.imap, self.smtp)
            if result is not None and result.failure is not None
        ]
        return "; ".join(parts) or None
