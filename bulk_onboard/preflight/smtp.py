"""SMTP AUTH with aiosmtplib over a connection opened by `connect`: TLS first or STARTTLS.

Mechanisms: the row's `smtp_server_auth_type` when the server offers it, else PLAIN, then LOGIN
(CRAM-MD5 last: MailReach's client knows it too). The password is sent only over TLS unless
plaintext is allowed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl

import aiosmtplib

from bulk_onboard.preflight.connect import (
    Opened,
    Tracker,
    plaintext_refused,
    release,
    sent_in_clear,
)
from bulk_onboard.preflight.failures import (
    CheckFailed,
    Code,
    Phase,
    server_text,
    smtp_auth_refused,
)

QUIT_WAIT_S = 1.0
MECHANISMS = ("plain", "login", "cram-md5")  # what we can do, preferred first
_AUTH_TYPE_MECHANISM = {"plain": "plain", "login": "login", "cram_md5": "cram-md5"}
_MECHANISM_AUTH_TYPE = {mechanism: name for name, mechanism in _AUTH_TYPE_MECHANISM.items()}


def auth_type_of(mechanism: str) -> str:
    """The API's `smtp_server_auth_type` for a SASL mechanism name (`cram-md5` → `cram_md5`)."""
    return _MECHANISM_AUTH_TYPE[mechanism]


class _Client(aiosmtplib.SMTP):
    """aiosmtplib's client, remembering that it once had a connection.

    `connect()` does the TLS handshake (TLS from the first byte) and reads the greeting in one
    call, and drops its transport when interrupted: `secured` outlives that, so a deadline
    passing there can still be told as a silent server rather than a stalled handshake.
    """

    secured = False

    @property
    def transport(self) -> asyncio.BaseTransport | None:
        return self._transport

    @transport.setter
    def transport(self, value: asyncio.BaseTransport | None) -> None:
        self._transport = value
        self.secured = self.secured or value is not None


def pick_mechanism(offered: list[str], auth_type: str | None) -> str | None:
    """The mechanism to use among those the server offers (lower-case names)."""
    wanted = _AUTH_TYPE_MECHANISM.get(auth_type or "")
    if wanted in offered:
        return wanted
    return next((m for m in MECHANISMS if m in offered), None)


async def smtp_auth(
    opened: Opened,
    host: str,
    where: str,
    username: str,
    password: str,
    tls: ssl.SSLContext,
    *,
    auth_type: str | None,
    timeout_s: float,
    allow_plaintext: bool,
    local_hostname: str,
    tracker: Tracker,
) -> str:
    """Authenticate; the mechanism the server accepted. Raises CheckFailed (or the library's
    error, classified by the caller)."""
    client = _Client(
        hostname=host,
        sock=opened.sock,
        use_tls=opened.implicit_tls,
        start_tls=False,
        tls_context=tls,
        local_hostname=local_hostname,
        timeout=timeout_s,
    )
    tracker.phase = Phase.TLS if opened.implicit_tls else Phase.GREETING
    tracker.secured = lambda: client.secured
    try:
        try:
            await client.connect()
        except aiosmtplib.SMTPConnectResponseError as exc:
            raise CheckFailed(
                Code.SERVER_UNAVAILABLE,
                f"{where} turned the connection away: {exc.code} {server_text(exc.message)}",
            ) from None
        tracker.secured = None
        tracker.phase = Phase.GREETING
        await client.ehlo()
        if not opened.implicit_tls:
            if client.supports_extension("starttls"):
                tracker.phase = Phase.TLS
                await client.starttls(server_hostname=host)
                tracker.phase = Phase.GREETING
                await client.ehlo()
            elif allow_plaintext:
                tracker.in_clear = sent_in_clear("SMTP", where)
            else:
                raise plaintext_refused("SMTP", where)
        mechanism = await _authenticate(client, where, username, password, auth_type, tracker)
        with contextlib.suppress(asyncio.TimeoutError, aiosmtplib.SMTPException, OSError):
            async with asyncio.timeout(QUIT_WAIT_S):
                await client.quit()
        return mechanism
    finally:
        client.close()
        release(opened.sock)


async def _authenticate(
    client: aiosmtplib.SMTP,
    where: str,
    username: str,
    password: str,
    auth_type: str | None,
    tracker: Tracker,
) -> str:
    if not client.supports_extension("auth") or not client.server_auth_methods:
        raise CheckFailed(
            Code.SMTP_AUTH_NOT_OFFERED, f"{where} does not offer SMTP AUTH, even over TLS."
        )
    offered = [m.lower() for m in client.server_auth_methods]
    mechanism = pick_mechanism(offered, auth_type)
    if mechanism is None:
        said = ", ".join(m.upper() for m in offered) or "none"
        raise CheckFailed(
            Code.SMTP_AUTH_MECHANISM,
            f"{where} offers no password login MailReach can use (it offers {said}).",
        )
    tracker.phase = Phase.AUTH
    method = {
        "plain": client.auth_plain,
        "login": client.auth_login,
        "cram-md5": client.auth_crammd5,
    }
    try:
        await method[mechanism](username, password)
    except aiosmtplib.SMTPAuthenticationError as exc:
        raise smtp_auth_refused(exc.code, exc.message) from None
    return mechanism
