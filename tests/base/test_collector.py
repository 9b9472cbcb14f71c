"""The cyclic collector paused over a job's chunks: restored after, and cycles still freed."""

from __future__ import annotations

import gc
import weakref

import pytest

from bulk_onboard.base.collector import COMMAND_THRESHOLDS, collected_between_chunks, for_a_command


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it


def _fail_inside() -> None:
    with collected_between_chunks():
        assert not gc.isenabled()
        raise RuntimeError


def test_the_collector_is_off_in_the_block_and_back_on_after_even_on_error() -> None:
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        _fail_inside()
    assert gc.isenabled()


def test_a_collector_left_off_by_the_caller_stays_off() -> None:
    gc.disable()
    try:
        with collected_between_chunks():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_cycles_left_by_chunks_are_freed_every_few_chunks() -> None:
    with collected_between_chunks(every=3) as chunk_done:
        ref = weakref.ref(_Node())
        chunk_done()
        chunk_done()
        assert ref() is not None  # refcounting alone can't free it
        chunk_done()
        assert ref() is None


def test_a_command_collects_less_often() -> None:
    before = gc.get_threshold()
    try:
        for_a_command()
        assert gc.get_threshold() == COMMAND_THRESHOLDS
        assert COMMAND_THRESHOLDS[0] > before[0]
    finally:
        gc.set_threshold(*before)
