"""The fixed cost of every command (issue 13): start-up, small sheets, rendering, end to end.

Each figure is the wall time of a child process on the client's core, the median of the repeats.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import orjson

from bench.compare import bodies_of
from bench.harness import ChildRun, run_child, run_tool, sandbox
from bench.sheet import write_sheet

SAMPLE = Path(__file__).parent.parent / "samples" / "mailboxes.csv"  # 12 rows
TOOL = [sys.executable, "-m", "bulk_onboard"]


def _median_wall(runs: list[ChildRun]) -> float:
    for run in runs:
        if run.code not in (0, 1):
            raise SystemExit(f"a command failed ({run.code}): {run.stderr[-2000:]}")
    return statistics.median(run.wall_s for run in runs)


@dataclass
class StartUp:
    help_s: float
    validate_s: float  # 12 rows, every report
    run_s: float  # 12 rows against an in-process sandbox, --rate 0, every report
    report_s: float  # `report` of that 12-row run folder: rendering's fixed cost


def start_up(repeats: int) -> StartUp:
    """`--help`, a 12-row `validate`, a 12-row `run --sandbox --rate 0` and its `report`."""
    work = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    try:
        out = str(work / "out")
        help_s = _median_wall([run_child([*TOOL, "--help"]) for _ in range(repeats)])
        validate = [*TOOL, "validate", str(SAMPLE), "--out", out, "--no-progress"]
        validate_s = _median_wall([run_child(validate) for _ in range(repeats)])
        run = [*TOOL, "run", str(SAMPLE), "--sandbox", "--rate", "0", "--out", out]
        run_s = _median_wall([run_child([*run, "--no-progress"]) for _ in range(repeats)])
        folder = str((work / "out" / "latest").resolve())
        report_s = _median_wall([run_child([*TOOL, "report", folder]) for _ in range(repeats)])
        return StartUp(help_s, validate_s, run_s, report_s)
    finally:
        shutil.rmtree(work, ignore_errors=True)


@dataclass
class EndToEnd:
    rows: int
    bare_s: list[float]  # the bare baseline's process, start to exit
    run_s: list[float]  # `bulk-onboard run` start to exit, every report included

    @property
    def ratio(self) -> float:
        """The bare loop's wall time over the tool's: 1.0 would be no overhead at all."""
        return statistics.median(self.bare_s) / statistics.median(self.run_s)


def end_to_end(rows: int = 3000, repeats: int = 3, concurrency: int = 32) -> EndToEnd:
    """`run` of `rows` at --rate 0 against a zero-latency sandbox, against bench.bare posting the
    same bodies with as many tasks, each a whole process on the same core and event loop."""
    work = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    try:
        sheet = write_sheet(work / "e2e.csv", rows)
        bodies = work / "bodies.json"
        bodies.write_bytes(orjson.dumps(bodies_of(sheet)))
        result = EndToEnd(rows, [], [])
        for _ in range(repeats):
            # Each side against a sandbox of its own that holds no account yet: in a shared one
            # `run` would first list, then update, the accounts the other side had created.
            with sandbox() as box:
                bare = run_child([sys.executable, "-m", "bench.bare", box.url, str(bodies),
                                  str(concurrency)])  # fmt: skip
            if bare.code != 0:
                raise SystemExit(f"bench.bare failed: {bare.stderr[-2000:]}")
            result.bare_s.append(bare.wall_s)
            args = ("--rate", "0", "--concurrency", str(concurrency))
            with sandbox() as box:
                tool, _ = run_tool(box.url, sheet, work / "out", *args)
            result.run_s.append(tool.wall_s)
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)
