"""What the client needs to reach the API: a plain value, kept apart from the client so that
the settings and the command line can name it without importing aiohttp."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ApiConfig:
    base_url: str  # the part before /v1/...
    api_key: str = ""  # never logged; kept out of repr below
    bearer: bool = False  # send "X-Api-Key: Bearer <key>" (the usage guide's form)
    timeout_s: float = 60.0  # overall deadline for one request, connect to last byte
    concurrency: int = 32

    def __repr__(self) -> str:
        return f"ApiConfig(base_url={self.base_url!r}, bearer={self.bearer})"
