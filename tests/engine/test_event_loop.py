"""`run` and `sync` run on uvloop when the `fast` extra is installed, else on the standard loop."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bulk_onboard.engine import event_loop
from tests.support.cli import Result, assert_conservation, data_rows, env_for
from tests.support.sandbox_process import sandbox_process

# `python -m bulk_onboard`, with uvloop made unimportable as if the extra were not installed.
WITHOUT_UVLOOP = (
    "import runpy, sys; sys.modules['uvloop'] = None; "
    "runpy.run_module('bulk_onboard', run_name='__main__', alter_sys=True)"
)


def _loop_type() -> type[asyncio.AbstractEventLoop]:
    async def which() -> type[asyncio.AbstractEventLoop]:
        return type(asyncio.get_running_loop())

    return event_loop.run(which())


def test_uvloop_runs_the_network_commands_when_it_is_installed() -> None:
    uvloop = pytest.importorskip("uvloop")
    assert _loop_type() is uvloop.Loop


def test_the_standard_loop_runs_them_when_uvloop_is_not_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)
    assert issubclass(_loop_type(), asyncio.SelectorEventLoop)


@pytest.mark.parametrize("loop", ["uvloop", "standard"])
def test_a_run_settles_every_row_on_either_loop(tmp_path: Path, loop: str) -> None:
    if loop == "uvloop":
        pytest.importorskip("uvloop")
        start = ["-m", "bulk_onboard"]
    else:
        start = ["-c", WITHOUT_UVLOOP]
    sheet = tmp_path / "in.csv"
    lines = ["Email,First Name,Last Name,IMAP Host,IMAP Port,SMTP Host,SMTP Port,Password"]
    lines += [f"u{i}@loop.test,U,N{i},imap.x.test,993,smtp.x.test,587,p{i}" for i in range(40)]
    sheet.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    with sandbox_process() as box:
        args = ["run", str(sheet), "--rate", "0", "--no-progress", "--out", str(out)]
        done = subprocess.run(
            [sys.executable, *start, *args],
            env=env_for(box.url),
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
    result = Result(done.returncode, done.stdout, done.stderr, out)
    assert result.code == 0, result.stderr
    assert_conservation(result, data_rows(sheet))
    assert len(result.report("succeeded.csv")) == 40


def test_the_loop_module_type_checks_without_uvloop_installed() -> None:
    """mypy --strict passes on a machine without the `fast` extra, as README's test command
    sets one up: `--no-site-packages` hides uvloop (and every other installed package)."""
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-site-packages", "--follow-imports=silent",
         "--cache-dir", os.devnull, event_loop.__file__],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
