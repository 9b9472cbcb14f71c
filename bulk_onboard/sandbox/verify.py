"""`sandbox --verify`: log in to each request's IMAP and SMTP servers for real and read the
domain's DNS, through the preflight's code, so the sandbox answers as MailReach is documented to:
a failed login is the 500 auth-error body, and the account's `domain` holds real DNS facts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from bulk_onboard.preflight.mailbox import mailbox_of
from bulk_onboard.preflight.probe import Prober
from bulk_onboard.preflight.settings import PreflightSettings
from bulk_onboard.rows.presets import preset_for_provider
from bulk_onboard.sandbox.app import VERIFIER
from bulk_onboard.sandbox.bodies import ImapAuthBody
from bulk_onboard.sandbox.profile import LoginOutcome


class Verifier:
    """Real logins for the sandbox's `imap_auth`; DNS reports are kept per domain while it runs."""

    def __init__(self, settings: PreflightSettings) -> None:
        self._prober = Prober(settings)

    async def close(self) -> None:
        await self._prober.__aexit__(None, None, None)

    async def log_in(self, body: ImapAuthBody) -> tuple[LoginOutcome, Mapping[str, Any]]:
        """The login outcome (as `profile.log_in` gives it) and the account's `domain` object."""
        fields: dict[str, object] = body.model_dump(exclude_none=True)
        preset = preset_for_provider(body.provider)
        if preset is not None:  # gmail/outlook bodies may leave the servers to MailReach
            fields.setdefault("imap_server", preset.imap_host)
            fields.setdefault("imap_server_port", preset.imap_port)
            fields.setdefault("smtp_server", preset.smtp_host)
            fields.setdefault("smtp_server_port", preset.smtp_port)
        report = await self._prober.check(mailbox_of(fields))
        outcome = LoginOutcome(report.imap_ok, report.smtp_ok, report.login_error())
        return outcome, report.domain.as_api_domain()


def install(app: web.Application, settings: PreflightSettings) -> None:
    """Make `app`'s imap_auth verify for real."""
    verifier = Verifier(settings)
    app[VERIFIER] = verifier

    async def close(_: web.Application) -> None:
        await verifier.close()

    app.on_cleanup.append(close)
