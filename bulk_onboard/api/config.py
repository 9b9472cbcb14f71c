"""What the client needs to reach the API: a plain value, kept apart from the client so that
the settings and the command line can name it without importing aiohttp."""

from __future__ import annotations

from dataclasses import dataclass

from bulk_onboard.base.version import __version__

USER_AGENT = f"bulk-onboard/{__version__}"


@dataclass(frozen=True, slots=True)
class ApiConfig:
    base_url: str  # the part before /v1/...
    api_key: str = ""  # never logged; kept out of repr below
    bearer: bool = False  # send "X-Api-Key: Bearer <key>" (the usage guide's form)
    # MailReach is known to answer 403 to some clients' default User-Agent: ours names the tool.
    user_agent: str = USER_AGENT
    timeout_s: float = 60.0  # overall deadline for one request, connect to last byte
    concurrency: int = 32

    def __repr__(self) -> str:
        return (
            f"ApiConfig(base_url={self.base_url!r}, bearer={self.bearer}, "
            f"user_agent={self.user_agent!r})"
        )
