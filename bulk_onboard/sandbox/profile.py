"""What the sandbox pretends to learn about a mailbox: scores, domain DNS, and the login outcome.

Everything is a pure function of the request, so a test can predict any answer. Scores and
DNS come from a hash of the email and its domain; mailbox logins fail only for the magic
passwords below (Stripe test-card style, documented in the README).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

Account = dict[str, Any]  # the JSON object the API answers with

NO_DNS_SUFFIX = ".nodns.test"
# Scores (low, high) by whether the domain lacks DNS: a broken domain warms badly.
_SCORE_RANGE = {False: (60, 100), True: (20, 60)}

WRONG_BOTH = "wrong-password"
WRONG_IMAP = "wrong-imap-password"
WRONG_SMTP = "wrong-smtp-password"
_FAILS_IMAP = frozenset({WRONG_BOTH, WRONG_IMAP})
_FAILS_SMTP = frozenset({WRONG_BOTH, WRONG_SMTP})

# What each provider's servers say to a bad login, as the real service relays them.
_AUTH_ERRORS: dict[str, tuple[str, str]] = {
    "gmail": (
        "[AUTHENTICATIONFAILED] Invalid credentials (Failure)",
        "535-5.7.8 Username and Password not accepted. For more information, go to "
        "https://support.google.com/mail/?p=BadCredentials",
    ),
    "outlook": (
        "AUTHENTICATE failed.",
        "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect.",
    ),
    "custom": (
        "[AUTHENTICATIONFAILED] Authentication failed.",
        "535 5.7.8 Error: authentication failed: authentication failure",
    ),
}

# provider -> (SPF value, DKIM selector)
_SENDER_DNS: dict[str, tuple[str, str]] = {
    "gmail": ("v=spf1 include:_spf.google.com ~all", "google"),
    "outlook": ("v=spf1 include:spf.protection.outlook.com -all", "selector1"),
    "custom": ("v=spf1 mx a ~all", "default"),
}

# A custom SMTP host naming a big provider is detected as that provider, like the real service.
_SENDING_PROVIDER_HINTS: tuple[tuple[str, str], ...] = (
    ("google", "gmail"),
    ("gmail", "gmail"),
    ("outlook", "outlook"),
    ("office365", "outlook"),
)


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    """What logging into the mailbox's servers gave; `error` is None when both succeeded."""

    imap_ok: bool
    smtp_ok: bool
    error: str | None


def log_in(
    provider: str, imap_password: str | None, smtp_password: str | None, *, imap: bool = True
) -> LoginOutcome:
    """Pretend to log in over IMAP (unless `imap` is False: SMTP-only) and SMTP."""
    imap_ok = not imap or imap_password not in _FAILS_IMAP
    smtp_ok = smtp_password not in _FAILS_SMTP
    imap_error, smtp_error = _AUTH_ERRORS[provider]
    errors = [
        *([] if imap_ok else [f"IMAP authentication failed: {imap_error}"]),
        *([] if smtp_ok else [f"SMTP authentication failed: {smtp_error}"]),
    ]
    return LoginOutcome(imap_ok, smtp_ok, "; ".join(errors) or None)


def _scores(text: str, count: int, low: int = 60, high: int = 100) -> list[int]:
    """`count` scores in [low, high] from one hash of `text` (two bytes each)."""
    digest = hashlib.blake2b(text.encode(), digest_size=2 * count).digest()
    span = high - low + 1
    return [low + int.from_bytes(digest[2 * i : 2 * i + 2]) * span // 65536 for i in range(count)]


def detected_sending_provider(provider: str, smtp_server: str | None) -> str:
    """The provider MailReach would detect from the SMTP host, falling back to the declared one."""
    host = (smtp_server or "").lower()
    for needle, detected in _SENDING_PROVIDER_HINTS:
        if needle in host:
            return detected
    return provider


def domain_facts(domain: str, provider: str) -> Account:
    """The `domain` object: DNS health as MailReach would report it for this domain."""
    if domain.endswith(NO_DNS_SUFFIX):
        return {
            "name": domain,
            "spf_valid": False,
            "spf_value": None,
            "dkim_valid": False,
            "dkim_selector": None,
            "dmarc_valid": False,
            "dmarc_value": None,
            "mx_records": [],
            "avg_score": _scores(domain, 1, 20, 60)[0],
        }
    spf_value, selector = _SENDER_DNS[provider]
    if provider == "gmail":
        mx = ["aspmx.l.google.com", "alt1.aspmx.l.google.com", "alt2.aspmx.l.google.com"]
    elif provider == "outlook":
        mx = [domain.replace(".", "-") + ".mail.protection.outlook.com"]
    else:
        mx = [f"mx1.{domain}", f"mx2.{domain}"]
    return {
        "name": domain,
        "spf_valid": True,
        "spf_value": spf_value,
        "dkim_valid": True,
        "dkim_selector": selector,
        "dmarc_valid": True,
        "dmarc_value": f"v=DMARC1; p=none; rua=mailto:dmarc@{domain}",
        "mx_records": mx,
        "avg_score": _scores(domain, 1)[0],
    }


def new_account(email: str, provider: str, smtp_server: str | None, now: str) -> Account:
    """A fresh account (id None) with the scores and DNS this email deterministically gets."""
    domain = email.rpartition("@")[2]
    nodns = domain.endswith(NO_DNS_SUFFIX)
    score, score_gmail, score_outlook, score_custom = _scores(email, 4, *_SCORE_RANGE[nodns])
    return {
        "id": None,
        "email": email,
        "first_name": "",
        "last_name": "",
        "provider": provider,
        "score": score,
        "score_gmail": score_gmail,
        "score_outlook": score_outlook,
        "score_custom": score_custom,
        "alive": True,
        "suspended": False,
        "warming_enabled": True,
        "imap_issue": False,
        "smtp_only": False,
        "spamchecker_only": False,
        "detected_sending_provider": detected_sending_provider(provider, smtp_server),
        "tags": [],
        "signature": None,
        "time_zone": "UTC",
        "config_rampup_target": 20,
        "config_rampup_increase": 2,
        "config_max_conversation_running": 10,
        "created_at": now,
        "updated_at": now,
        "domain": domain_facts(domain, provider),
    }
