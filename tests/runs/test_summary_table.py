"""The table printed at the end of a command, read back from summary.json."""

from __future__ import annotations

from pathlib import Path

from bulk_onboard.runs.summary_table import format_summary

RUN_DIR = Path("output/20261124T002916Z-mailboxes")


def test_failed_names_the_four_commonest_codes_and_counts_the_rest() -> None:
    codes = {"a_code": 1, "b_code": 5, "c_code": 2, "d_code": 2, "e_code": 1, "f_code": 3}
    summary = {"succeeded": 0, "failed": 14, "unprocessed": 0, "error_codes": codes}
    lines = format_summary(summary, RUN_DIR).splitlines()
    assert lines[2] == "  failed            14   (b_code 5, f_code 3, c_code 2, d_code 2, +2 more)"


def test_four_codes_or_fewer_are_all_named_with_nothing_more() -> None:
    summary = {"failed": 3, "error_codes": {"x": 2, "y": 1}}
    assert format_summary(summary, RUN_DIR).splitlines()[1] == "  failed             3   (x 2, y 1)"


def test_validate_of_a_header_only_file_says_valid_0() -> None:
    summary = {"valid": 0, "failed": 0, "error_codes": {}, "exit_code": 0}
    assert format_summary(summary, RUN_DIR).splitlines() == [
        f"Run folder: {RUN_DIR}",
        "  valid              0",
        "  failed             0",
        "  exit code 0",
    ]


def test_skipped_shows_only_when_something_was_skipped() -> None:
    run: dict[str, object] = {"succeeded": 1, "failed": 0, "unprocessed": 0, "skipped": 0}
    assert "skipped" not in format_summary(run, RUN_DIR)
    assert "  skipped            8" in format_summary({**run, "skipped": 8}, RUN_DIR)
