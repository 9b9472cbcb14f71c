"""User text made safe for a terminal or a log line: control characters escaped, length cut.

A header can hold ESC sequences (which repaint a terminal) or CR/LF (which forge log lines).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str, limit: int = 80) -> str:
    """`text` with control characters shown as escapes and cut to about `limit` characters."""
    shown = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def url_shown(url: str) -> str:
    """A URL as it may be printed or stored: any `user:password@` in it is left out."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.rpartition("@")[2]  # unparseable: keep at most what follows a credential
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def argv_shown(argv: Sequence[str]) -> list[str]:
    """A command line as it may be stored: each URL in it (`--api-url=URL` too) via url_shown."""
    shown = []
    for arg in argv:
        name, equals, value = arg.partition("=")
        if equals and arg.startswith("-"):
            shown.append(f"{name}={url_shown(value)}")
        else:
            shown.append(url_shown(arg))
    return shown
