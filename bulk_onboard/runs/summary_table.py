"""The short table printed at the end of a run, read back from the run folder's summary.json."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

_ROWS = ("succeeded", "valid", "failed", "unprocessed", "skipped")
_TOP_CODES = 4  # error codes named beside `failed`; the rest are counted as "+N more"
# What every human output of a dry run says (summary table, results.xlsx, report.html).
DRY_RUN_NOTE = (
    "Dry run (--dry-run): MailReach only tested the logins (test: true); "
    "no account was created or updated."
)
ACTION_ORDER = ("created", "updated", "linked", "tested")  # linked: an email workspace row


def actions_text(summary: Mapping[str, object]) -> str:
    """`4 created, 2 updated` from summary.json's `actions`; empty when it has none."""
    actions = summary.get("actions")
    if not isinstance(actions, dict):
        return ""
    return ", ".join(f"{actions[a]} {a}" for a in ACTION_ORDER if actions.get(a))


def format_summary(summary: dict[str, object], run_dir: Path) -> str:
    """A few aligned lines: counts per report, top error codes, speed, and the run folder."""
    lines = [f"Run folder: {run_dir}"]
    if summary.get("dry_run"):
        lines.append(f"  {DRY_RUN_NOTE}")
    for key in _ROWS:
        # `skipped` is sync's: a run's or check's summary holds it as 0, which says nothing.
        if key not in summary or (key == "skipped" and not summary[key]):
            continue
        line = f"  {key:<12}{summary[key]:>8}"
        codes = summary.get("error_codes")
        if key == "failed" and isinstance(codes, dict) and codes:
            ranked = sorted(codes.items(), key=lambda kv: (-int(kv[1]), str(kv[0])))
            named = [f"{code} {n}" for code, n in ranked[:_TOP_CODES]]
            if len(ranked) > _TOP_CODES:
                named.append(f"+{len(ranked) - _TOP_CODES} more")
            line += "   (" + ", ".join(named) + ")"
        if key == "succeeded" and (done := actions_text(summary)):
            line += f"   ({done})"
        lines.append(line)
    if summary.get("rows_per_s") is not None:
        lines.append(f"  {'rows/s':<12}{summary['rows_per_s']:>8}")
    if summary.get("stopped"):
        lines.append(f"  stopped: {summary['stopped']}")
    lines.append(f"  exit code {summary.get('exit_code')}")
    return "\n".join(lines)


def print_summary(run_dir: Path, *, as_json: bool = False, stream: TextIO | None = None) -> None:
    """Print the run's summary: a table for people, or one JSON line for schedulers."""
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    if as_json:
        line = {"event": "summary", "run_dir": str(run_dir), **summary}
        print(json.dumps(line), file=stream or sys.stdout)
    else:
        print(format_summary(summary, run_dir), file=stream or sys.stdout)
