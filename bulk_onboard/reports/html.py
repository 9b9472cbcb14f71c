"""report.html: one self-contained page per run folder, for a laptop or a phone, offline.

Built from the run folder's files alone (report_data reads them), so any finished run folder can
be rendered again. Jinja2 is used for its autoescaping: every cell of every report is untrusted
text, and escaping by default is the only way not to forget one.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import jinja2
from markupsafe import Markup

from bulk_onboard.base.atomic import write_text
from bulk_onboard.base.outcomes import Unprocessed
from bulk_onboard.base.version import __version__
from bulk_onboard.reports.charts import histogram_svg
from bulk_onboard.reports.health import (
    CHART_SCORE,
    DNS_CHECKS,
    SCORE_BIN_WIDTH,
    SCORE_BINS,
    SCORE_LABELS,
    bin_labels,
)
from bulk_onboard.reports.html_data import ReportData, collect, started
from bulk_onboard.reports.html_template import TEMPLATE
from bulk_onboard.reports.workbook_styles import AMBER, GREEN, RED, band_fill
from bulk_onboard.runs.read import RunFolder
from bulk_onboard.runs.summary_table import DRY_RUN_NOTE, actions_text

REPORT_FILE: Final = "report.html"
# A headline count's colour when it is not zero.
TONES: Final = {"succeeded": "good", "valid": "good", "failed": "bad", "unprocessed": "warn"}
# The chart's bar per band fill of the workbook: the same bands, strong enough for thin bars.
BAR_COLOURS: Final = {RED: "#cf222e", AMBER: "#d4a72c", GREEN: "#2da44e"}
# A DNS check's mark in the domain grid, by Check.state.
MARKS: Final = {"ok": "✓", "bad": "✗", "mixed": "✗", "unknown": "–"}
UNPROCESSED_MEANINGS: Final = {
    Unprocessed.ABORTED: "the run stopped: the API key was refused or the API unreachable",
    Unprocessed.INTERRUPTED: "Ctrl-C or SIGTERM came before the row was sent",
    Unprocessed.UNKNOWN_OUTCOME: "sent, but no answer came before the run stopped",
}
# Why a folder has no score to chart, by command.
NO_SCORES: Final = {
    "validate": "No scores: validate checks the sheet and sends nothing to MailReach.",
    "check": "No scores: check tests the mailboxes itself and asks MailReach nothing.",
}
NO_SCORES_ELSE: Final = "No scores: no account was onboarded in this run."


def write_html_report(folder: RunFolder) -> Path:
    """Write `report.html` into the run folder (atomically, mode 0600) and return its path."""
    target = folder.path / REPORT_FILE
    write_text(target, render_html(folder))
    return target


def render_html(folder: RunFolder) -> str:
    """The whole page for a run folder, as text."""
    data = collect(folder)
    chart = ""
    if data.score_bins:
        axis = f"{SCORE_LABELS[CHART_SCORE].lower()} score"
        chart = histogram_svg(data.score_bins, bin_labels(), _bin_colours(), axis_label=axis)
    environment = jinja2.Environment(
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    environment.filters["n"] = _thousands
    input_name = Path(str(data.summary.get("input") or "input")).name
    return environment.from_string(TEMPLATE).render(
        data=data,
        title=f"{input_name} · bulk-onboard {data.command} report",
        input_name=input_name,
        facts=_facts(data),
        tones=TONES,
        chart=Markup(chart),  # noqa: S704 - charts.py escapes every text it puts in the SVG
        chart_label=_chart_label(data.score_bins),
        no_scores=NO_SCORES.get(data.command, NO_SCORES_ELSE),
        check_labels=[label for _, label in DNS_CHECKS],
        marks=MARKS,
        reasons={str(reason): text for reason, text in UNPROCESSED_MEANINGS.items()},
        files=[folder.file(name).name for name in folder.reports()],
        version=__version__,
        dry_run=DRY_RUN_NOTE if data.summary.get("dry_run") else "",
    )


def _facts(data: ReportData) -> list[tuple[str, str]]:
    """The header's facts about the run, those summary.json has."""
    summary: Mapping[str, Any] = data.summary
    facts = [("run", str(summary.get("run_id", ""))), ("command", data.command)]
    if summary.get("started_at"):
        facts.append(("started", started(summary)))
    duration_s = summary.get("duration_s")
    if isinstance(duration_s, (int, float)):
        facts.append(("duration", _duration(duration_s)))
    if summary.get("rows_per_s") is not None:
        facts.append(("speed", f"{summary['rows_per_s']} rows/s"))
    if done := actions_text(summary):
        facts.append(("accounts", done))
    for key, label in (("api_requests", "API requests"), ("retries", "retries")):
        if isinstance(summary.get(key), int):
            facts.append((label, _thousands(summary[key])))
    code = summary.get("exit_code")
    facts.append(("exit code", f"{code} ({data.exit_meaning})" if data.exit_meaning else str(code)))
    return facts


def _bin_colours() -> list[str]:
    """Each bar in its score band's colour: red, amber, green, as the workbook fills its cells."""
    return [BAR_COLOURS[band_fill(b * SCORE_BIN_WIDTH)] for b in range(SCORE_BINS)]


def _chart_label(bins: tuple[int, ...]) -> str:
    parts = [f"{label}: {count}" for label, count in zip(bin_labels(), bins, strict=False)]
    return "Accounts per overall score band. " + ", ".join(parts)


def _duration(seconds: float) -> str:
    return f"{seconds:,.1f} s" if seconds >= 1 else f"{seconds * 1000:.0f} ms"


def _thousands(value: int) -> str:
    return f"{value:,}"
