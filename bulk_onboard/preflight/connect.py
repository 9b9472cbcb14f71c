"""Opening the TCP connection of a check: resolve through our DNS, connect, tell TLS from plain.

Resolving here (not in the IMAP/SMTP library) keeps every lookup on the configured resolver and
makes the connect its own step, so a refused or silent port is told apart from a slow server.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from bulk_onboard.preflight.failures import CheckFailed, Code, Phase, os_failure
from bulk_onboard.preflight.resolver import Dns


class Security(StrEnum):
    TLS = "tls"  # TLS from the first byte (993, 465)
    STARTTLS = "starttls"  # a plaintext greeting, then STARTTLS (143, 587, 25, 2525)
    AUTO = "auto"  # unknown port: decided by whether the server speaks first


IMAP_SECURITY_BY_PORT = {993: Security.TLS, 143: Security.STARTTLS}
SMTP_SECURITY_BY_PORT = {
    465: Security.TLS,
    587: Security.STARTTLS,
    25: Security.STARTTLS,
    2525: Security.STARTTLS,
}


def imap_security(port: int) -> Security:
    return IMAP_SECURITY_BY_PORT.get(port, Security.AUTO)


def smtp_security(port: int, starttls: bool | None) -> Security:
    """The row's own `smtp_server_starttls` wins; else the port's custom."""
    if starttls is not None:
        return Security.STARTTLS if starttls else Security.TLS
    return SMTP_SECURITY_BY_PORT.get(port, Security.AUTO)


class Tracker:
    """Where a check is, so a deadline passing can be told as the right failure.

    With TLS from the first byte the protocol library does the handshake and then waits for
    the greeting in one call; `secured` (set for that call) tells whether the handshake is done,
    so a server that completes TLS and then never speaks is reported as silent, not as TLS.
    """

    __slots__ = ("in_clear", "phase", "secured")

    def __init__(self) -> None:
        self.phase = Phase.RESOLVE
        self.secured: Callable[[], bool] | None = None
        # Set when the login went ahead without TLS (--allow-plaintext): a sentence for notes.
        self.in_clear: str | None = None

    def now(self) -> Phase:
        """The phase the check is in: TLS only while the handshake itself is still going."""
        if self.phase is Phase.TLS and self.secured is not None and self.secured():
            return Phase.GREETING
        return self.phase


@dataclass(slots=True)
class Opened:
    sock: socket.socket  # connected, non-blocking; handed to the protocol library
    implicit_tls: bool


async def open_connection(
    dns: Dns,
    host: str,
    port: int,
    security: Security,
    greeting_wait_s: float,
    tracker: Tracker,
) -> Opened:
    """Connect to `host:port` (each address in turn) and settle whether TLS comes first."""
    where = f"{host}:{port}"
    tracker.phase = Phase.RESOLVE
    addresses = await dns.addresses(host)
    tracker.phase = Phase.CONNECT
    loop = asyncio.get_running_loop()
    error: OSError | None = None
    for address in addresses:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, (address, port))
        except OSError as exc:
            sock.close()
            error = exc
            continue
        except BaseException:
            sock.close()
            raise
        try:
            implicit = security is Security.TLS
            if security is Security.AUTO:
                tracker.phase = Phase.GREETING
                implicit = not await _speaks_first(sock, greeting_wait_s)
        except BaseException:
            sock.close()
            raise
        return Opened(sock, implicit)
    assert error is not None
    raise os_failure(error, Phase.CONNECT, where)


async def _speaks_first(sock: socket.socket, wait_s: float) -> bool:
    """Whether the server sends something (a plaintext greeting) within `wait_s`.

    Nothing is read: the bytes stay for the protocol library. A TLS-first server waits for our
    hello and stays silent.
    """
    loop = asyncio.get_running_loop()
    readable: asyncio.Future[None] = loop.create_future()

    def ready() -> None:
        if not readable.done():
            readable.set_result(None)

    loop.add_reader(sock.fileno(), ready)
    try:
        async with asyncio.timeout(wait_s):
            await readable
    except TimeoutError:
        return False
    finally:
        loop.remove_reader(sock.fileno())
    return True


def _ignore() -> None:
    return None


def release(sock: socket.socket) -> None:
    """Close `sock`, unless a live asyncio transport still owns it (that one closes it itself).

    Once a protocol library wrapped the socket, closing it under the transport would free the
    descriptor while the loop still watches it; asyncio refuses `add_reader` in exactly that case.
    """
    if sock.fileno() == -1:
        return
    loop = asyncio.get_running_loop()
    try:
        loop.add_reader(sock.fileno(), _ignore)
    except RuntimeError:
        return
    loop.remove_reader(sock.fileno())
    sock.close()


def sent_in_clear(protocol: str, where: str) -> str:
    """The note of a login that passed only because --allow-plaintext let it go unencrypted."""
    return (
        f"{where} offers no STARTTLS: the {protocol} login passed only with --allow-plaintext, "
        "sending the password unencrypted."
    )


def plaintext_refused(protocol: str, where: str) -> CheckFailed:
    return CheckFailed(
        Code.TLS_NOT_OFFERED,
        f"{where} offers no STARTTLS, so the {protocol} password would cross the network "
        "unencrypted; it was not sent.",
    )
