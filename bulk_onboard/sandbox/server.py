"""Running the sandbox: inside the caller's event loop (tests, `run --sandbox`) or as a process."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from bulk_onboard.errors import ApiUnavailableError
from bulk_onboard.sandbox.app import create_app
from bulk_onboard.sandbox.config import DEFAULT_PORT, SandboxConfig
from bulk_onboard.sandbox.middleware import STATE, SandboxState

# Long enough for in-flight answers to be written, short enough that stopping feels immediate.
SHUTDOWN_GRACE_S = 1.0


class SandboxStartError(ApiUnavailableError):
    """The sandbox could not listen (port taken, address not local...): sysexits' EX_UNAVAILABLE,
    the service asked for can't be provided."""


@dataclass(frozen=True, slots=True)
class Sandbox:
    """A running sandbox: point a client at `base_url`; tests may inspect `app` and `state`."""

    base_url: str  # "http://127.0.0.1:PORT/api", the part before /v1/...
    app: web.Application
    state: SandboxState


@contextlib.asynccontextmanager
async def running_sandbox(
    config: SandboxConfig, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[Sandbox]:
    """Serve the sandbox in the current event loop (port 0: a free one) for the `with` body."""
    app = create_app(config)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_GRACE_S)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            raise SandboxStartError(
                f"The sandbox can't listen on {host}:{port}: {exc.strerror or exc}."
            ) from None
        bound_host, bound_port = runner.addresses[0][:2]
        url_host = f"[{bound_host}]" if ":" in bound_host else bound_host
        yield Sandbox(f"http://{url_host}:{bound_port}/api", app, app[STATE])
    finally:
        await runner.cleanup()


def serve(config: SandboxConfig, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
    """Serve until SIGINT or SIGTERM, then return (no traceback). Blocking; main thread only.

    Prints one line to stdout once listening, with the real port when `port` is 0:
    `MailReach sandbox listening on http://127.0.0.1:PORT/api (key: sandbox)`.
    """
    asyncio.run(_serve(config, host, port))


async def _serve(config: SandboxConfig, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with running_sandbox(config, host, port) as sandbox:
        print(
            f"MailReach sandbox listening on {sandbox.base_url} (key: {config.api_key})",
            file=sys.stdout,
            flush=True,
        )
        await stop.wait()
