"""A local MailReach-compatible API for tests, benchmarks and trying the tool without a key.

Beside the pipeline, not in it: `run --sandbox` and the tests point the API client at it. It
answers in the shape of MailReach's published example; its fault knobs stand in for a bad day.
Names load on first use (PEP 562): the command line reads `sandbox.config`'s defaults to build
its help without loading aiohttp's server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bulk_onboard.sandbox.app import create_app
    from bulk_onboard.sandbox.config import SandboxConfig
    from bulk_onboard.sandbox.middleware import SandboxState
    from bulk_onboard.sandbox.server import (
        Sandbox,
        SandboxStartError,
        running_sandbox,
        serve,
    )

# Public name -> the module that defines it.
_LAZY = {
    "create_app": "bulk_onboard.sandbox.app",
    "SandboxConfig": "bulk_onboard.sandbox.config",
    "SandboxState": "bulk_onboard.sandbox.middleware",
    **dict.fromkeys(
        ("Sandbox", "SandboxStartError", "running_sandbox", "serve"), "bulk_onboard.sandbox.server"
    ),
}
__all__ = [
    "Sandbox",
    "SandboxConfig",
    "SandboxStartError",
    "SandboxState",
    "create_app",
    "running_sandbox",
    "serve",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'bulk_onboard.sandbox' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
