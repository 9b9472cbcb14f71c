"""The little internet the preflight tests (and the benchmark) run against, all on loopback.

Domains served by the test DNS server:
- good.test: MX, SPF, DMARC, DKIM at `google`; hosts imap/smtp.good.test (the certificate's
  names), other.good.test (not on the certificate), untrusted.good.test (served a certificate
  from an unknown CA).
- nospf.test, nodmarc.test: MX, and all but SPF / DMARC. dkims1.test: DKIM at `s1` only.
- nomx.test: SPF and DMARC but no MX. gw.test: MX at Google. slow.test: never answered in time.
- srv.test: no server hosts of its own, RFC 6186 SRV records pointing at the good servers.
- guess.test: an MX only, so discovery guesses `mail.guess.test`, a name with no address: the
  guessed server fails the same way on every machine. (An address would make the outcome
  depend on whatever listens on port 993 there: a system Dovecot answers on all of 127/8.)
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.peers.certs import Certs, make_certs
from tests.support.peers.dns_server import DnsPeer, Zone, start_dns
from tests.support.peers.dovecot import DovecotPeer, dovecot_missing, start_dovecot
from tests.support.peers.ports import Blackhole, Silent, blackhole, refused_port, silent
from tests.support.peers.smtp import (
    ECHOING_REFUSAL,
    GMAIL_APP_PASSWORD,
    MICROSOFT_TENANT,
    SmtpPeer,
    start_smtp,
)

CERT_NAMES = ["imap.good.test", "smtp.good.test", "untrusted.good.test", "mail.guess.test"]
UNTRUSTED_NAME = "untrusted.good.test"
DKIM_KEY = "v=DKIM1; k=rsa; p=" + "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" * 9  # > 255 bytes


def password_of(user: str) -> str:
    """Every test user's password: long enough for the no-secret-in-output search."""
    return f"pw-{user.split('@')[0]}-Secret-7391"


def zone() -> Zone:
    z = Zone(slow_suffix="slow.test")
    for name in ("imap.good.test", "smtp.good.test", "other.good.test", UNTRUSTED_NAME):
        z.a(name)
    full = {"good.test": "google", "nospf.test": "google", "nodmarc.test": "google"}
    for domain, selector in full.items():
        z.mx(domain, f"mx.{domain}")
        if domain != "nospf.test":
            z.txt(domain, "v=spf1 ip4:127.0.0.1 -all")
        if domain != "nodmarc.test":
            z.txt(f"_dmarc.{domain}", "v=DMARC1; p=none; rua=mailto:dmarc@" + domain)
        z.txt(f"{selector}._domainkey.{domain}", DKIM_KEY)
    z.mx("dkims1.test", "mx.dkims1.test")
    z.txt("dkims1.test", "v=spf1 -all")
    z.txt("s1._domainkey.dkims1.test", DKIM_KEY)
    z.txt("nomx.test", "v=spf1 -all")
    z.txt("_dmarc.nomx.test", "v=DMARC1; p=reject")
    z.a("nomx.test")
    z.mx("gw.test", "aspmx.l.google.com", "alt1.aspmx.l.google.com")
    z.mx("slow.test", "mx.slow.test")
    z.mx("guess.test", "mx.guess.test")
    z.txt("mail.guess.test", "v=spf1 -all")  # the name exists, with no A or AAAA record
    return z


@dataclass
class World:
    certs: Certs
    dns: DnsPeer
    smtp_starttls: SmtpPeer  # 587-style: AUTH offered only after STARTTLS
    smtp_tls: SmtpPeer  # 465-style: TLS from the first byte
    smtp_noauth: SmtpPeer  # STARTTLS, never AUTH
    smtp_plain: SmtpPeer  # no STARTTLS: AUTH only in the clear
    refused: int
    blackhole: Blackhole
    silent: Silent
    dovecot: DovecotPeer | None  # None when Dovecot is not installed
    folder: Path
    users: dict[str, str] = field(default_factory=dict)

    def cli_options(self, timeout_s: float = 3.0) -> list[str]:
        """The options pointing `check` (or `run --preflight`, or the sandbox) at this world."""
        return ["--dns", self.dns.address, "--ca-file", str(self.certs.ca_file),
                "--preflight-timeout", str(timeout_s)]  # fmt: skip

    def stop(self) -> None:
        for stop in (
            self.dns.stop, self.smtp_starttls.stop, self.smtp_tls.stop, self.smtp_noauth.stop,
            self.smtp_plain.stop, self.blackhole.close, self.silent.close,
        ):  # fmt: skip
            with contextlib.suppress(Exception):
                stop()
        if self.dovecot is not None:
            self.dovecot.stop()


USERS = [
    f"{name}@{domain}"
    for domain in (
        "good.test",
        "nospf.test",
        "nodmarc.test",
        "dkims1.test",
        "nomx.test",
        "srv.test",
        "guess.test",
        "slow.test",
        "nowhere-at-all.test",
    )
    for name in ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy")
]
SMTP_REPLIES = {
    "grace@good.test": GMAIL_APP_PASSWORD,
    "heidi@good.test": MICROSOFT_TENANT,
    "judy@good.test": ECHOING_REFUSAL,
}


def start_world(*, extra_users: list[str] | None = None, penalty: bool = False) -> World:
    """Start every peer (Dovecot only if installed). `stop()` it afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="preflight-world-"))
    certs = make_certs(folder, CERT_NAMES)
    users = {user: password_of(user) for user in [*USERS, *(extra_users or [])]}
    dns = start_dns(zone())
    smtp = [
        start_smtp(certs, UNTRUSTED_NAME, users, implicit_tls=False, replies=SMTP_REPLIES),
        start_smtp(certs, UNTRUSTED_NAME, users, implicit_tls=True, replies=SMTP_REPLIES),
        start_smtp(certs, UNTRUSTED_NAME, users, implicit_tls=False, auth=False),
        start_smtp(certs, UNTRUSTED_NAME, users, implicit_tls=False, tls=False),
    ]
    dovecot = None
    if dovecot_missing() is None:
        dovecot = start_dovecot(certs, users, UNTRUSTED_NAME, penalty=penalty)
    world = World(
        certs, dns, smtp[0], smtp[1], smtp[2], smtp[3], refused_port(), blackhole(), silent(),
        dovecot, folder, users,
    )  # fmt: skip
    # SRV records name ports, known only now.
    if dovecot is not None:
        dns.zone.srv("_imaps._tcp.srv.test", "imap.good.test", dovecot.tls_port)
    dns.zone.srv("_submission._tcp.srv.test", "smtp.good.test", world.smtp_starttls.port)
    dns.zone.mx("srv.test", "mx.srv.test")
    return world
