"""The preflight against real peers on loopback: DNS zones, Dovecot, aiosmtpd, bad ports.

Each case's expected code is the same table `check` is tested with (tests/support/peers/cases.py).
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import pytest

from bulk_onboard.preflight.connect import Security
from bulk_onboard.preflight.discovery import discover
from bulk_onboard.preflight.failures import Code
from bulk_onboard.preflight.mailbox import Endpoint, Mailbox
from bulk_onboard.preflight.probe import Prober
from bulk_onboard.preflight.resolver import Dns
from bulk_onboard.preflight.settings import Nameserver, PreflightSettings
from tests.support.peers.audit import NetworkAudit
from tests.support.peers.ports import silent_after_tls
from tests.support.peers.smtp import start_smtp
from tests.support.peers.world import UNTRUSTED_NAME, World, password_of

DEADLINE_S = 1.5

pytestmark = pytest.mark.usefixtures("loopback_only")


def settings_for(world: World, **overrides: object) -> PreflightSettings:
    options: dict[str, object] = {
        "timeout_s": DEADLINE_S,
        "nameservers": (Nameserver("127.0.0.1", world.dns.port),),
        "ca_file": world.certs.ca_file,
        "greeting_wait_s": 0.3,
    }
    return PreflightSettings(**(options | overrides))  # type: ignore[arg-type]


def endpoint(
    host: str, port: int, user: str, security: Security, *, wrong: bool = False
) -> Endpoint:
    return Endpoint(host, port, user, ("wrong-" if wrong else "") + password_of(user), security)


@pytest.mark.parametrize(
    ("domain", "spf", "dmarc", "dkim", "selector", "failure"),
    [
        ("good.test", True, True, True, "google", None),
        ("nospf.test", False, True, True, "google", None),
        ("nodmarc.test", True, False, True, "google", None),
        ("dkims1.test", True, False, True, "s1", None),
        ("nomx.test", True, True, False, None, Code.NO_MX),
        ("nowhere-at-all.test", None, None, None, None, Code.DNS_NXDOMAIN),
    ],
)
async def test_domain_dns_fills_the_api_columns(
    peers: World,
    domain: str,
    spf: bool | None,
    dmarc: bool | None,
    dkim: bool | None,
    selector: str | None,
    failure: Code | None,
) -> None:
    async with Prober(settings_for(peers)) as prober:
        report = await prober.domain(domain)
    assert (report.spf_valid, report.dmarc_valid, report.dkim_valid) == (spf, dmarc, dkim)
    assert report.dkim_selector == selector
    assert (report.failure.code if report.failure else None) == failure
    if failure is None:
        assert report.columns()["mx_records"] == f"mx.{domain}"


async def test_a_dns_server_that_never_answers_is_dns_timeout_within_the_deadline(
    peers: World,
) -> None:
    started = time.monotonic()
    async with Prober(settings_for(peers, timeout_s=1.0)) as prober:
        report = await prober.domain("slow.test")
    assert report.failure is not None
    assert report.failure.code is Code.DNS_TIMEOUT
    assert time.monotonic() - started < 1.0 + 0.5


async def test_a_dkim_selector_given_is_the_only_one_looked_up(peers: World) -> None:
    async with Prober(settings_for(peers, dkim_selector="s1")) as prober:
        assert (await prober.domain("good.test")).dkim_valid is False
        assert (await prober.domain("dkims1.test")).dkim_selector == "s1"


async def test_discovery_goes_preset_then_mx_then_srv_then_guess(peers: World) -> None:
    dns = Dns((Nameserver("127.0.0.1", peers.dns.port),), 2.0)
    by_domain = await discover(dns, "gmail.com", [])
    by_mx = await discover(dns, "gw.test", await dns.mx("gw.test"))
    by_srv = await discover(dns, "srv.test", await dns.mx("srv.test"))
    guessed = await discover(dns, "guess.test", await dns.mx("guess.test"))
    assert (by_domain.imap.host, by_domain.imap.source) == (
        "imap.gmail.com",
        "preset Gmail / Google Workspace",
    )
    assert (by_mx.smtp.host, by_mx.smtp.source) == ("smtp.gmail.com", "MX Gmail / Google Workspace")
    assert (by_srv.smtp.host, by_srv.smtp.port) == ("smtp.good.test", peers.smtp_starttls.port)
    assert by_srv.smtp.source == "SRV"
    assert not by_srv.smtp.guessed
    assert (guessed.imap.host, guessed.imap.port, guessed.imap.guessed) == (
        "mail.guess.test",
        993,
        True,
    )
    assert (guessed.smtp.host, guessed.smtp.port) == ("mail.guess.test", 587)


TLS, STARTTLS, AUTO = Security.TLS, Security.STARTTLS, Security.AUTO
GOOD, OTHER, UNTRUSTED = "good.test", "other.good.test", "untrusted.good.test"

IMAP_CASES = [
    # (name, host, Dovecot port, security, wrong password, expected code)
    ("starttls", f"imap.{GOOD}", "starttls_port", STARTTLS, False, None),
    ("implicit tls", f"imap.{GOOD}", "tls_port", TLS, False, None),
    ("unknown port, plaintext greeting", f"imap.{GOOD}", "starttls_port", AUTO, False, None),
    ("unknown port, tls first", f"imap.{GOOD}", "tls_port", AUTO, False, None),
    ("wrong password", f"imap.{GOOD}", "tls_port", TLS, True, Code.IMAP_AUTH_FAILED),
    ("certificate for another name", OTHER, "tls_port", TLS, False, Code.TLS_NAME_MISMATCH),
    (
        "untrusted CA after STARTTLS",
        UNTRUSTED,
        "starttls_port",
        STARTTLS,
        False,
        Code.TLS_UNTRUSTED,
    ),
    ("untrusted CA", UNTRUSTED, "tls_port", TLS, False, Code.TLS_UNTRUSTED),
    ("host not in DNS", "imap.nowhere-at-all.test", "tls_port", TLS, False, Code.DNS_NXDOMAIN),
]


@pytest.mark.parametrize(
    ("host", "port_of", "security", "wrong", "expected"),
    [case[1:] for case in IMAP_CASES],
    ids=[case[0] for case in IMAP_CASES],
)
async def test_imap_login(
    world: World,
    host: str,
    port_of: str,
    security: Security,
    wrong: bool,
    expected: Code | None,
) -> None:
    port = getattr(world.dovecot, port_of)
    async with Prober(settings_for(world)) as prober:
        result = await prober.imap(endpoint(host, port, "alice@good.test", security, wrong=wrong))
    assert (result.failure.code if result.failure else None) == expected, result.failure
    if result.failure is not None:
        assert password_of("alice@good.test") not in result.failure.message


SMTP_CASES = [
    # (name, host, server, security, user, wrong password, expected code)
    ("587: AUTH only after STARTTLS", f"smtp.{GOOD}", "smtp_starttls", STARTTLS, "alice", False,
     None),
    ("465: implicit TLS", f"smtp.{GOOD}", "smtp_tls", TLS, "alice", False, None),
    ("unknown port, tls first", f"smtp.{GOOD}", "smtp_tls", AUTO, "alice", False, None),
    ("wrong password", f"smtp.{GOOD}", "smtp_starttls", STARTTLS, "alice", True,
     Code.SMTP_AUTH_FAILED),
    ("Gmail 534-5.7.9", f"smtp.{GOOD}", "smtp_tls", TLS, "grace", False,
     Code.APP_PASSWORD_REQUIRED),
    ("Microsoft 5.7.139", f"smtp.{GOOD}", "smtp_tls", TLS, "heidi", False,
     Code.SMTP_AUTH_DISABLED_TENANT),
    ("no AUTH even after STARTTLS", f"smtp.{GOOD}", "smtp_noauth", STARTTLS, "alice", False,
     Code.SMTP_AUTH_NOT_OFFERED),
    ("certificate for another name", OTHER, "smtp_tls", TLS, "alice", False,
     Code.TLS_NAME_MISMATCH),
    ("untrusted CA", UNTRUSTED, "smtp_starttls", STARTTLS, "alice", False, Code.TLS_UNTRUSTED),
]  # fmt: skip


@pytest.mark.parametrize(
    ("host", "server", "security", "user", "wrong", "expected"),
    [case[1:] for case in SMTP_CASES],
    ids=[case[0] for case in SMTP_CASES],
)
async def test_smtp_auth(
    peers: World,
    host: str,
    server: str,
    security: Security,
    user: str,
    wrong: bool,
    expected: Code | None,
) -> None:
    port = getattr(peers, server).port
    email = f"{user}@good.test"
    async with Prober(settings_for(peers)) as prober:
        result = await prober.smtp(endpoint(host, port, email, security, wrong=wrong), None)
    assert (result.failure.code if result.failure else None) == expected, result.failure
    if result.failure is not None:
        assert password_of(email) not in result.failure.message


async def test_a_password_is_not_sent_in_clear_unless_allowed(peers: World) -> None:
    user = "alice@good.test"
    no_tls = endpoint("smtp.good.test", peers.smtp_plain.port, user, Security.STARTTLS)
    async with Prober(settings_for(peers)) as prober:
        refused = await prober.smtp(no_tls, None)
    async with Prober(settings_for(peers, allow_plaintext=True)) as prober:
        allowed = await prober.smtp(no_tls, None)
    assert refused.failure is not None
    assert refused.failure.code is Code.TLS_NOT_OFFERED
    assert allowed.ok, allowed.failure
    assert refused.in_clear is None
    assert allowed.in_clear is not None
    assert "passed only with --allow-plaintext" in allowed.in_clear


@pytest.mark.parametrize(
    ("port_of", "expected"),
    [
        ("refused", Code.CONNECT_REFUSED),
        ("blackhole", Code.CONNECT_TIMEOUT),
        ("silent", Code.SERVER_TIMEOUT),
    ],
)
async def test_bad_ports_fail_within_the_deadline(
    peers: World, port_of: str, expected: Code
) -> None:
    port = getattr(peers, port_of)
    port = port if isinstance(port, int) else port.port
    started = time.monotonic()
    async with Prober(settings_for(peers)) as prober:
        imap, smtp = await asyncio.gather(
            prober.imap(endpoint("imap.good.test", port, "a@good.test", Security.AUTO)),
            prober.smtp(endpoint("smtp.good.test", port, "a@good.test", Security.STARTTLS), None),
        )
    assert imap.failure is not None
    assert imap.failure.code is expected
    assert smtp.failure is not None
    assert smtp.failure.code is expected
    assert time.monotonic() - started < DEADLINE_S + 0.5


@pytest.fixture(scope="module")
def silent_after_tls_port(peers: World) -> Iterator[int]:
    port = silent_after_tls(peers.certs.good.cert, peers.certs.good.key)
    try:
        yield port.port
    finally:
        port.close()


@pytest.mark.parametrize("protocol", ["IMAP", "SMTP"])
async def test_a_server_silent_after_the_tls_handshake_is_told_from_a_stalled_handshake(
    peers: World, silent_after_tls_port: int, protocol: str
) -> None:
    async with Prober(settings_for(peers)) as prober:
        after_tls = endpoint(f"{protocol.lower()}.good.test", silent_after_tls_port, "a@good.test",
                             Security.TLS)  # fmt: skip
        during_tls = endpoint(f"{protocol.lower()}.good.test", peers.silent.port, "a@good.test",
                              Security.TLS)  # fmt: skip
        if protocol == "IMAP":
            silent, stalled = await asyncio.gather(prober.imap(after_tls), prober.imap(during_tls))
        else:
            silent, stalled = await asyncio.gather(
                prober.smtp(after_tls, None), prober.smtp(during_tls, None)
            )
    assert silent.failure is not None
    assert silent.failure.code is Code.SERVER_TIMEOUT
    assert silent.failure.message == (
        f"{protocol.lower()}.good.test:{silent_after_tls_port} accepted the connection, then did "
        "not answer (waiting for it to speak)."
    )
    assert stalled.failure is not None
    assert stalled.failure.message.endswith("did not answer (during the TLS handshake).")


async def test_a_whole_mailbox_checks_dns_and_both_logins_at_once(world: World) -> None:
    assert world.dovecot is not None
    user = "bob@nodmarc.test"
    mailbox = Mailbox(
        user,
        endpoint("imap.good.test", world.dovecot.tls_port, user, Security.TLS, wrong=True),
        endpoint("smtp.good.test", world.smtp_tls.port, user, Security.TLS, wrong=True),
    )
    async with Prober(settings_for(world)) as prober:
        report = await prober.check(mailbox)
    verdict = report.verdict()
    assert verdict is not None
    assert verdict.code is Code.AUTH_FAILED
    assert (report.imap_ok, report.smtp_ok) == (False, False)
    assert report.domain.dmarc_valid is False


def test_the_audit_catches_a_lookup_of_a_real_name(loopback_only: NetworkAudit) -> None:
    # The proof is only as good as the hook: it must see (and here refuse) a system lookup.
    loopback_only.block = True
    try:
        with pytest.raises(PermissionError):
            socket.getaddrinfo("example.invalid", 443)
    finally:
        loopback_only.block = False
    assert loopback_only.leaks == [("socket.getaddrinfo", "example.invalid")]
    loopback_only.leaks.clear()


@pytest.mark.parametrize(
    ("exclude", "asked", "accepted"),
    [
        ((), None, "plain"),  # PLAIN first when offered
        (("PLAIN",), None, "login"),  # as smtp.office365.com: LOGIN (and XOAUTH2), no PLAIN
        ((), "login", "login"),  # the row's own auth type, when offered
        (("LOGIN",), "login", "plain"),  # ... and what is offered when it is not
    ],
)
async def test_smtp_auth_says_which_mechanism_the_server_accepted(
    peers: World, exclude: tuple[str, ...], asked: str | None, accepted: str
) -> None:
    server = start_smtp(
        peers.certs, UNTRUSTED_NAME, peers.users, implicit_tls=False, exclude_mechanisms=exclude
    )
    try:
        email = "alice@good.test"
        async with Prober(settings_for(peers)) as prober:
            result = await prober.smtp(
                endpoint("smtp.good.test", server.port, email, Security.STARTTLS), asked
            )
    finally:
        server.stop()
    assert result.failure is None, result.failure
    assert result.mechanism == accepted
