"""IMAP LOGIN with aioimaplib over a connection opened by `connect`: TLS first or STARTTLS.

aioimaplib 2.0 can't STARTTLS and only dials host names itself; the small subclass below hands
it our socket, and STARTTLS is its command plus asyncio's `start_tls` on its transport.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable
from typing import Any, TypeVar

import aioimaplib

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
    imap_login_refused,
    server_text,
)

T = TypeVar("T")
LOGOUT_WAIT_S = 1.0


class _Client(aioimaplib.IMAP4):  # type: ignore[misc]
    """aioimaplib's client on an already connected socket."""

    def __init__(
        self, opened: Opened, host: str, tls: ssl.SSLContext, timeout_s: float, lost: Any
    ) -> None:
        self._opened = opened
        super().__init__(
            host=host,
            port=0,
            timeout=timeout_s,
            conn_lost_cb=lost,
            ssl_context=tls if opened.implicit_tls else None,
        )

    def create_client(
        self,
        host: str,
        port: int,
        loop: Any,
        conn_lost_cb: Any = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        running = asyncio.get_running_loop()
        self.protocol = aioimaplib.IMAP4ClientProtocol(running, conn_lost_cb)
        connect = running.create_connection(
            lambda: self.protocol,
            sock=self._opened.sock,
            ssl=ssl_context,
            server_hostname=host if ssl_context is not None else None,
        )
        self._client_task = running.create_task(connect)

    def shut(self) -> None:
        """Drop the connection at once, and every task the library started for it."""
        transport = getattr(self.protocol, "transport", None)
        if transport is not None:
            transport.abort()
        if not self._client_task.done():
            self._client_task.cancel()
        for task in (*self.protocol.tasks, *self.tasks):
            task.cancel()
        release(self._opened.sock)


async def _unless_lost(job: Awaitable[T], lost: asyncio.Future[None], where: str) -> T:
    """`job`'s result, or SERVER_CLOSED as soon as the server hangs up."""
    task = asyncio.ensure_future(job)
    either: set[asyncio.Future[Any]] = {task, lost}
    try:
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not task.done():
            task.cancel()
    if task.done() and not task.cancelled():
        return task.result()
    raise CheckFailed(Code.SERVER_CLOSED, f"{where} closed the connection.")


async def imap_login(
    opened: Opened,
    host: str,
    where: str,
    username: str,
    password: str,
    tls: ssl.SSLContext,
    *,
    timeout_s: float,
    allow_plaintext: bool,
    tracker: Tracker,
) -> None:
    """Log in, or raise CheckFailed. The password is sent only over TLS (unless allowed)."""
    loop = asyncio.get_running_loop()
    lost: asyncio.Future[None] = loop.create_future()

    def on_lost(_: Exception | None) -> None:
        if not lost.done():
            lost.set_result(None)

    tracker.phase = Phase.TLS if opened.implicit_tls else Phase.GREETING
    client = _Client(opened, host, tls, timeout_s, on_lost)
    # asyncio hands the protocol its transport once the TLS handshake is done.
    tracker.secured = lambda: client.protocol.transport is not None
    try:
        await _unless_lost(client.wait_hello_from_server(), lost, where)
        tracker.secured = None
        protocol = client.protocol
        if not opened.implicit_tls:
            await _secure(client, host, where, tls, allow_plaintext, lost, tracker)
        tracker.phase = Phase.AUTH
        response = await _unless_lost(
            client.login(aioimaplib.quoted(username), password), lost, where
        )
        if response.result != "OK":
            raise imap_login_refused(b" ".join(response.lines))
        with contextlib.suppress(asyncio.TimeoutError, aioimaplib.AioImapException, OSError):
            async with asyncio.timeout(LOGOUT_WAIT_S):
                await protocol.logout()
    finally:
        client.shut()


async def _secure(
    client: _Client,
    host: str,
    where: str,
    tls: ssl.SSLContext,
    allow_plaintext: bool,
    lost: asyncio.Future[None],
    tracker: Tracker,
) -> None:
    protocol = client.protocol
    if "STARTTLS" not in protocol.capabilities:
        if allow_plaintext and "LOGINDISABLED" not in protocol.capabilities:
            tracker.in_clear = sent_in_clear("IMAP", where)
            return
        raise plaintext_refused("IMAP", where)
    tracker.phase = Phase.TLS
    loop = asyncio.get_running_loop()
    command = aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=loop)
    response = await _unless_lost(protocol.execute(command), lost, where)
    if response.result != "OK":
        raise CheckFailed(
            Code.TLS_FAILED, f"{where} refused STARTTLS: {server_text(b' '.join(response.lines))}"
        )
    protocol.transport = await loop.start_tls(
        protocol.transport, protocol, tls, server_hostname=host
    )
    tracker.phase = Phase.GREETING
    await _unless_lost(protocol.capability(), lost, where)
