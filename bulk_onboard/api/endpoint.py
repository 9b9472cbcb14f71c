"""Which API base URL the key may be sent to: HTTPS anywhere, plain HTTP only on loopback.

Over plain HTTP anyone on the path reads the key and every password; on loopback there is no
path (the sandbox, a local proxy). `insecure_http` (`--insecure-http`) is the way out for a
trusted network.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from bulk_onboard.base.printable import printable, url_shown
from bulk_onboard.errors import UsageError

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


def check_api_url(url: str, *, insecure_http: bool) -> None:
    """Raise UsageError for a URL the key must not be sent to (or that is no HTTP URL)."""
    shown = printable(url_shown(url), 200)
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise UsageError(
            f"--api-url {shown} is not an http(s) URL: give the API base, e.g. "
            "https://api.mailreach.co/api."
        )
    if parts.scheme == "http" and not insecure_http and not is_loopback(host):
        raise UsageError(
            f"--api-url {shown} is plain HTTP to another machine: the API key and every "
            "password would cross the network readable. Use https://, or pass --insecure-http "
            "on a network you trust."
        )


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address) is this machine's loopback."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
