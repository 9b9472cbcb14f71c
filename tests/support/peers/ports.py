"""Ports that misbehave on purpose: one nobody listens on, one that never completes a connect
(blackholed), one that accepts and then says nothing (silent), and one that completes the TLS
handshake and then says nothing (silent after TLS)."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A port nothing listens on right now (the kernel's pick, released at once)."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def refused_port() -> int:
    """A port where a connect is refused at once (RST): nothing listens there."""
    return free_port()


@dataclass
class Blackhole:
    """A listener whose accept queue is full: the kernel drops new SYNs, so connects hang."""

    port: int
    _listener: socket.socket
    _fillers: list[socket.socket] = field(default_factory=list)

    def close(self) -> None:
        for sock in (*self._fillers, self._listener):
            sock.close()


def blackhole() -> Blackhole:
    listener = socket.socket()
    listener.bind((LOOPBACK, 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    hole = Blackhole(port, listener)
    # Fill the accept queue (backlog 0 holds one, Linux lets one more through), then check that
    # a further connect really hangs.
    for _ in range(8):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect((LOOPBACK, port))
        hole._fillers.append(filler)
    probe = socket.socket()
    probe.settimeout(0.3)
    try:
        probe.connect((LOOPBACK, port))
    except TimeoutError:
        return hole
    finally:
        probe.close()
    hole.close()
    raise RuntimeError("could not fill the accept queue of a blackhole port")


@dataclass
class Silent:
    """A listener that accepts every connection and never sends a byte."""

    port: int
    _listener: socket.socket
    _thread: threading.Thread
    _held: list[socket.socket] = field(default_factory=list)

    def close(self) -> None:
        self._listener.close()
        for sock in self._held:
            sock.close()


def silent() -> Silent:
    listener = socket.socket()
    listener.bind((LOOPBACK, 0))
    listener.listen(128)
    held: list[socket.socket] = []

    def accept_forever() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    return Silent(listener.getsockname()[1], listener, thread, held)


def silent_after_tls(cert: Path, key: Path) -> Silent:
    """A listener that completes the TLS handshake (with `cert`) and then never sends a byte."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.socket()
    listener.bind((LOOPBACK, 0))
    listener.listen(128)
    held: list[socket.socket] = []

    def handshake(conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            held.append(context.wrap_socket(conn, server_side=True))
        except OSError:
            conn.close()

    def accept_forever() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=handshake, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    return Silent(listener.getsockname()[1], listener, thread, held)
