"""`bulk-onboard sync` of N unchanged rows: wall time and API calls of the nightly no-op.

A first sync (unthrottled) creates every account; then the sandbox's request log is cleared and
the same sheet is synced again, once with the default options (`--rate 10`, as a scheduler would
run it) and once with `--rate 0`. Each timed sync is a fresh process, so the figure includes
start-up, reading the sheet, listing every account and writing the reports.
Target: zero imap_auth calls and under 15 s for 10,000 rows.

Usage: python -m bench.sync_unchanged [--rows 10000] [--page-size 100]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import Sandbox, run_child, sandbox, tool_env
from bench.sheet import write_sheet

TARGET_S = 15.0


@dataclass
class Figure:
    label: str
    wall_s: float
    cpu_s: float
    imap_auth: int
    api_calls: int
    skipped: int
    exit_code: int


def sync_once(box: Sandbox, sheet: Path, out: Path, label: str, *args: str) -> Figure:
    """One `bulk-onboard sync` child; its wall time and what reached the sandbox."""
    box.clear()
    cmd = [sys.executable, "-m", "bulk_onboard", "sync", str(sheet), "--out", str(out),
           "--no-progress", "--log-format", "json", *args]  # fmt: skip
    child = run_child(cmd, tool_env(box.url))
    if child.code not in (0, 1):
        raise SystemExit(f"sync failed ({child.code}): {child.stderr[-2000:]}")
    summary: dict[str, Any] = json.loads((out / "latest" / "summary.json").read_text())
    requests = box.requests()
    imap_auth = sum(1 for r in requests if r["path"].endswith("/v1/imap_auth"))
    return Figure(
        label, child.wall_s, child.cpu_s, imap_auth, len(requests), summary["skipped"], child.code
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=100, help="the sandbox's page size")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, sandbox("--page-size", str(args.page_size)) as box:
        sheet = write_sheet(Path(tmp) / "sheet.csv", args.rows)
        out = Path(tmp) / "out"
        first = sync_once(box, sheet, out, "first sync (creates all, --rate 0)", "--rate", "0")
        figures = [
            first,
            sync_once(box, sheet, out, "unchanged, default options (--rate 10)"),
            sync_once(box, sheet, out, "unchanged, --rate 0", "--rate", "0"),
        ]
    print(f"sync of {args.rows} rows against the sandbox (page size {args.page_size})")
    print(f"{'':44} {'wall s':>7} {'cpu s':>6} {'imap_auth':>9} {'API calls':>9} {'skipped':>8}")
    for f in figures:
        print(
            f"{f.label:44} {f.wall_s:7.2f} {f.cpu_s:6.2f} {f.imap_auth:9d} "
            f"{f.api_calls:9d} {f.skipped:8d}"
        )
    unchanged = figures[1:]
    met = all(f.imap_auth == 0 and f.wall_s < TARGET_S and f.exit_code == 0 for f in unchanged)
    print(f"target (0 imap_auth, < {TARGET_S:g} s): {'met' if met else 'MISSED'}")


if __name__ == "__main__":
    main()
