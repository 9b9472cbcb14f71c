"""The benchmark suite still runs (tiny sizes, no targets asserted), so it never rots."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.timeout(400)
def test_the_benchmark_suite_runs_at_a_tiny_size() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        capture_output=True,
        text=True,
        timeout=390,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| scenario | measure | target | result |" in done.stdout
    assert done.stdout.count("\n| ") >= 20  # every row of the performance table was measured
