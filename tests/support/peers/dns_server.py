"""A real DNS server on loopback (dnslib), answering from a small in-memory zone.

Written instead of dnslib's bundled zone resolver, which answers NXDOMAIN when a name exists but
lacks the asked type: a real server answers NOERROR with no records, and `no_mx` depends on it.
Names under `slow_suffix` are never answered in time, for `dns_timeout`.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dnslib import MX, QTYPE, RCODE, RR, SRV, TXT, A, DNSRecord
from dnslib.server import BaseResolver, DNSLogger, DNSServer

from tests.support.peers.ports import LOOPBACK, free_port

TTL = 60
SLOW_ANSWER_S = 3.0


def _txt(value: str) -> TXT:
    # A TXT string holds at most 255 bytes: longer values (DKIM keys) go in several strings.
    data = value.encode()
    return TXT([data[i : i + 255] for i in range(0, len(data), 255)])


class Zone:
    """Records by (name, type). A name with any record exists; others are NXDOMAIN."""

    def __init__(self, slow_suffix: str = "slow.test") -> None:
        self.records: dict[tuple[str, str], list[Any]] = defaultdict(list)
        self.slow_suffix = slow_suffix

    def a(self, name: str, address: str = LOOPBACK) -> None:
        self.records[(name, "A")].append(A(address))

    def mx(self, name: str, *hosts: str) -> None:
        for preference, host in enumerate(hosts, start=1):
            self.records[(name, "MX")].append(MX(host, preference * 10))

    def txt(self, name: str, *values: str) -> None:
        for value in values:
            self.records[(name, "TXT")].append(_txt(value))

    def srv(self, name: str, host: str, port: int) -> None:
        self.records[(name, "SRV")].append(SRV(0, 1, port, host))

    def exists(self, name: str) -> bool:
        return any(key[0] == name for key in self.records)

    def names(self) -> Iterable[str]:
        return {name for name, _ in self.records}


class ZoneResolver(BaseResolver):  # type: ignore[misc]
    def __init__(self, zone: Zone) -> None:
        self.zone = zone

    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        qtype = QTYPE[request.q.qtype]
        if name == self.zone.slow_suffix or name.endswith("." + self.zone.slow_suffix):
            time.sleep(SLOW_ANSWER_S)  # each query has its own thread: the others go on
        if not self.zone.exists(name):
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        for rdata in self.zone.records.get((name, qtype), []):
            reply.add_answer(RR(name, QTYPE.reverse[qtype], rdata=rdata, ttl=TTL))
        return reply


@dataclass
class DnsPeer:
    port: int
    servers: list[DNSServer]
    zone: Zone  # may be changed while serving (records are read per query)

    @property
    def address(self) -> str:
        """The `--dns HOST:PORT` value that points a client at this server."""
        return f"{LOOPBACK}:{self.port}"

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


class _Quiet(DNSLogger):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(log="-request,-reply,-truncated,-error,-recv,-send,-data")


def start_dns(zone: Zone) -> DnsPeer:
    """Serve `zone` over UDP and TCP on one free loopback port."""
    resolver = ZoneResolver(zone)
    for _ in range(5):
        port = free_port()
        servers = [
            DNSServer(resolver, port=port, address=LOOPBACK, tcp=tcp, logger=_Quiet())
            for tcp in (False, True)
        ]
        try:
            for server in servers:
                server.start_thread()
        except OSError:
            for server in servers:
                if server.isAlive():
                    server.stop()
            continue
        return DnsPeer(port, servers, zone)
    raise RuntimeError("no free port for the DNS server")
