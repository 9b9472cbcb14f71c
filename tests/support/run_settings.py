"""RunSettings for a job run in the test's own process against a sandbox: no rate, two tries,
short backoffs, no progress bar. Settings a test cares about are passed on as they are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bulk_onboard.api.config import ApiConfig
from bulk_onboard.settings import RunSettings
from tests.support.sandbox_process import SANDBOX_KEY


def quick_run_settings(
    sheet: Path, out: Path, url: str, *, concurrency: int = 4, backoff_s: float = 0.01, **more: Any
) -> RunSettings:
    return RunSettings(
        input=str(sheet),
        out=out,
        api=ApiConfig(base_url=url, api_key=SANDBOX_KEY, concurrency=concurrency),
        rate=None,
        max_attempts=2,
        backoff_base_s=backoff_s,
        progress_lines=False,
        **more,
    )
