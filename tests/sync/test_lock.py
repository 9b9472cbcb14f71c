"""The sync lock never follows a symbolic link: that would truncate and overwrite its target."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulk_onboard.errors import UsageError
from bulk_onboard.sync.lock import StateLock, lock_path_for
from tests.support.cli import run_cli

SAMPLE = Path(__file__).parents[2] / "samples" / "mailboxes.csv"


def test_a_lock_that_is_a_symbolic_link_is_refused_and_its_target_kept(tmp_path: Path) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("do not truncate me\n")
    lock = tmp_path / "state.sqlite.lock"
    lock.symlink_to(target)
    with pytest.raises(UsageError, match="symbolic link"), StateLock(lock):
        pass
    assert target.read_text() == "do not truncate me\n"


def test_sync_refuses_a_linked_lock_with_exit_2_and_no_run_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    target = tmp_path / "precious.txt"
    target.write_text("do not truncate me\n")
    lock_path_for(out / "sync-state.sqlite").symlink_to(target)
    result = run_cli(["sync", str(SAMPLE), "--sandbox", "--out", str(out), "--rate", "0"], out)
    assert result.code == 2, result.stderr
    assert "symbolic link" in result.stderr
    assert "Traceback" not in result.stderr
    assert target.read_text() == "do not truncate me\n"
    assert not list(out.glob("2*")), "a run folder was made"
