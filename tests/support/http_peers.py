"""Small HTTP servers on loopback for what the sandbox won't do: redirect, or receive and tell.

Each serves from a background thread with its own event loop, so the test's thread is free to
run the CLI as a subprocess:

    with http_peer(recording()) as elsewhere, http_peer(redirecting(elsewhere.url)) as api:
        run_cli(["run", ..., "--api-url", api.url + "/api"], ...)
        assert elsewhere.received == []
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Received:
    method: str
    path: str  # with its query string
    headers: dict[str, str]
    body: bytes


@dataclass
class Peer:
    url: str = ""  # http://127.0.0.1:PORT, no path
    received: list[Received] = field(default_factory=list)


@dataclass
class Behaviour:
    """What a peer answers; `peer` is filled in once it is serving."""

    answer: Callable[[Peer, web.Request, bytes], Awaitable[web.StreamResponse]]
    close: Callable[[], Awaitable[None]] | None = None


def recording(status: int = 200, body: Any = None) -> Behaviour:
    """Keep every request whole (headers and body) and answer `status` with a JSON `body`."""

    async def answer(peer: Peer, request: web.Request, raw: bytes) -> web.StreamResponse:
        peer.received.append(Received(request.method, request.path_qs, dict(request.headers), raw))
        return web.json_response({"success": True} if body is None else body, status=status)

    return Behaviour(answer)


def redirecting(target: str, status: int = 307, *, only: str = "", upstream: str = "") -> Behaviour:
    """Answer `status` with `Location: TARGET<path>` to requests whose path ends with `only`
    (every request by default); forward the others to `upstream` (an origin) untouched."""
    holder: dict[str, aiohttp.ClientSession] = {}

    async def answer(peer: Peer, request: web.Request, raw: bytes) -> web.StreamResponse:
        peer.received.append(Received(request.method, request.path_qs, dict(request.headers), raw))
        if request.path.endswith(only) or not upstream:
            return web.Response(status=status, headers={"Location": target + request.path_qs})
        session = holder.get("session") or holder.setdefault("session", aiohttp.ClientSession())
        headers = {h: v for h, v in request.headers.items() if h.lower() not in ("host",)}
        async with session.request(
            request.method, upstream + request.path_qs, data=raw or None, headers=headers
        ) as forwarded:
            return web.Response(
                status=forwarded.status,
                body=await forwarded.read(),
                content_type=forwarded.content_type,
            )

    async def close() -> None:
        if "session" in holder:
            await holder["session"].close()

    return Behaviour(answer, close)


def echoing(status: int = 400, *, as_json: bool = True, escaped: bool = False) -> Behaviour:
    """Answer a ping 200, and any other request `status` with an error text repeating the
    request: its key, and every password of its body (as a careless API might). `escaped`: the
    JSON error spells every character as a \\uXXXX escape, as some JSON encoders do."""

    async def answer(peer: Peer, request: web.Request, raw: bytes) -> web.StreamResponse:
        peer.received.append(Received(request.method, request.path_qs, dict(request.headers), raw))
        if request.path.endswith("/v1/ping"):
            return web.json_response({"success": True})
        sent = json.loads(raw) if raw else {}
        said = (
            f"Invalid login {sent.get('password')} / {sent.get('imap_server_password')} / "
            f"{sent.get('smtp_server_password')} with key {request.headers.get('X-Api-Key')}"
        )
        if escaped:
            spelt = "".join(f"\\u{ord(char):04x}" for char in said)
            return web.Response(
                text=f'{{"error": "{spelt}"}}', status=status, content_type="application/json"
            )
        if as_json:
            return web.json_response({"error": said, "request": sent}, status=status)
        return web.Response(text=f"<html><body>{said}</body></html>", status=status)

    return Behaviour(answer)


@contextmanager
def http_peer(behaviour: Behaviour) -> Iterator[Peer]:
    """Serve `behaviour` on a free loopback port for the `with` body."""
    peer = Peer()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, web.AppRunner] = {}

    async def handle(request: web.Request) -> web.StreamResponse:
        return await behaviour.answer(peer, request, await request.read())

    async def start() -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        holder["runner"] = runner
        peer.url = f"http://127.0.0.1:{runner.addresses[0][1]}"

    async def stop() -> None:
        await holder["runner"].cleanup()
        if behaviour.close is not None:
            await behaviour.close()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(stop())
        loop.close()

    thread = threading.Thread(target=serve, name="http-peer", daemon=True)
    thread.start()
    assert ready.wait(10), "the HTTP peer did not start"
    try:
        yield peer
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
