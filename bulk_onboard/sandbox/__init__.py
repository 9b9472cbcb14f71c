"""A local MailReach-compatible API for tests, benchmarks and trying the tool without a key.

Beside the pipeline, not in it: `run --sandbox` and the tests point the API client at it. It
answers in the shape of MailReach's published example; its fault knobs stand in for a bad day.
"""

from bulk_onboard.sandbox.app import create_app
from bulk_onboard.sandbox.config import SandboxConfig
from bulk_onboard.sandbox.middleware import SandboxState
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
