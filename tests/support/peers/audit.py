"""Proof that nothing leaves loopback: an audit hook (PEP 578) sees every socket connect and
send, and every name lookup through the system resolver, of this process.

A hook can't be removed, so one is installed per process and switched on and off. With `block`
it also refuses the operation, so a leak fails loudly instead of reaching the internet.
"""

from __future__ import annotations

import ipaddress
import sys
import threading
from typing import Any

_WATCHED = frozenset({"socket.connect", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo"})
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def _local_host(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if host is None or not isinstance(host, str):
        return True  # getaddrinfo(None, port): the local wildcard
    if host.lower() in _LOCAL_NAMES or host == "":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False  # a name: the system resolver would be asked


def _target(event: str, args: tuple[Any, ...]) -> object | None:
    """The host an event reaches, or None when it reaches nothing remote (AF_UNIX, no address)."""
    if event == "socket.getaddrinfo":
        host: object = args[0]
        return host
    address: object = args[1] if len(args) > 1 else None
    if event == "socket.sendmsg":
        address = args[-1] if args else None
    if isinstance(address, tuple) and address:
        target: object = address[0]
        return target
    return None  # a path (AF_UNIX) or a connected socket's send


class NetworkAudit:
    """Records (event, host) of every non-loopback network use while `active`."""

    _installed: NetworkAudit | None = None

    def __init__(self, *, log_path: str | None = None, block: bool = False) -> None:
        self.active = log_path is not None
        self.block = block
        self.log_path = log_path
        self.leaks: list[tuple[str, str]] = []
        self.seen = 0  # events checked while active, to show the hook is alive
        self._lock = threading.Lock()

    @classmethod
    def shared(cls) -> NetworkAudit:
        """This process's audit (installed on first use)."""
        if cls._installed is None:
            cls._installed = cls()
            cls._installed.install()
        return cls._installed

    def install(self) -> None:
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.active or event not in _WATCHED:
            return
        host = _target(event, args)
        self.seen += 1
        if host is None or _local_host(host):
            return
        leak = (event, str(host))
        with self._lock:
            self.leaks.append(leak)
            if self.log_path is not None:
                with open(self.log_path, "a", encoding="utf-8") as handle:
                    handle.write(f"{leak[0]} {leak[1]}\n")
        if self.block:
            raise PermissionError(f"network use outside loopback refused in tests: {leak}")
