"""A TCP fault proxy for the faults HTTP can't express: resets mid-stream, drips, black holes.

The sandbox's knobs (429, 503, latency, dropped connections) all happen inside HTTP. What a real
network does below it — a response cut off after a few bytes, an answer that trickles in one
byte a second, a peer that accepts and then says nothing, an answer lost on its way back — needs
something between the client and the server. This is it:

    with sandbox_process() as box, fault_proxy(box.url, Drip(bytes_per_s=1)) as proxy:
        run_cli(["run", ...], out, url=proxy.url)

`fault_proxy` listens on a free loopback port and serves from a background thread with its own
event loop, so the test's thread stays free to run the CLI as a subprocess and to poll the
sandbox. Each accepted connection is given one fault when it is accepted: `schedule(n)` for the
n-th connection (0 first) if a schedule was given, else `proxy.fault`, which a test may change at
any time (it applies to connections accepted afterwards). The faults:

- `Passthrough()`: bytes flow both ways untouched.
- `Reset(after_bytes=N)`: the request reaches the server; the first N bytes of its answer reach
  the client, then both sockets are aborted with an RST (SO_LINGER 0). The server did the work
  and the client can't know it: the ambiguous case a re-send must be safe for.
- `Drip(bytes_per_s=1.0)`: the answer reaches the client one byte at a time at that pace. Every
  read gets a byte in time, so only an overall deadline on the request ends it.
- `Blackhole()`: accept, read and discard whatever comes, never connect upstream, never answer,
  never close: a firewall dropping packets after the handshake.
- `HalfOpen()`: the request reaches the server, which answers; the answer is swallowed and the
  client's socket stays open as though the peer had vanished (a NAT entry dropped). The server did
  the work; the client waits for its deadline.

`proxy.connections` counts connections accepted so far and `proxy.requests` the HTTP requests
clients have begun to send through it (request lines seen), whatever their fate: a test can wait
for "N requests are on the wire" instead of sleeping. `proxy.url` is the upstream URL with the
proxy's address in it. Leaving the `with` block closes the listener and every connection, and
stops the thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

CHUNK = 64 * 1024
REQUEST_LINE_END = b" HTTP/1.1\r\n"
THREAD_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class Passthrough:
    """No fault."""


@dataclass(frozen=True, slots=True)
class Reset:
    """Once the server answers, pass `after_bytes` bytes of it, then reset both sockets."""

    after_bytes: int = 0


@dataclass(frozen=True, slots=True)
class Drip:
    """Deliver the response `bytes_per_s` bytes a second, one byte at a time."""

    bytes_per_s: float = 1.0


@dataclass(frozen=True, slots=True)
class Blackhole:
    """Accept and never answer; nothing reaches the server."""


@dataclass(frozen=True, slots=True)
class HalfOpen:
    """The request reaches the server; its answer never reaches the client."""


Fault = Passthrough | Reset | Drip | Blackhole | HalfOpen
Schedule = Callable[[int], Fault]


class _Source(Protocol):
    async def read(self, n: int) -> bytes: ...


class FaultProxy:
    """A loopback TCP proxy to `upstream_host:upstream_port`; see the module docstring."""

    def __init__(
        self,
        upstream_host: str,
        upstream_port: int,
        fault: Fault = Passthrough(),
        schedule: Schedule | None = None,
    ) -> None:
        self.fault: Fault = fault
        self.connections = 0
        self.requests = 0
        self.port = 0
        self.url = ""  # set by fault_proxy(): the upstream URL with the proxy's address
        self._upstream = (upstream_host, upstream_port)
        self._schedule = schedule
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        """Listen on a free loopback port (`self.port`) and serve from the background thread."""
        self._thread.start()
        listening = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self.port = listening.result(THREAD_TIMEOUT_S)

    def stop(self) -> None:
        """Close the listener and every connection, then stop the thread."""
        closing = asyncio.run_coroutine_threadsafe(self._close(), self._loop)
        closing.result(THREAD_TIMEOUT_S)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(THREAD_TIMEOUT_S)
        self._loop.close()

    async def _listen(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for handler in list(self._handlers):
            handler.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    def _saw(self, requests: int) -> None:
        self.requests += requests

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        number = self.connections
        self.connections += 1
        fault = self._schedule(number) if self._schedule is not None else self.fault
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        upstream: asyncio.StreamWriter | None = None
        try:
            if isinstance(fault, Blackhole):
                await _discard(_Counting(reader, self._saw))
                return
            up_reader, upstream = await asyncio.open_connection(*self._upstream)
            await _serve(fault, _Counting(reader, self._saw), writer, up_reader, upstream)
        except OSError:
            pass  # either side went away: nothing more to relay
        except asyncio.CancelledError:
            # Only stop() cancels a handler; asyncio's stream callback would log it as an error.
            pass
        finally:
            self._handlers.discard(task)
            for side in (writer, upstream):
                if side is not None:
                    side.close()


class _Counting:
    """A client stream reader that reports each HTTP request line it passes on."""

    __slots__ = ("_on_requests", "_reader", "_tail")

    def __init__(self, reader: asyncio.StreamReader, on_requests: Callable[[int], None]) -> None:
        self._reader = reader
        self._on_requests = on_requests
        self._tail = b""

    async def read(self, n: int) -> bytes:
        data = await self._reader.read(n)
        seen = self._tail + data
        self._on_requests(seen.count(REQUEST_LINE_END))
        self._tail = seen[-(len(REQUEST_LINE_END) - 1) :]
        return data


async def _serve(
    fault: Fault,
    client_reader: _Counting,
    client: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader,
    upstream: asyncio.StreamWriter,
) -> None:
    """Relay one connection under `fault` until either side is done."""
    request = asyncio.create_task(_relay(client_reader, upstream))
    try:
        if isinstance(fault, Reset):
            await _cut(up_reader, client, fault.after_bytes)
            _reset(client, upstream)
        elif isinstance(fault, Drip):
            await _drip(up_reader, client, fault.bytes_per_s)
        elif isinstance(fault, HalfOpen):
            await _discard(up_reader)
            await request  # stay open and silent until the client gives up
        else:
            await _relay(up_reader, client)
    finally:
        request.cancel()
        with contextlib.suppress(asyncio.CancelledError, OSError):
            await request


async def _relay(source: _Source, sink: asyncio.StreamWriter) -> None:
    """Copy bytes until EOF, then pass the EOF on."""
    while data := await source.read(CHUNK):
        sink.write(data)
        await sink.drain()
    if sink.can_write_eof():
        sink.write_eof()


async def _cut(source: _Source, sink: asyncio.StreamWriter, limit: int) -> None:
    """Once `source` has sent something, forward its first `limit` bytes and return."""
    sent = 0
    while data := await source.read(CHUNK):
        part = data[: limit - sent]
        if part:
            sink.write(part)
            await sink.drain()
            sent += len(part)
        if sent >= limit:
            return


async def _drip(source: asyncio.StreamReader, sink: asyncio.StreamWriter, rate: float) -> None:
    while data := await source.read(CHUNK):
        for i in range(len(data)):
            sink.write(data[i : i + 1])
            await sink.drain()
            await asyncio.sleep(1.0 / rate)


async def _discard(source: _Source) -> None:
    while await source.read(CHUNK):
        pass


def _reset(*writers: asyncio.StreamWriter) -> None:
    """Abort the connections with an RST rather than a FIN."""
    for writer in writers:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()


@contextlib.contextmanager
def fault_proxy(
    upstream_url: str, fault: Fault = Passthrough(), schedule: Schedule | None = None
) -> Iterator[FaultProxy]:
    """A running proxy in front of `upstream_url` (http://HOST:PORT/path); `.url` to use it."""
    parts = urlsplit(upstream_url)
    if parts.hostname is None or parts.port is None:
        raise ValueError(f"{upstream_url} names no host and port")
    proxy = FaultProxy(parts.hostname, parts.port, fault, schedule)
    proxy.start()
    try:
        proxy.url = urlunsplit(parts._replace(netloc=f"127.0.0.1:{proxy.port}"))
        yield proxy
    finally:
        proxy.stop()
