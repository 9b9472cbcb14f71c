"""The checks of one mailbox, each under its own overall deadline: DNS, IMAP LOGIN, SMTP AUTH.

A `Prober` is opened once per run (`async with`); it holds the resolver, the TLS context and
the per-domain DNS reports, so many mailboxes of one domain cost one set of lookups.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Awaitable, Callable
from types import TracebackType

import aioimaplib
import aiosmtplib

from bulk_onboard.preflight.connect import Tracker, open_connection
from bulk_onboard.preflight.domain import DomainReport, inspect_domain
from bulk_onboard.preflight.failures import (
    CheckFailed,
    Code,
    Phase,
    failure_of,
    timeout_failure,
)
from bulk_onboard.preflight.imap import imap_login
from bulk_onboard.preflight.mailbox import Endpoint, LoginResult, Mailbox, MailboxReport
from bulk_onboard.preflight.resolver import Dns
from bulk_onboard.preflight.settings import PreflightSettings
from bulk_onboard.preflight.smtp import smtp_auth

# What the protocol libraries raise besides OS and TLS errors; anything else is a bug of ours.
_LIBRARY_ERRORS = (OSError, EOFError, aioimaplib.AioImapException, aiosmtplib.SMTPException)


class Prober:
    """Checks mailboxes; use as `async with Prober(settings) as prober`."""

    def __init__(self, settings: PreflightSettings) -> None:
        self.settings = settings
        self.dns = Dns(settings.nameservers, settings.timeout_s)
        self._tls: ssl.SSLContext = settings.tls_context()
        self._domains: dict[tuple[str, str | None], asyncio.Task[DomainReport]] = {}

    async def __aenter__(self) -> Prober:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for task in self._domains.values():
            task.cancel()
        await asyncio.gather(*self._domains.values(), return_exceptions=True)

    async def domain(self, domain: str, dkim_selector: str | None = None) -> DomainReport:
        """The DNS report of `domain`, looked up once per run however many rows share it.

        DKIM is looked up at `dkim_selector`, else `--dkim-selector`, else the common selectors.
        """
        key = (domain, dkim_selector or self.settings.dkim_selector)
        task = self._domains.get(key)
        if task is None:
            task = asyncio.create_task(self._inspect(*key), name=f"dns {domain}")
            self._domains[key] = task
        # shield: one row giving up must not cancel the lookup other rows are waiting for.
        return await asyncio.shield(task)

    async def _inspect(self, domain: str, dkim_selector: str | None) -> DomainReport:
        try:
            async with asyncio.timeout(self.settings.timeout_s):
                return await inspect_domain(self.dns, domain, dkim_selector)
        except TimeoutError:
            return DomainReport(domain, failure=timeout_failure(Phase.RESOLVE, domain))

    async def imap(self, endpoint: Endpoint) -> LoginResult:
        """Log in over IMAP."""
        settings = self.settings

        async def attempt(tracker: Tracker) -> str | None:
            opened = await open_connection(
                self.dns, endpoint.host, endpoint.port, endpoint.security,
                settings.greeting_wait_s, tracker,
            )  # fmt: skip
            await imap_login(
                opened, endpoint.host, endpoint.where, endpoint.username, endpoint.password,
                self._tls, timeout_s=settings.timeout_s,
                allow_plaintext=settings.allow_plaintext, tracker=tracker,
            )  # fmt: skip
            return None

        return await self._bounded("IMAP", endpoint, attempt)

    async def smtp(self, endpoint: Endpoint, auth_type: str | None) -> LoginResult:
        """Authenticate over SMTP."""
        settings = self.settings

        async def attempt(tracker: Tracker) -> str | None:
            opened = await open_connection(
                self.dns, endpoint.host, endpoint.port, endpoint.security,
                settings.greeting_wait_s, tracker,
            )  # fmt: skip
            return await smtp_auth(
                opened, endpoint.host, endpoint.where, endpoint.username, endpoint.password,
                self._tls, auth_type=auth_type, timeout_s=settings.timeout_s,
                allow_plaintext=settings.allow_plaintext,
                local_hostname=settings.local_hostname, tracker=tracker,
            )  # fmt: skip

        return await self._bounded("SMTP", endpoint, attempt)

    async def _bounded(
        self,
        protocol: str,
        endpoint: Endpoint,
        attempt: Callable[[Tracker], Awaitable[str | None]],
    ) -> LoginResult:
        tracker = Tracker()
        started = time.monotonic()
        failure: CheckFailed | None = None
        mechanism = None  # SMTP: the AUTH mechanism the server accepted
        try:
            async with asyncio.timeout(self.settings.timeout_s):
                mechanism = await attempt(tracker)
        except (TimeoutError, aioimaplib.CommandTimeout):
            failure = timeout_failure(tracker.now(), endpoint.where)
        except CheckFailed as failed:
            failure = failed
        except _LIBRARY_ERRORS as exc:
            failure = failure_of(exc, tracker.now(), endpoint.where) or CheckFailed(
                Code.PROTOCOL_ERROR,
                f"{endpoint.where} did not answer like a {protocol} server ({type(exc).__name__}).",
            )
        elapsed_ms = round((time.monotonic() - started) * 1000)
        if failure is not None and failure.code is Code.DNS_NXDOMAIN:
            failure = CheckFailed(failure.code, f"The {protocol} server {failure.message}")
        return LoginResult(
            protocol, failure, elapsed_ms, in_clear=tracker.in_clear, mechanism=mechanism
        )

    async def check(self, mailbox: Mailbox, dkim_selector: str | None = None) -> MailboxReport:
        """The domain's DNS and both logins, all at once."""
        imap = smtp = None
        async with asyncio.TaskGroup() as group:
            domain = group.create_task(self.domain(mailbox.domain, dkim_selector))
            if mailbox.imap is not None:
                imap = group.create_task(self.imap(mailbox.imap))
            if mailbox.smtp is not None:
                smtp = group.create_task(self.smtp(mailbox.smtp, mailbox.smtp_auth_type))
        return MailboxReport(
            domain.result(),
            None if imap is None else imap.result(),
            None if smtp is None else smtp.result(),
        )
