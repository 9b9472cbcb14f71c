"""Python's cyclic garbage collector run between chunks of rows rather than as objects pile up,
and less often in a command's process.

A job over a large sheet allocates several containers per cell and keeps almost none of them, so
the automatic collector runs thousands of times over young objects, and now and then over every
object the imports made (pandas and pydantic alone hold hundreds of thousands), to find a few
hundred objects in cycles: a fifth of `validate`'s CPU on 100,000 rows. Reference counting frees
everything else as before; what sits in a cycle is freed every few chunks, so memory stays
bounded.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# A command's process collects its young objects every 50,000 allocations net of frees, not 700:
# a 3,000-row `run` at zero latency spent a sixth of its CPU in the collector (2.13 -> 1.78 s).
# What waits in cycles between two collections is at most that many objects: a few megabytes.
COMMAND_THRESHOLDS = (50_000, 20, 20)
# Chunks between two collections. Each collection walks every object made since the last one
# that is still alive (a chunk's rows, at least): once a chunk cost 5 % of validate's CPU.
EVERY_CHUNKS = 10


@contextmanager
def collected_between_chunks(every: int = EVERY_CHUNKS) -> Iterator[Callable[[], None]]:
    """The automatic collector off inside the block; call what it yields after each chunk."""
    done = 0

    def chunk_done() -> None:
        nonlocal done
        done += 1
        if done % every == 0:
            gc.collect(1)  # the young generations: what the last chunks left in cycles

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield chunk_done
    finally:
        if was_enabled:
            gc.enable()


def for_a_command() -> None:
    """Collect less often for the rest of this process: called once by the command line."""
    gc.set_threshold(*COMMAND_THRESHOLDS)
