"""DNS lookups through dnspython's async resolver, with failures as `CheckFailed`.

With `--dns HOST:PORT` only that server is asked (the system's configuration is not even read);
otherwise the system's resolver configuration is used, as any mail client would.
"""

from __future__ import annotations

import ipaddress

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver

from bulk_onboard.preflight.failures import CheckFailed, Code
from bulk_onboard.preflight.settings import Nameserver

QUERY_TIMEOUT_S = 3.0  # one try at one server; the check's deadline bounds the whole lookup


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class Dns:
    """The few lookups the preflight needs. NXDOMAIN and timeouts raise `CheckFailed`."""

    __slots__ = ("_resolver",)

    def __init__(self, nameservers: tuple[Nameserver, ...], lifetime_s: float) -> None:
        resolver = dns.asyncresolver.Resolver(configure=not nameservers)
        if nameservers:
            resolver.nameservers = [
                dns.nameserver.Do53Nameserver(n.host, n.port) for n in nameservers
            ]
        # Every mailbox of a domain, and every row on one server, asks the same names: cache
        # the answers for their TTL (dnspython has no cache unless given one).
        resolver.cache = dns.resolver.Cache()
        resolver.timeout = min(QUERY_TIMEOUT_S, lifetime_s)
        resolver.lifetime = lifetime_s
        self._resolver = resolver

    async def _answer(self, name: str, rdtype: str) -> dns.resolver.Answer | None:
        """The records of `name`; None when the name exists without any of that type."""
        try:
            return await self._resolver.resolve(name, rdtype, search=False)
        except dns.resolver.NXDOMAIN:
            raise CheckFailed(Code.DNS_NXDOMAIN, f"{name} does not exist in DNS.") from None
        except dns.resolver.NoAnswer:
            return None
        except dns.exception.Timeout:
            raise CheckFailed(Code.DNS_TIMEOUT, f"DNS did not answer in time for {name}.") from None
        except (dns.resolver.NoNameservers, dns.exception.DNSException) as exc:
            raise CheckFailed(Code.DNS_ERROR, f"DNS failed for {name}: {exc}") from None

    async def mx(self, domain: str) -> list[str]:
        """MX hosts of `domain`, most preferred first ([] when it has none)."""
        answer = await self._answer(domain, "MX")
        if answer is None:
            return []
        records = sorted(answer, key=lambda r: (r.preference, str(r.exchange)))
        return [str(r.exchange).rstrip(".").lower() for r in records if str(r.exchange) != "."]

    async def txt(self, name: str) -> list[str]:
        """TXT values of `name`, each record's strings joined; [] when there is none."""
        try:
            answer = await self._answer(name, "TXT")
        except CheckFailed as failed:
            if failed.code is Code.DNS_NXDOMAIN:
                return []
            raise
        if answer is None:
            return []
        return [b"".join(r.strings).decode("utf-8", errors="replace") for r in answer]

    async def srv(self, name: str) -> list[tuple[str, int]]:
        """(host, port) of SRV records by priority; [] when none or the service is off (".")."""
        try:
            answer = await self._answer(name, "SRV")
        except CheckFailed as failed:
            if failed.code is Code.DNS_NXDOMAIN:
                return []
            raise
        if answer is None:
            return []
        records = sorted(answer, key=lambda r: (r.priority, -r.weight))
        found = [(str(r.target).rstrip(".").lower(), int(r.port)) for r in records]
        return [(host, port) for host, port in found if host]

    async def addresses(self, host: str) -> list[str]:
        """IPv4 addresses of `host`, else IPv6 ones (an IP address is its own answer)."""
        if is_ip(host):
            return [host]
        for rdtype in ("A", "AAAA"):
            answer = await self._answer(host, rdtype)
            if answer is not None:
                return [r.address for r in answer]
        raise CheckFailed(Code.DNS_NO_ADDRESS, f"{host} has no IP address in DNS.")
