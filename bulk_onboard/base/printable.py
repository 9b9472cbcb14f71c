"""User text made safe for a terminal or a log line: control characters escaped, length cut.

A header can hold ESC sequences (which repaint a terminal) or CR/LF (which forge log lines).
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str, limit: int = 80) -> str:
    """`text` with control characters shown as escapes and cut to about `limit` characters."""
    shown = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"
