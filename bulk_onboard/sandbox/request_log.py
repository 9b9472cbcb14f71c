"""The request log behind `GET /api/_sandbox/requests`: what arrived when, and how it was answered.

Benchmarks read it to check a client's rate from the server's side, so it must stay cheap over
100k requests: one small tuple per request in a bounded deque, turned into JSON only on demand.
Bodies are never kept, so no password can reach it; the email is the only field taken from one.
"""

from __future__ import annotations

from collections import deque

# (arrival time.time(), method, path, status or None if the connection was dropped, email or None)
Entry = tuple[float, str, str, int | None, str | None]


class RequestLog:
    """The last `size` /v1 requests, oldest first."""

    __slots__ = ("_entries",)

    def __init__(self, size: int) -> None:
        self._entries: deque[Entry] = deque(maxlen=size)

    def __len__(self) -> int:
        return len(self._entries)

    def record(
        self, arrived: float, method: str, path: str, status: int | None, email: str | None
    ) -> None:
        """Add one request, forgetting the oldest past the size."""
        self._entries.append((arrived, method, path, status, email))

    def clear(self) -> None:
        """Forget everything logged so far."""
        self._entries.clear()

    def as_json(self) -> list[dict[str, object]]:
        """The entries as JSON objects."""
        return [
            {"t": t, "method": method, "path": path, "status": status, "email": email}
            for t, method, path, status, email in self._entries
        ]
