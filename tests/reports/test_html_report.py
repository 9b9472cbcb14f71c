"""report.html: counted in one pass, capped for large runs, escaped, and opened in real Chromium.

The run folders come from the real CLI against the sandbox; the browser is Debian's headless
Chromium (skipped, with why, where it is not installed).
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import stat
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from bulk_onboard.reports.charts import histogram_svg
from bulk_onboard.reports.csv_reports import FAILED_COLUMNS, SUCCEEDED_COLUMNS
from bulk_onboard.reports.health import HealthTally, bin_labels
from bulk_onboard.reports.html import BAR_COLOURS, _bin_colours, render_html, write_html_report
from bulk_onboard.reports.html_data import DOMAINS_SHOWN, collect, failure_groups, shown
from bulk_onboard.reports.workbook_styles import AMBER, GREEN, RED
from bulk_onboard.runs.read import RunFolder
from tests.support.browser import PHONE, Visit, browser_missing, visit
from tests.support.cli import run_cli
from tests.support.peer_required import peer_missing
from tests.support.sandbox_process import SandboxProcess, sandbox_process

FAST = ["--rate", "0", "--backoff", "0.01", "--no-progress"]
# Where report.html shows them: a failed row's email, and the input's name (title and heading).
HOSTILE_EMAIL = "<script>alert(1)</script>@x.test"
HOSTILE_NAME = "<img src=x onerror=alert(1)>"  # a legal file name: no slash in it
ODD_EMAIL = "o'brien&co@acme-mail.test"
SHEET = f"""\
Email,First Name,Last Name,IMAP Host,IMAP Port,SMTP Host,SMTP Port,Password
{HOSTILE_EMAIL},Evil,Row,imap.x.test,993,smtp.x.test,587,pw-hostile-0001
ok.one@acme-mail.test,Olive,Smith,imap.acme-mail.test,993,smtp.acme-mail.test,587,pw-b2
henry@brightleads.nodns.test,Henry,D,mail.brightleads.nodns.test,993,mail.brightleads.nodns.test,465,pw-c3
erin@acme-mail.test,Erin,W,imap.acme-mail.test,993,smtp.acme-mail.test,587,wrong-password
grace@outlook.com,Grace,H,,,,,pw-grace-0005
"""
LARGE_ROWS = 100_000
LARGE_LIMIT_BYTES = 5_000_000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# Run folders made by the real CLI against a sandbox process.


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    with sandbox_process() as box:
        yield box


@pytest.fixture(scope="module")
def run_folder(sandbox: SandboxProcess, tmp_path_factory: pytest.TempPathFactory) -> RunFolder:
    """`bulk-onboard run` of a sheet with a hostile mailbox, and its report.html."""
    work = tmp_path_factory.mktemp("run")
    sheet = work / f"{HOSTILE_NAME}.csv"
    sheet.write_text(SHEET, encoding="utf-8")
    result = run_cli(["run", str(sheet), *FAST], work / "out", url=sandbox.url)
    assert (result.run_dir / "summary.json").is_file(), result.stderr
    assert (result.run_dir / "report.html").is_file(), result.stderr  # the CLI rendered it
    return RunFolder.open(result.run_dir)


@pytest.fixture(scope="module")
def sync_folder(sandbox: SandboxProcess, tmp_path_factory: pytest.TempPathFactory) -> RunFolder:
    """The second `bulk-onboard sync` of a sheet, after one row was added to it."""
    work = tmp_path_factory.mktemp("sync")
    sheet = work / "fleet.csv"
    sheet.write_text(SHEET, encoding="utf-8")
    out = work / "out"
    sync = ["sync", str(sheet), "--out", str(out), *FAST]
    run_cli(sync, out, url=sandbox.url)
    with sheet.open("a", encoding="utf-8") as handle:
        handle.write(f"{ODD_EMAIL},Ob,Co,imap.acme-mail.test,993,smtp.acme-mail.test,587,pw-d4\n")
    result = run_cli(sync, out, url=sandbox.url)
    assert (result.run_dir / "changes.csv").is_file(), result.stderr
    assert (result.run_dir / "report.html").is_file(), result.stderr  # the CLI rendered it
    return RunFolder.open(result.run_dir)


@pytest.fixture
def browser() -> None:
    if missing := browser_missing():
        peer_missing(f"no browser test: {missing}")


def shown_counts(seen: Visit) -> dict[str, int]:
    spans = seen.page.locator("[data-count]")
    return {
        str(spans.nth(i).get_attribute("data-count")): int(
            spans.nth(i).inner_text().replace(",", "")
        )
        for i in range(spans.count())
    }


def assert_quiet(seen: Visit) -> None:
    assert seen.requests == [seen.url], "the page fetched something"
    assert seen.console == []
    assert seen.errors == []
    assert seen.dialogs == []


# In the browser.


@pytest.mark.usefixtures("browser")
def test_the_report_opens_offline_quietly_and_shows_summary_counts(
    run_folder: RunFolder, tmp_path: Path
) -> None:
    shot = tmp_path / "report.png"
    with visit(run_folder.path / "report.html") as seen:
        seen.page.screenshot(path=str(shot), full_page=True)
        counts = shown_counts(seen)
    assert_quiet(seen)
    assert {"rows_total", "succeeded", "failed", "unprocessed"} <= counts.keys()
    assert counts == {key: run_folder.summary[key] for key in counts}
    assert counts["succeeded"] > 0
    assert counts["failed"] > 0
    image = shot.read_bytes()
    assert image.startswith(PNG_SIGNATURE)
    assert len(image) > 10_000


@pytest.mark.usefixtures("browser")
def test_hostile_text_the_page_shows_stays_text(run_folder: RunFolder) -> None:
    with visit(run_folder.path / "report.html") as seen:
        text = seen.page.inner_text("body")
        scripts = seen.page.locator("script").count()
        images = seen.page.locator("img").count()
        title = seen.page.title()
    assert HOSTILE_EMAIL in text
    assert f"{HOSTILE_NAME}.csv" in text  # the heading
    assert title.startswith(f"{HOSTILE_NAME}.csv")
    assert (scripts, images, seen.dialogs) == (0, 0, [])


@pytest.mark.usefixtures("browser")
def test_the_report_fits_a_phone_screen(run_folder: RunFolder, tmp_path: Path) -> None:
    with visit(run_folder.path / "report.html", PHONE) as seen:
        page_width = seen.page.evaluate("document.documentElement.scrollWidth")
        screen_width = seen.page.evaluate("window.innerWidth")
        seen.page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
    assert_quiet(seen)
    assert screen_width == PHONE[0]
    assert page_width <= screen_width


@pytest.mark.usefixtures("browser")
def test_a_sync_report_shows_the_changes_and_skipped_rows(sync_folder: RunFolder) -> None:
    with visit(sync_folder.path / "report.html") as seen:
        counts = shown_counts(seen)
        changes = seen.page.inner_text("#changes")
        skipped = seen.page.inner_text("#skipped")
    assert_quiet(seen)
    assert counts == {key: sync_folder.summary[key] for key in counts}
    assert {"skipped", "changes"} <= counts.keys()
    assert counts["skipped"] > 0
    assert ODD_EMAIL in changes
    assert "in_sheet" in changes
    assert "unchanged" in skipped


# Aggregation, without a browser.


def tally(rows: Sequence[dict[str, str]]) -> HealthTally:
    found = HealthTally(SUCCEEDED_COLUMNS)
    for row in rows:
        found.add([row.get(column, "") for column in SUCCEEDED_COLUMNS])
    return found


def account(
    domain: str, *, score: str = "90", flags: str = "true", mx: str = "mx.test"
) -> dict[str, str]:
    checks = dict.fromkeys(("spf_valid", "dkim_valid", "dmarc_valid"), flags)
    return {"score": score, "domain": domain, **checks, "mx_records": mx}


def test_scores_fall_in_ten_point_bins_with_100_in_the_top_one() -> None:
    scores = ["0", "9", "10", "55.4", "99", "100", "", "n/a", "nan"]
    health = tally([account("a.test", score=s) for s in scores])
    assert health.histogram() == (2, 1, 0, 0, 0, 1, 0, 0, 0, 2)
    assert bin_labels()[0] == "0–9"
    assert bin_labels()[-1] == "90–100"
    overall = health.score_stats()[0]
    assert (overall.label, overall.count, overall.low, overall.high) == ("Overall", 6, 0, 100)
    assert overall.median == (10 + 55) / 2  # scores are counted to the whole point
    assert overall.mean == pytest.approx((0 + 9 + 10 + 55.4 + 99 + 100) / 6)


def test_no_score_means_no_histogram() -> None:
    health = tally([account("a.test", score="")])
    assert (health.histogram(), health.score_stats()) == ((), ())


def test_domains_with_failed_checks_come_first() -> None:
    rows = [
        *[account("big.test") for _ in range(5)],
        account("half.test"),
        account("half.test", flags="false"),
        account("nodns.test", flags="false", mx=""),
        account("silent.test", flags="", mx=""),
    ]
    domains = tally(rows).domains()
    assert [d.domain for d in domains] == ["nodns.test", "half.test", "big.test", "silent.test"]
    states = {d.domain: [c.state for c in d.checks] for d in domains}
    assert states["nodns.test"] == ["bad"] * 4  # no MX is a failure once DNS was reported
    assert states["half.test"] == ["mixed", "mixed", "mixed", "ok"]
    assert states["silent.test"] == ["unknown"] * 4  # MailReach said nothing: not a failure
    assert (domains[1].mailboxes, domains[1].problems) == (2, 3)


def test_the_domain_grid_is_capped_and_says_what_it_left_out(tmp_path: Path) -> None:
    healthy = [account(f"d{i:04d}.test") for i in range(DOMAINS_SHOWN + 5)]
    folder = make_folder(tmp_path, succeeded=[account("bad.test", flags="false"), *healthy])
    data = collect(folder)
    assert len(data.domains) == DOMAINS_SHOWN
    assert data.domains[0].domain == "bad.test"
    assert (data.domains_hidden, data.domains_hidden_with_problems) == (6, 0)
    assert "6 more domains, all healthy: see succeeded.csv." in render_html(folder)


def test_failures_are_grouped_by_code_most_first_and_capped() -> None:
    records = [failure(i, "timeout") for i in range(7)] + [failure(99, "invalid_email")]
    groups = failure_groups(records, keep=5)
    assert [(g.code, g.count, len(g.rows), g.more) for g in groups] == [
        ("timeout", 7, 5, 2),
        ("invalid_email", 1, 1, 0),
    ]
    assert groups[0].hint == "hint for timeout"
    assert groups[0].stages == {"api"}


def test_a_code_with_more_rows_than_listed_points_to_failed_csv(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, failed=[failure(i, "timeout") for i in range(53)])
    html = render_html(folder)
    assert html.count('<td class="num">') == 50
    assert "3 more rows with this code: see failed.csv." in html


def test_cells_lose_only_the_guard_the_csv_writer_added() -> None:
    assert shown("'=cmd|x@a.test") == "=cmd|x@a.test"
    assert shown("'-5 days") == "-5 days"
    assert shown("'quoted") == "'quoted"
    assert shown("o'brien") == "o'brien"


def test_every_value_from_the_folder_is_escaped(tmp_path: Path) -> None:
    hostile = "<script>alert(1)</script>"
    folder = make_folder(
        tmp_path,
        succeeded=[account(f"{hostile}.test")],
        failed=[{**failure(2, hostile), "email": HOSTILE_EMAIL, "message": hostile}],
        summary={"input": f"{hostile}.csv", "run_id": hostile},
    )
    html = render_html(folder)
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;@<wbr>x.test" in html


def test_the_chart_is_inline_svg_with_its_text_escaped_and_the_same_each_time() -> None:
    colours = ["#cf222e", "#d4a72c", "#2da44e"]
    first = histogram_svg([1, 2, 3], ["a", "b", "<c>"], colours, axis_label="<script>$x$")
    assert first == histogram_svg([1, 2, 3], ["a", "b", "<c>"], colours, axis_label="<script>$x$")
    assert all(colour in first for colour in colours)  # each bar in its band's colour
    assert first.startswith("<svg")
    assert "<script" not in first
    assert ">&lt;script&gt;$x$</text>" in first  # text, not paths: small, and readable


def test_a_folder_without_scores_says_why_instead_of_a_chart(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, summary={"command": "validate", "valid": 0})
    html = render_html(folder)
    assert "<svg" not in html
    assert "No scores: validate checks the sheet and sends nothing to MailReach." in html


def test_the_report_is_written_atomically_and_private(run_folder: RunFolder) -> None:
    path = write_html_report(run_folder)
    assert path == run_folder.path / "report.html"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p.name for p in run_folder.path.iterdir() if p.name.endswith(".tmp")]


def test_a_100000_row_run_gives_a_small_report(run_folder: RunFolder, tmp_path: Path) -> None:
    folder = repeated(run_folder, tmp_path / "large", LARGE_ROWS)
    started = time.monotonic()
    path = write_html_report(folder)
    elapsed_s = time.monotonic() - started
    size = path.stat().st_size
    print(f"{LARGE_ROWS:,} rows: report.html {size:,} bytes in {elapsed_s:.2f} s")
    assert size < LARGE_LIMIT_BYTES
    assert elapsed_s < 60, "rendering should be one pass: seconds, not minutes"
    html = path.read_text(encoding="utf-8")
    assert f'data-count="rows_total">{LARGE_ROWS:,}<' in html
    assert "more rows with this code: see failed.csv." in html


# Run folders written by hand, for the cases a sandbox run does not give.


def failure(row: int, code: str) -> dict[str, str]:
    return {
        "row": str(row),
        "email": f"user{row}@a.test",
        "stage": "api",
        "error_code": code,
        "message": f"message {row}",
        "hint": f"hint for {code}",
    }


def make_folder(
    path: Path,
    *,
    succeeded: Sequence[dict[str, str]] = (),
    failed: Sequence[dict[str, str]] = (),
    summary: dict[str, Any] | None = None,
) -> RunFolder:
    path.mkdir(parents=True, exist_ok=True)
    for name, columns, rows in (
        ("succeeded.csv", SUCCEEDED_COLUMNS, succeeded),
        ("failed.csv", FAILED_COLUMNS, failed),
    ):
        with (path / name).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, columns, restval="")
            writer.writeheader()
            writer.writerows(rows)
    counts = {"rows_total": len(succeeded) + len(failed), "failed": len(failed)}
    base = {"run_id": "r", "command": "run", "input": "s.csv", "succeeded": len(succeeded)}
    (path / "summary.json").write_text(json.dumps({**base, **counts, **(summary or {})}))
    return RunFolder.open(path)


def repeated(source: RunFolder, path: Path, rows: int) -> RunFolder:
    """A run folder of `rows` rows: source's succeeded and failed rows over and over, each
    with its own row number and email, spread over a few thousand domains."""
    path.mkdir(parents=True)
    good, bad = list(source.rows("succeeded")), list(source.rows("failed"))
    assert good
    assert bad
    domain_at = source.header("succeeded").index("domain")
    succeeded = rows * 2 // 3
    with (path / "succeeded.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(source.header("succeeded"))
        for i in range(succeeded):
            cells = list(good[i % len(good)])
            cells[domain_at] = f"d{i % 3000}.{cells[domain_at]}"
            cells[:2] = [str(i + 2), f"u{i}@{cells[domain_at]}"]
            writer.writerow(cells)
    with (path / "failed.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(source.header("failed"))
        for i in range(rows - succeeded):
            cells = list(bad[i % len(bad)])
            cells[:2] = [str(succeeded + i + 2), f"f{i}@x.test"]
            writer.writerow(cells)
    summary = {**source.summary, "rows_total": rows, "succeeded": succeeded}
    summary["failed"] = rows - succeeded
    (path / "summary.json").write_text(json.dumps(summary))
    shutil.copy(source.path / "manifest.json", path / "manifest.json")
    return RunFolder.open(path)


def test_the_chart_colours_its_bins_by_the_workbooks_score_bands() -> None:
    red, amber, green = (BAR_COLOURS[fill] for fill in (RED, AMBER, GREEN))
    assert _bin_colours() == [red] * 5 + [amber] * 3 + [green] * 2  # <50, 50-79, 80-100


def test_the_chart_draws_bars_to_scale_on_a_whole_number_axis() -> None:
    svg = histogram_svg([0, 5, 10], ["a", "b", "c"], ["#111111"] * 3, axis_label="score")
    widths = [float(w) for w in re.findall(r'<rect [^>]*width="([0-9.]+)"', svg)]
    assert widths[0] == 0
    assert widths[2] == pytest.approx(2 * widths[1])
    ticks = re.findall(r'fill="#57606a">([0-9,]+)</text>', svg)
    assert ticks == ["0", "5", "10"]
    beside = r'<text x="[0-9.]+" y="[0-9.]+" dominant-baseline="central">([0-9,]+)</text>'
    assert re.findall(beside, svg) == ["5", "10"]  # each count beside its bar; none for 0


@pytest.mark.parametrize(
    ("largest", "ticks"),
    [(1, ["0", "1"]), (7, ["0", "2", "4", "6", "8"]), (1234, ["0", "500", "1,000", "1,500"])],
)
def test_the_count_axis_steps_by_1_2_or_5_times_a_power_of_ten(
    largest: int, ticks: list[str]
) -> None:
    svg = histogram_svg([largest], ["a"], ["#111111"], axis_label="score")
    assert re.findall(r'fill="#57606a">([0-9,]+)</text>', svg) == ticks
