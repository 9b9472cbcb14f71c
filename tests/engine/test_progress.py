"""Progress: counts per outcome, and a log line every few seconds when there is no bar."""

from __future__ import annotations

import logging

import pytest

from bulk_onboard.base.outcomes import Status
from bulk_onboard.engine.progress import LOG_EVERY_S, Progress


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_counts_each_outcome() -> None:
    progress = Progress(4, bar=False)
    for status in (Status.SUCCEEDED, Status.FAILED, Status.UNPROCESSED, Status.SKIPPED):
        progress.advance(status)
    assert (progress.ok, progress.failed, progress.done, progress.answered) == (2, 1, 4, 3)


def test_without_a_bar_logs_a_line_every_few_seconds(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    progress = Progress(10, bar=False, clock=clock)
    with caplog.at_level(logging.INFO, logger="bulk_onboard"):
        progress.advance(Status.SUCCEEDED)
        assert not caplog.records
        clock.now += LOG_EVERY_S
        progress.advance(Status.FAILED)
    assert len(caplog.records) == 1
    assert "2/10 rows, 1 ok, 1 failed" in caplog.records[0].getMessage()


def test_no_progress_logs_no_line_however_long_it_runs(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    progress = Progress(10, bar=False, lines=False, clock=clock)
    with caplog.at_level(logging.INFO, logger="bulk_onboard"):
        for _ in range(10):
            clock.now += LOG_EVERY_S
            progress.advance(Status.SUCCEEDED)
    assert caplog.records == []
    assert progress.done == 10


def test_a_total_not_known_counts_chunks_and_logs_rows_so_far(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """validate's progress: whole chunks at a time, valid rows counted as ok, no total."""
    clock = FakeClock()
    progress = Progress(None, bar=False, clock=clock)
    with caplog.at_level(logging.INFO, logger="bulk_onboard"):
        progress.advance(Status.VALID, 1990)
        progress.advance(Status.FAILED, 10)
        clock.now += LOG_EVERY_S
        progress.advance(Status.VALID, 2000)
    assert (progress.ok, progress.failed, progress.done) == (3990, 10, 4000)
    assert [r.getMessage() for r in caplog.records] == [
        f"progress: 4000 rows, 3990 ok, 10 failed, {4000 / LOG_EVERY_S:.1f} rows/s"
    ]
