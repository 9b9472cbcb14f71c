"""Real SMTP AUTH servers on loopback (aiosmtpd): 587-style STARTTLS and 465-style implicit TLS.

Users are email -> password. `replies` gives some users the refusal a big provider sends instead
of the generic `535 5.7.8` (Gmail's `534-5.7.9`, Microsoft's `535 5.7.139`), or one repeating
the password it was sent. A server built with
`auth=False` never offers AUTH, even after STARTTLS; one built with `tls=False` offers no TLS.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from tests.support.peers.certs import Certs
from tests.support.peers.ports import LOOPBACK, free_port

GMAIL_APP_PASSWORD = (
    "534-5.7.9 Application-specific password required. Learn more at\r\n"
    "534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor"
)
MICROSOFT_TENANT = (
    "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
    "Tenant. Visit https://aka.ms/smtp_auth_disabled for more information."
)

# A careless server's refusal, repeating what it was sent ({user} and {password} filled in).
ECHOING_REFUSAL = "535 5.7.8 Authentication failed for {user} with password {password}"


def server_context(certs: Certs, untrusted_name: str) -> ssl.SSLContext:
    """The trusted certificate, or the untrusted one for clients asking for `untrusted_name`."""
    good = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    good.load_cert_chain(certs.good.cert, certs.good.key)
    other = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    other.load_cert_chain(certs.untrusted.cert, certs.untrusted.key)

    def pick(sock: ssl.SSLObject, name: str | None, _: ssl.SSLContext) -> None:
        if name == untrusted_name:
            sock.context = other

    good.sni_callback = pick
    return good


class _Authenticator:
    def __init__(self, users: Mapping[str, str], replies: Mapping[str, str]) -> None:
        self.users = users
        self.replies = replies

    def __call__(
        self, server: SMTP, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = data.login.decode(errors="replace")
        password = data.password.decode(errors="replace")
        reply = self.replies.get(user)
        if reply is not None:
            said = reply.replace("{user}", user).replace("{password}", password)
            return AuthResult(success=False, handled=False, message=said)
        return AuthResult(success=self.users.get(user) == password, handled=False)


class _Sink:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


class _NoAuthSink(_Sink):
    """Like an MX host on port 25: no AUTH line in the EHLO answer, before or after STARTTLS."""

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        return [line for line in responses if not line.startswith("250-AUTH")]


@dataclass
class SmtpPeer:
    port: int
    controller: Controller

    def stop(self) -> None:
        self.controller.stop()


def start_smtp(
    certs: Certs,
    untrusted_name: str,
    users: Mapping[str, str],
    *,
    implicit_tls: bool,
    auth: bool = True,
    tls: bool = True,
    replies: Mapping[str, str] | None = None,
    exclude_mechanisms: tuple[str, ...] = (),
) -> SmtpPeer:
    """Start one server in its own thread; returns once it answers. `exclude_mechanisms`
    ("PLAIN") are left out of its AUTH offer, as smtp.office365.com leaves PLAIN out."""
    # A deprecation warning per login, and a traceback per client that drops a TLS handshake.
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    context = server_context(certs, untrusted_name)
    options: dict[str, Any] = {}
    if auth:
        options["authenticator"] = _Authenticator(users, replies or {})
        options["auth_exclude_mechanism"] = list(exclude_mechanisms)
    if not tls:  # an old server: no STARTTLS at all, AUTH in the clear
        options["auth_require_tls"] = False
    elif implicit_tls:
        # aiosmtpd bug #281: with auth_require_tls the implicit-TLS server never offers AUTH.
        options |= {"ssl_context": context, "auth_require_tls": False}
    else:
        options |= {"tls_context": context, "require_starttls": True, "auth_require_tls": True}
    controller = Controller(
        _Sink() if auth else _NoAuthSink(),
        hostname=LOOPBACK,
        port=free_port(),
        server_hostname="smtp.peer.test",
        **options,
    )
    controller.start()
    return SmtpPeer(controller.port, controller)
