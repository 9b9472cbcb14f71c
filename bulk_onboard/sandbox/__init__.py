"""A local MailReach-compatible API for tests, benchmarks and trying the tool without a key."""

from bulk_onboard.sandbox.app import create_app
from bulk_onboard.sandbox.config import SandboxConfig
from bulk_onboard.sandbox.pipeline import SandboxState
from bulk_onboard.sandbox.server import Sandbox, SandboxStartError, running_sandbox, serve

__all__ = [
    "Sandbox",
    "SandboxConfig",
    "SandboxStartError",
    "SandboxState",
    "create_app",
    "running_sandbox",
    "serve",
]
