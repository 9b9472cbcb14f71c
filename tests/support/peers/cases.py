"""The spreadsheet of preflight cases: one row per behaviour of issue 4, with its expected code."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from tests.support.peers.world import World, password_of

HEADER = [
    "Email", "First Name", "Last Name", "IMAP Host", "IMAP Port", "IMAP Password",
    "SMTP Host", "SMTP Port", "SMTP Security", "SMTP Password",
]  # fmt: skip


@dataclass(frozen=True)
class Case:
    email: str
    expected: str | None  # error_code, None when the row passes
    side: str | None  # which login the API would report failing: imap, smtp, both; "dns" if none
    imap: tuple[str, int] | None  # None: left blank for discovery
    smtp: tuple[str, int, str] | None  # host, port, security
    wrong_imap: bool = False
    wrong_smtp: bool = False

    def cells(self) -> list[str]:
        password = password_of(self.email)
        imap_host, imap_port = self.imap or ("", 0)
        smtp_host, smtp_port, security = self.smtp or ("", 0, "")
        return [
            self.email, "Test", "User",
            imap_host, str(imap_port or ""), ("wrong-" if self.wrong_imap else "") + password,
            smtp_host, str(smtp_port or ""), security,
            ("wrong-" if self.wrong_smtp else "") + password,
        ]  # fmt: skip


def cases(world: World) -> list[Case]:
    """Every case of issue 4's "Done when" (and a few more), against `world`'s peers."""
    assert world.dovecot is not None
    imap_plain = ("imap.good.test", world.dovecot.starttls_port)
    imap_tls = ("imap.good.test", world.dovecot.tls_port)
    smtp_587 = ("smtp.good.test", world.smtp_starttls.port, "starttls")
    smtp_465 = ("smtp.good.test", world.smtp_tls.port, "ssl")
    return [
        # AUTH is offered only after STARTTLS on this server: the row passes.
        Case("alice@good.test", None, None, imap_plain, smtp_587),
        Case("bob@good.test", None, None, imap_tls, smtp_465),
        Case("carol@good.test", "imap_auth_failed", "imap", imap_tls, smtp_465, wrong_imap=True),
        Case("dave@good.test", "smtp_auth_failed", "smtp", imap_plain, smtp_587, wrong_smtp=True),
        Case("bob@nodmarc.test", "auth_failed", "both", imap_tls, smtp_587, True, True),
        Case(
            "erin@good.test",
            "tls_name_mismatch",
            "imap",
            ("other.good.test", world.dovecot.tls_port),
            smtp_465,
        ),
        Case(
            "frank@good.test",
            "tls_untrusted",
            "smtp",
            imap_tls,
            ("untrusted.good.test", world.smtp_tls.port, "ssl"),
        ),
        Case("grace@good.test", "app_password_required", "smtp", imap_tls, smtp_465),
        Case("heidi@good.test", "smtp_auth_disabled_tenant", "smtp", imap_tls, smtp_587),
        Case(
            "ivan@good.test",
            "smtp_auth_not_offered",
            "smtp",
            imap_tls,
            ("smtp.good.test", world.smtp_noauth.port, "starttls"),
        ),
        Case(
            "bob@nospf.test", "connect_refused", "imap", ("imap.good.test", world.refused), smtp_465
        ),
        Case(
            "carol@nospf.test",
            "connect_timeout",
            "smtp",
            imap_tls,
            ("smtp.good.test", world.blackhole.port, "starttls"),
        ),
        Case(
            "dave@nospf.test",
            "server_timeout",
            "imap",
            ("imap.good.test", world.silent.port),
            smtp_465,
        ),
        Case("alice@nospf.test", None, None, imap_tls, smtp_465),
        Case("alice@nodmarc.test", None, None, imap_tls, smtp_465),
        Case("alice@dkims1.test", None, None, imap_tls, smtp_465),
        Case("alice@nomx.test", "no_mx", "dns", imap_tls, smtp_465),
        Case("alice@srv.test", None, None, None, None),
        Case("alice@guess.test", "dns_no_address", "imap", None, smtp_465),
        Case("alice@slow.test", "dns_timeout", "dns", imap_tls, smtp_465),
        Case("alice@nowhere-at-all.test", "dns_nxdomain", "dns", imap_tls, smtp_465),
    ]


def write_sheet(path: Path, rows: list[Case]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(case.cells() for case in rows)
    return path
