"""An HTTP proxy in front of the sandbox that keeps what each request carried.

The sandbox's log never keeps bodies (they hold passwords). A test that must see what was sent —
that an update carries the account's `id` — puts this proxy between the CLI and the sandbox:

    with sandbox_process() as box, recording_proxy(box.url) as proxy:
        run_cli(["sync", ..., "--api-url", proxy.url], ...)
        proxy.imap_auth_bodies()

Password fields are dropped before a body is kept. The proxy serves from a background thread
with its own event loop, so the test's thread is free to run the CLI as a subprocess.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

_PASSWORD_FIELDS = ("password", "imap_server_password", "smtp_server_password")
FIREWALL_PAGE = "<html><body><h1>403 Forbidden</h1><p>Request blocked.</p></body></html>"
_FORWARDED_HEADERS = ("X-Api-Key", "Authorization", "User-Agent", "Content-Type", "Accept")


@dataclass(frozen=True)
class Sent:
    method: str
    path: str  # as the client asked, query string included: /api/v1/accounts?page=0
    body: dict[str, Any] | None  # the JSON object sent, passwords removed
    user_agent: str = ""


@dataclass
class RecordingProxy:
    url: str = ""  # http://127.0.0.1:PORT/api, like the upstream's
    sent: list[Sent] = field(default_factory=list)

    def imap_auth_bodies(self) -> list[dict[str, Any]]:
        """The bodies of every POST /v1/imap_auth, in arrival order."""
        return [s.body or {} for s in self.sent if s.path.endswith("/v1/imap_auth")]

    def paths(self) -> list[str]:
        return [s.path for s in self.sent]


def _kept(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw) if raw else None
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    return {k: v for k, v in value.items() if k not in _PASSWORD_FIELDS}


@contextmanager
def recording_proxy(
    upstream: str,
    *,
    refuse_agent: str = "",
    lose_first_connect: bool = False,
    refuse_key_on: str = "",
    unavailable_once_on: str = "",
) -> Iterator[RecordingProxy]:
    """Serve a recording proxy to `upstream` (a base URL ending in /api) on a free port.

    With `refuse_agent`, it also plays a web application firewall: a request whose User-Agent
    contains that text gets a 403 HTML page and never reaches the upstream. With
    `lose_first_connect`, the first `imap_auth` of each email reaches the upstream, which does
    the work, and then the connection is dropped before the answer: the ambiguous case. With
    `refuse_key_on`, a request whose path contains that text is answered 401 (the key revoked
    mid-run) and never reaches the upstream. With `unavailable_once_on`, the first request whose
    path contains that text is answered 503 (a retryable fault) without reaching the upstream.
    """
    unavailable = [unavailable_once_on] if unavailable_once_on else []
    connected: set[str] = set()
    parts = urlsplit(upstream)
    origin = f"{parts.scheme}://{parts.netloc}"
    proxy = RecordingProxy()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def forward(request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        agent = request.headers.get("User-Agent", "")
        entry = Sent(request.method, request.path_qs, _kept(raw), agent)
        proxy.sent.append(entry)
        if refuse_agent and refuse_agent in agent:
            return web.Response(status=403, text=FIREWALL_PAGE, content_type="text/html")
        if refuse_key_on and refuse_key_on in request.path:
            return web.json_response({"error": "Unauthorized"}, status=401)
        if unavailable and unavailable[0] in request.path:
            unavailable.clear()
            return web.json_response({"error": "Service unavailable"}, status=503)
        headers = {h: request.headers[h] for h in _FORWARDED_HEADERS if h in request.headers}
        session: aiohttp.ClientSession = holder["session"]
        async with session.request(
            request.method, origin + request.path_qs, data=raw or None, headers=headers
        ) as answer:
            body = await answer.read()
            email = str((entry.body or {}).get("email", "")).lower()
            connect = lose_first_connect and request.path.endswith("/v1/imap_auth")
            if connect and email and email not in connected:
                connected.add(email)
                assert request.transport is not None
                request.transport.close()
                return web.Response(status=499)  # never written: the transport is gone
            out = {
                h: answer.headers[h] for h in ("Content-Type", "Retry-After") if h in answer.headers
            }
            return web.Response(status=answer.status, body=body, headers=out)

    async def start() -> None:
        holder["session"] = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", forward)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        holder["runner"] = runner
        port = runner.addresses[0][1]
        proxy.url = f"http://127.0.0.1:{port}{parts.path}"

    async def stop() -> None:
        await holder["runner"].cleanup()
        await holder["session"].close()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(stop())
        loop.close()

    thread = threading.Thread(target=serve, name="recording-proxy", daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield proxy
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
