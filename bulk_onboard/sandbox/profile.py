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

# `detected_sending_provider` is a word naming whose servers send the mail (the example says
# `google`). A custom SMTP host of a big provider is detected as that provider.
_SENDING_PROVIDER_HINTS: tuple[tuple[str, str], ...] = (
    ("google", "google"),
    ("gmail", "google"),
    ("outlook", "microsoft"),
    ("office365", "microsoft"),
)
_SENDING_PROVIDER = {"gmail": "google", "outlook": "microsoft", "custom": "other"}
# The reverse DNS of the sending IP, by detected provider (`other`: the domain's own host).
_REVERSE_DNS = {
    "google": "mail-sor-f{n}.google.com",
    "microsoft": "mail-{n}.outbound.protection.outlook.com",
}


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
    return _SENDING_PROVIDER[provider]


def _date(text: str, first_year: int, years: int) -> str:
    """A timestamp in the API's format, the same for the same `text`, within the given years."""
    n = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest())
    year = first_year + n % years
    month, day, hour = 1 + n // 7 % 12, 1 + n // 11 % 28, n // 13 % 24
    minute, second = n // 17 % 60, n // 19 % 60
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}.000Z"


def _mx(domain: str, provider: str) -> list[list[str]]:
    """`mx_records` as the API writes them: `[host, ip, priority]`, all three strings."""
    if provider == "gmail":
        hosts = ["aspmx.l.google.com", "alt1.aspmx.l.google.com", "alt2.aspmx.l.google.com"]
        first_ip = "142.250.27"
    elif provider == "outlook":
        hosts = [domain.replace(".", "-") + ".mail.protection.outlook.com"]
        first_ip = "52.101.166"
    else:
        hosts = [f"mx1.{domain}", f"mx2.{domain}"]
        first_ip = "203.0.113"  # TEST-NET-3: an address that can't be anyone's
    return [
        [host, f"{first_ip}.{n + 1}", str(n * 10 if provider == "custom" else n + 1)]
        for n, host in enumerate(hosts)
    ]


def domain_facts(domain: str, provider: str, domain_id: int, now: str) -> Account:
    """The `domain` object: DNS health as MailReach would report it for this domain.

    Every field of the published example, with its JSON type: a missing record is an empty
    string, never null, and `mx_records` an empty list.
    """
    created = _date(domain, 2012, 12)
    nodns = domain.endswith(NO_DNS_SUFFIX)
    spf_value, selector = _SENDER_DNS[provider]
    low, high = _SCORE_RANGE[nodns]
    avg_score, change = _scores(domain, 2, low, high)
    return {
        "id": domain_id,
        "created_at": now,
        "updated_at": now,
        "domain": domain,
        "creation_date": created,
        "last_check_at": now,
        "spf_valid": not nodns,
        "spf_value": "" if nodns else spf_value,
        "dkim_valid": not nodns,
        "dkim_selector": "" if nodns else selector,
        "dkim_value": "",
        "dmarc_valid": not nodns,
        "dmarc_value": "" if nodns else f"v=DMARC1; p=none; rua=mailto:dmarc@{domain}",
        "domain_http_response": False,
        "domain_https": False,
        "avg_score": avg_score,
        "expire_at": f"{int(created[:4]) + 15}{created[4:]}",
        "score_change": round((change - (low + high) / 2) / 20, 2),
        "mx_records": [] if nodns else _mx(domain, provider),
    }


def _sending_ip(email: str) -> str:
    n = int.from_bytes(hashlib.blake2b(email.encode(), digest_size=2).digest())
    return f"198.51.100.{n % 254 + 1}"  # TEST-NET-2


def new_account(
    email: str, provider: str, smtp_server: str | None, now: str, domain: Account
) -> Account:
    """A fresh account (id None) with the scores this email deterministically gets, in the
    published example's shape: its keys, in its order, with its JSON types."""
    nodns = email.rpartition("@")[2].endswith(NO_DNS_SUFFIX)
    score, score_gmail, score_outlook, score_custom = _scores(email, 4, *_SCORE_RANGE[nodns])
    sender = detected_sending_provider(provider, smtp_server)
    ip = _sending_ip(email)
    reverse = _REVERSE_DNS.get(sender, "mail.{domain}").format(
        n=ip.rpartition(".")[2], domain=domain["domain"]
    )
    return {
        "id": None,
        "created_at": now,
        "email": email,
        "first_name": "",
        "last_name": "",
        "provider": provider,
        "alive": True,
        "suspended": False,
        "warming_enabled": True,
        "spamchecker_enabled": False,
        "score": score,
        "score_gmail": score_gmail,
        "score_outlook": score_outlook,
        "score_custom": score_custom,
        "total_messages_sent": 0,
        "total_messages_received": 0,
        "config_rampup_target": 20,
        "config_rampup_increase": 2,
        "config_max_conversation_running": 10,
        "config_current_conversation_running": 0,
        "config_smtp_append_after_sent": True,
        "time_zone": "UTC",
        "autopilot": True,
        "copilot_enabled": False,
        "has_refresh_token": False,  # an IMAP/SMTP account has no OAuth token
        "has_notifications": False,
        "imap_issue": False,
        "current_warming_recipe": "default",
        "detected_sending_provider": sender,
        "sending_reverse_dns_value": reverse,
        "sending_ip": ip,
        "signature": "",
        "tags": [],
        "domain": domain,
    }
