"""Every command leaves results.xlsx and report.html in its run folder, and `bulk-onboard report
RUN_DIR` rebuilds them from the folder's reports alone."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from bulk_onboard.reports.render import render_reports_after
from tests.support.cli import (
    Mailbox,
    assert_no_secret,
    assert_private,
    command,
    run_cli,
    unique_mailboxes,
    write_mailboxes,
)

HUMAN_REPORTS = ("results.xlsx", "report.html")


@pytest.fixture
def sheet(tmp_path: Path) -> tuple[Path, set[str]]:
    path = tmp_path / "boxes.csv"
    boxes = [*unique_mailboxes(5), Mailbox("not-an-email"), Mailbox("u0@fleet.test", "x" * 8)]
    return path, write_mailboxes(path, boxes)


def test_run_writes_both_reports_private_and_secret_free(
    tmp_path: Path, sheet: tuple[Path, set[str]]
) -> None:
    path, passwords = sheet
    result = run_cli(["run", str(path), "--sandbox"], tmp_path / "out", key=None)
    assert result.code == 1, result.stderr  # one invalid email, one duplicate
    for name in HUMAN_REPORTS:
        assert (result.run_dir / name).stat().st_size > 0
    assert_private(result)
    assert_no_secret(result, passwords)


def test_validate_writes_both_reports(tmp_path: Path, sheet: tuple[Path, set[str]]) -> None:
    result = run_cli(["validate", str(sheet[0])], tmp_path / "out")
    assert result.code == 1, result.stderr
    assert all((result.run_dir / name).is_file() for name in HUMAN_REPORTS)


def test_report_rebuilds_both_and_prints_their_paths(
    tmp_path: Path, sheet: tuple[Path, set[str]]
) -> None:
    result = run_cli(["run", str(sheet[0]), "--sandbox"], tmp_path / "out", key=None)
    run_dir = result.run_dir
    moved = tmp_path / "older-run"  # an older run folder, anywhere, without the files
    shutil.copytree(run_dir, moved)
    for name in HUMAN_REPORTS:
        (moved / name).unlink()

    again = run_cli(["report", str(moved)], tmp_path / "unused")

    assert again.code == 0, again.stderr
    assert again.stdout.split() == [str(moved / name) for name in HUMAN_REPORTS]
    for name in HUMAN_REPORTS:
        assert (moved / name).stat().st_mode & 0o777 == 0o600
    summary = json.loads((moved / "summary.json").read_text(encoding="utf-8"))
    assert str(summary["succeeded"]) in (moved / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("target", "code", "words"),
    [
        ("nowhere", 66, "does not exist"),
        (".", 65, "has no summary.json"),
        ("f.txt", 65, "not a folder"),
    ],
)
def test_report_on_something_else_is_one_sentence(
    tmp_path: Path, target: str, code: int, words: str
) -> None:
    (tmp_path / "f.txt").write_text("not a run folder", encoding="utf-8")
    result = run_cli(["report", str(tmp_path / target)], tmp_path / "unused")
    assert result.code == code
    assert words in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_report_that_cant_be_written_is_one_line_and_the_rest_is_written(
    tmp_path: Path, sheet: tuple[Path, set[str]]
) -> None:
    result = run_cli(["validate", str(sheet[0])], tmp_path / "out")
    run_dir = result.run_dir
    (run_dir / "results.xlsx").unlink()
    (run_dir / "results.xlsx").mkdir()  # a folder in its way: the rename fails

    again = run_cli(["report", str(run_dir)], tmp_path / "unused")

    assert again.code == 1
    assert again.stdout.split() == [str(run_dir / "report.html")]
    assert "Could not write results.xlsx" in again.stderr
    assert "Traceback" not in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1


def test_report_on_a_folder_it_cannot_write_says_what_to_fix_in_one_line(
    tmp_path: Path, sheet: tuple[Path, set[str]]
) -> None:
    result = run_cli(["validate", str(sheet[0])], tmp_path / "out")
    # Outside pytest's 0700 temp folder, so the unprivileged user below can reach it.
    parent = Path(tempfile.mkdtemp(prefix="read-only-run-"))
    try:
        run_dir = parent / "run"
        shutil.copytree(result.run_dir, run_dir)
        parent.chmod(0o755)
        for path in run_dir.iterdir():
            path.chmod(0o644)
        run_dir.chmod(0o555)
        report = command(["report", str(run_dir)])
        if os.geteuid() == 0:  # root writes anywhere: run it as nobody
            if shutil.which("setpriv") is None:
                pytest.skip("running as root without setpriv (util-linux) to drop privileges")
            report = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *report]
        done = subprocess.run(report, capture_output=True, text=True, timeout=60, check=False)
    finally:
        shutil.rmtree(parent, ignore_errors=True)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"Could not write results.xlsx and report.html in {run_dir} (Permission denied): check "
        "that you can write to that folder and that its disk has room; the CSV reports are "
        "complete."
    ]


def test_a_megabyte_cell_does_not_make_a_megabyte_page(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    write_mailboxes(path, [Mailbox("x" * 1_000_000), Mailbox("y" * 1_000_000 + "@x.test")])
    result = run_cli(["validate", str(path)], tmp_path / "out")
    assert result.code == 1, result.stderr
    assert (result.run_dir / "failed.csv").stat().st_size > 2_000_000
    assert (result.run_dir / "report.html").stat().st_size < 100_000
    assert (result.run_dir / "results.xlsx").stat().st_size > 0


def test_report_on_the_output_folder_points_at_its_latest_run(tmp_path: Path) -> None:
    (tmp_path / "out" / "latest").mkdir(parents=True)
    result = run_cli(["report", str(tmp_path / "out")], tmp_path / "unused")
    assert result.code == 65
    assert f"give one of them, e.g. {tmp_path / 'out' / 'latest'}." in result.stderr


def test_a_command_whose_report_fails_says_so_in_one_line_and_keeps_its_code(
    tmp_path: Path, sheet: tuple[Path, set[str]], caplog: pytest.LogCaptureFixture
) -> None:
    result = run_cli(["validate", str(sheet[0])], tmp_path / "out")
    run_dir = result.run_dir
    (run_dir / "results.xlsx").unlink()
    (run_dir / "results.xlsx").mkdir()  # in the way of the rename
    (run_dir / "report.html").unlink()

    render_reports_after(run_dir)  # what every command calls once its CSVs are written

    assert (run_dir / "report.html").stat().st_size > 0, "one report failing spares the other"
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        f"Could not write results.xlsx in {run_dir}"
    ]


def test_a_report_that_raises_is_one_line_not_a_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    render_reports_after(tmp_path)  # no summary.json: not a run folder
    assert len(caplog.records) == 1
    assert (
        caplog.records[0]
        .getMessage()
        .startswith("results.xlsx and report.html were not written (RunFolderError)")
    )
