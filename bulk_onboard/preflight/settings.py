"""The preflight's settings, built once by the CLI (or a test) and passed in."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ssl

DEFAULT_CHECK_TIMEOUT_S = 20.0  # overall deadline of one check (DNS, IMAP login or SMTP AUTH)
DEFAULT_CONCURRENCY = 32
# On a port that says nothing about its encryption (not 993/143, 465/587/25/2525), how long to
# wait for a plaintext greeting before taking the port for TLS-from-the-first-byte.
DEFAULT_GREETING_WAIT_S = 1.0
DEFAULT_DNS_PORT = 53
COMMON_DKIM_SELECTORS = ("google", "selector1", "selector2", "default", "k1", "s1", "dkim", "mail")


@dataclass(frozen=True, slots=True)
class Nameserver:
    """A DNS server to ask instead of the system's (`--dns HOST:PORT`)."""

    host: str
    port: int = DEFAULT_DNS_PORT

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_nameserver(text: str) -> Nameserver:
    """`127.0.0.1:5353`, `[::1]:53`, `1.1.1.1` (port 53); the host must be an IP address."""
    text = text.strip()
    host, port = text, DEFAULT_DNS_PORT
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            port = _port(rest.removeprefix(":"), text)
    elif text.count(":") == 1:
        host, _, rest = text.partition(":")
        port = _port(rest, text)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"{text!r} is not IP:PORT (a DNS server is named by address)") from None
    return Nameserver(host, port)


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValueError(f"{whole!r} has no valid port")
    return int(text)


@dataclass(frozen=True, slots=True)
class PreflightSettings:
    """How the preflight checks a mailbox. Certificates are always verified."""

    timeout_s: float = DEFAULT_CHECK_TIMEOUT_S
    concurrency: int = DEFAULT_CONCURRENCY
    nameservers: tuple[Nameserver, ...] = ()  # empty: the system's resolver configuration
    ca_file: Path | None = None  # trust only this bundle (default: the system's CAs)
    allow_plaintext: bool = False  # LOGIN/AUTH without TLS when a server offers no STARTTLS
    dkim_selector: str | None = None  # else the common selectors are tried
    greeting_wait_s: float = DEFAULT_GREETING_WAIT_S
    local_hostname: str = "localhost"  # the EHLO name (asking the system for it may use DNS)

    def tls_context(self) -> ssl.SSLContext:
        """A client context that verifies the chain and the host name, always."""
        import ssl  # only a check needs it; the command line's --help does not

        if self.ca_file is None:
            return ssl.create_default_context()
        return ssl.create_default_context(cafile=str(self.ca_file))

    def describe(self) -> dict[str, Any]:
        """The settings as the run's manifest records them."""
        return {
            "timeout_s": self.timeout_s,
            "concurrency": self.concurrency,
            "nameservers": [str(n) for n in self.nameservers],
            "ca_file": None if self.ca_file is None else str(self.ca_file),
            "allow_plaintext": self.allow_plaintext,
            "dkim_selector": self.dkim_selector,
        }
