"""The ping before the first row (`GET /v1/ping`): what its answer means for the run.

The ping costs one request and sends no password, so everything that would fail every row the
same way is found here and stops the run with one sentence naming the URL (never with the
credentials a URL may carry) and what to change: a refused key (77, with the other header form
MailReach documents), a web page instead of an API answer (69: a firewall or the User-Agent),
a wrong path (404: --api-url is not the API's base), TLS that can't be set up, a server that
can't be reached (69). Any other answer is left to the rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from bulk_onboard.api.config import ApiConfig
from bulk_onboard.api.paths import PING_PATH
from bulk_onboard.api.retry_rules import Action
from bulk_onboard.api.submit import Submission
from bulk_onboard.base.printable import url_shown
from bulk_onboard.errors import ExitCode

MAILREACH_BASE = "https://api.mailreach.co/api"


@dataclass(frozen=True, slots=True)
class PingStop:
    """The run must stop before any row: its exit code and the sentence saying why."""

    exit_code: ExitCode
    message: str


def key_refused_message(status: int | None, config: ApiConfig) -> str:
    """A refused key, with the other header form MailReach documents as the thing to try."""
    if config.bearer:
        other = "without --bearer (the header `X-Api-Key: <key>`)"
    else:
        other = "--bearer (the header `X-Api-Key: Bearer <key>` of MailReach's usage guide)"
    said = f" (HTTP {status})" if status else ""
    return (
        f"MailReach refused the API key{said} at {url_shown(config.base_url)}. Check the key "
        f"(MAILREACH_API_KEY or --api-key-file); if it is right, try {other}."
    )


def client_refused_message(config: ApiConfig) -> str:
    """A web page's 403: the client was turned away before the key was looked at."""
    return (
        f"{url_shown(config.base_url)} refused this client itself (HTTP 403 with a web page, "
        f"not an API answer): a firewall or the User-Agent {config.user_agent!r} was turned "
        "away, not the API key. Set another one with --user-agent, or try from another network."
    )


def ping_stop(ping: Submission, config: ApiConfig) -> PingStop | None:
    """Whether the ping's outcome stops the run, and why; None to carry on with the rows."""
    verdict = ping.verdict
    url = url_shown(config.base_url)
    if verdict.action is Action.STOP_KEY:
        return PingStop(ExitCode.KEY_REFUSED, key_refused_message(ping.http_status, config))
    if verdict.action is Action.STOP_CLIENT:
        return PingStop(ExitCode.UNAVAILABLE, client_refused_message(config))
    if ping.http_status == 404:
        return PingStop(
            ExitCode.UNAVAILABLE,
            f"{url}{PING_PATH} does not exist (HTTP 404): --api-url must be the API's base, the "
            f"part before /v1 (MailReach's is {MAILREACH_BASE}).",
        )
    if verdict.code == "redirected":
        # Every row would be redirected too, and a redirect is never followed.
        return PingStop(ExitCode.UNAVAILABLE, verdict.message)
    if verdict.code == "tls_error":
        return PingStop(ExitCode.UNAVAILABLE, f"{verdict.message} The URL tried: {url}")
    if ping.attempts and ping.connect_failures == ping.attempts:
        return PingStop(
            ExitCode.UNAVAILABLE,
            f"The API at {url} could not be reached on any of {ping.attempts} tries: "
            f"{verdict.message}",
        )
    return None
