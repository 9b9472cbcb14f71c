"""The Python API: what README's "From Python" shows, results, and one exception per exit code."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import bulk_onboard
from bulk_onboard.errors import ERRORS, ExitCode
from tests.support.cli import data_rows
from tests.support.sandbox_process import sandbox_process

REPO = Path(__file__).parent.parent
SAMPLE = REPO / "samples" / "mailboxes.csv"


def _readme_example() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## From Python", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "README's From Python section has no python example"
    return found.group(1)


def test_the_readme_example_runs_as_written(tmp_path: Path) -> None:
    shutil.copytree(REPO / "samples", tmp_path / "samples")
    done = subprocess.run(
        [os.path.abspath(sys.executable), "-c", _readme_example()],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "1 8 4"  # the sample's comment says so
    assert any(line.endswith(" duplicate_email") for line in lines)
    assert (tmp_path / "output" / "latest" / "report.html").is_file()


def test_a_result_counts_every_row_and_reads_back_each_outcome(tmp_path: Path) -> None:
    result = bulk_onboard.run(SAMPLE, sandbox=True, rate=None, out=tmp_path)
    outcomes = list(result.outcomes())
    assert sorted(o.row for o in outcomes) == data_rows(SAMPLE)
    assert result.counts["rows_total"] == len(outcomes)
    by_status = {s: sum(o.status == s for o in outcomes) for s in ("succeeded", "failed")}
    assert by_status == {"succeeded": result.counts["succeeded"], "failed": result.counts["failed"]}
    assert result.exit_code == ExitCode.SOME_FAILED
    assert result.run_dir.parent == tmp_path
    assert (result.run_dir / "results.xlsx").is_file()


def test_a_refused_key_raises_key_refused_with_the_run_folder(tmp_path: Path) -> None:
    with sandbox_process() as sandbox:
        with pytest.raises(bulk_onboard.KeyRefusedError) as raised:
            bulk_onboard.run(SAMPLE, api_url=sandbox.url, api_key="not-the-key", out=tmp_path)
        assert sandbox.imap_auth() == []
    error = raised.value
    assert error.exit_code == ExitCode.KEY_REFUSED
    assert error.run_dir is not None
    counts = bulk_onboard.RunResult.of(error.run_dir).counts
    assert counts["succeeded"] == 0
    assert counts["unprocessed"] + counts["failed"] == len(data_rows(SAMPLE))  # failed: locally


def test_a_signal_while_the_reports_are_written_is_ignored_then_the_callers_handler_is_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job's exit code is decided when its loop ends: a Ctrl-C landing in the loop's shutdown
    or the report writing must not raise into them. The caller's own handler is restored after."""
    import bulk_onboard.reports.render as render

    write_reports = render.render_reports_after

    def interrupted(run_dir: Path) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # a late Ctrl-C, delivered before the next line
        write_reports(run_dir)

    monkeypatch.setattr(render, "render_reports_after", interrupted)
    seen: list[int] = []
    mine = signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
    try:
        result = bulk_onboard.run(SAMPLE, sandbox=True, rate=None, out=tmp_path)
        handler_after = signal.getsignal(signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)  # the caller's handler sees this one
    finally:
        signal.signal(signal.SIGINT, mine)
    assert result.exit_code == ExitCode.SOME_FAILED
    assert (result.run_dir / "report.html").is_file()
    assert handler_after not in (signal.SIG_IGN, signal.default_int_handler)
    assert seen == [signal.SIGINT]


def test_the_async_twin_runs_in_the_callers_event_loop(tmp_path: Path) -> None:
    async def main() -> bulk_onboard.RunResult:
        return await bulk_onboard.run_async(SAMPLE, sandbox=True, rate=None, out=tmp_path)

    result = asyncio.run(main())
    assert result.counts["succeeded"] == 8


def test_validate_and_a_missing_input(tmp_path: Path) -> None:
    result = bulk_onboard.validate(SAMPLE, out=tmp_path)
    assert result.command == "validate"
    assert result.counts["valid"] + result.counts["failed"] == len(data_rows(SAMPLE))
    with pytest.raises(bulk_onboard.InputMissingError) as raised:
        bulk_onboard.validate(tmp_path / "nowhere.csv", out=tmp_path)
    assert raised.value.exit_code == ExitCode.NO_INPUT
    assert raised.value.run_dir is None


def test_a_run_without_a_key_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(bulk_onboard.UsageError):
        bulk_onboard.run(SAMPLE, out=tmp_path)


def test_each_exit_code_but_0_and_1_has_one_exception_class() -> None:
    codes = set(ExitCode) - {ExitCode.OK, ExitCode.SOME_FAILED}
    assert set(ERRORS) == codes
    for code, cls in ERRORS.items():
        assert issubclass(cls, bulk_onboard.BulkOnboardError)
        assert cls.exit_code == code or {code, cls.exit_code} == {ExitCode.SIGINT, ExitCode.SIGTERM}
    distinct = {cls for code, cls in ERRORS.items() if code is not ExitCode.SIGTERM}
    assert len(distinct) == len(codes) - 1  # 130 and 143 share RunInterrupted


def test_importing_the_package_loads_nothing_else() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, bulk_onboard; heavy = ('bulk_onboard.', 'aiohttp', 'pandas'); "
            "print(sorted(m for m in sys.modules if m.startswith(heavy)))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    # The version, and nothing that does work: no stage, no aiohttp, no pandas.
    assert done.stdout.strip() == "['bulk_onboard.base', 'bulk_onboard.base.version']"
