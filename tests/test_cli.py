"""What a new user trips over on the command line: each mistake is one line, its exit code, and
nothing half-made left behind (never a traceback)."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from bulk_onboard.cli import build_parser
from bulk_onboard.commands.options import watch_options
from bulk_onboard.preflight.settings import DEFAULT_CHECK_TIMEOUT_S
from tests.support.cli import Result, command, env_for, run_cli, wait_until

SAMPLE = Path(__file__).parent.parent / "samples" / "mailboxes.csv"
CANT_CREATE = 73  # sysexits' EX_CANTCREAT


def one_line(result: Result, code: int) -> str:
    """The one line a refused command printed on stderr, having exited with `code`."""
    assert result.code == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_negative_rate_is_refused_saying_zero_is_allowed(tmp_path: Path) -> None:
    line = one_line(run_cli(["run", "x.csv", "--rate", "-1"], tmp_path), 2)
    assert "--rate: must be 0 (no limit) or more, not -1" in line


@pytest.mark.parametrize(
    ("typed", "meant"), [("--conc", "--concurrency"), ("--concurency", "--concurrency")]
)
def test_an_unknown_option_names_its_command_a_close_option_and_no_value(
    tmp_path: Path, typed: str, meant: str
) -> None:
    line = one_line(run_cli(["run", "x.csv", typed, "S3cret-value"], tmp_path), 2)
    assert line.startswith(f"bulk-onboard run: error: unrecognized arguments: {typed} and 1 value")
    assert f"did you mean {meant}?" in line
    assert "S3cret-value" not in line


def test_sandbox_and_api_url_together_are_refused_not_one_silently_ignored(
    tmp_path: Path,
) -> None:
    args = ["run", str(SAMPLE), "--sandbox", "--api-url", "http://10.0.0.1/api"]
    line = one_line(run_cli(args, tmp_path / "out"), 2)
    assert "--sandbox and --api-url both name the API to use" in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("spelling", ["0", "0.0", "none", "unlimited"])
def test_a_rate_of_zero_in_any_spelling_means_no_limit(spelling: str) -> None:
    assert build_parser().parse_args(["run", "x.csv", "--rate", spelling]).rate is None


def test_a_port_out_of_range_is_one_line_not_an_overflow_traceback(tmp_path: Path) -> None:
    line = one_line(run_cli(["sandbox", "--port", "80000"], tmp_path), 2)
    assert "--port: must be from 0 (any free port) to 65535, not 80000" in line


@pytest.mark.parametrize(
    ("argv", "old_name"),
    [
        (["run", "x.csv", "--preflight"], None),
        (["check", "x.csv"], "--timeout"),
        (["sandbox", "--verify"], "--verify-timeout"),
    ],
)
def test_every_command_names_the_preflight_deadline_alike_and_keeps_its_old_name(
    argv: list[str], old_name: str | None
) -> None:
    parse = build_parser().parse_args
    assert parse(argv).check_timeout == DEFAULT_CHECK_TIMEOUT_S
    assert parse([*argv, "--preflight-timeout", "7"]).check_timeout == 7
    if old_name is not None:
        assert parse([*argv, old_name, "8"]).check_timeout == 8


def test_run_timeout_stays_the_api_deadline() -> None:
    args = build_parser().parse_args(["run", "x.csv", "--timeout", "9"])
    assert (args.timeout, args.check_timeout) == (9, DEFAULT_CHECK_TIMEOUT_S)


@pytest.mark.parametrize("name", ["run", "sync", "validate", "check"])
def test_help_names_every_input_format(name: str) -> None:
    done = subprocess.run(
        command([name, "--help"]), capture_output=True, text=True, timeout=60, check=False
    )
    assert ".csv/.tsv/.txt/.xlsx/.xlsm" in " ".join(done.stdout.split())


def test_a_key_file_that_is_a_directory_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    folder.mkdir(mode=0o700)
    result = run_cli(["run", str(SAMPLE), "--api-key-file", str(folder)], tmp_path / "out")
    assert "is a directory" in one_line(result, 2)
    assert not (tmp_path / "out").exists()


# --out that can't hold a run folder: exit 73, before any work, leaving nothing behind.


def _a_file(tmp_path: Path) -> Path:
    (tmp_path / "out").write_text("not a folder")
    return tmp_path / "out"


def _under_a_file(tmp_path: Path) -> Path:
    return _a_file(tmp_path) / "runs"


def _latest_is_a_folder(tmp_path: Path) -> Path:
    (tmp_path / "out" / "latest").mkdir(parents=True)
    return tmp_path / "out"


def _latest_is_a_file(tmp_path: Path) -> Path:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "latest").write_text("")
    return tmp_path / "out"


def _in_proc(tmp_path: Path) -> Path:
    return Path("/proc/self/runs")  # a kernel file system: no folder can be made there


BAD_OUTS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "a file": (_a_file, "is a file, not a folder"),
    "under a file": (_under_a_file, "No run folder can be made in --out"),
    "in /proc": (_in_proc, "No run folder can be made in --out"),
    "latest is a folder": (_latest_is_a_folder, "latest is a real folder, not the link"),
    "latest is a file": (_latest_is_a_file, "latest is a real file, not the link"),
}
COMMANDS = {
    "validate": ["validate", str(SAMPLE)],
    "run": ["run", str(SAMPLE), "--sandbox"],
    "check": ["check", str(SAMPLE), "--dns", "127.0.0.1:9"],
    "sync": ["sync", str(SAMPLE), "--sandbox"],
}


def _files_under(path: Path) -> list[Path]:
    return sorted(path.rglob("*")) if path.is_dir() else []


@pytest.mark.parametrize(
    ("case", "name"),
    [*((case, "validate") for case in BAD_OUTS), *((case, "run") for case in BAD_OUTS),
     ("a file", "check"), ("latest is a folder", "check"),
     ("a file", "sync"), ("latest is a folder", "sync")],
)  # fmt: skip
def test_an_unusable_out_is_one_line_exit_73_and_nothing_made(
    tmp_path: Path, case: str, name: str
) -> None:
    make, words = BAD_OUTS[case]
    out = make(tmp_path)
    before = _files_under(tmp_path)
    result = run_cli([*COMMANDS[name], "--out", str(out)], out, key=None)
    assert words in one_line(result, CANT_CREATE)
    assert result.stdout == ""
    assert _files_under(tmp_path) == before


def test_an_out_folder_named_like_an_option_still_gets_its_reports(tmp_path: Path) -> None:
    done = subprocess.run(
        command(["run", str(SAMPLE), "--sandbox", "--out=-dashed"]),
        cwd=tmp_path,
        env=env_for(None, None),
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 1, done.stderr  # the sample fails 4 rows on purpose
    run_dir = (tmp_path / "-dashed" / "latest").resolve()
    assert (run_dir / "results.xlsx").is_file(), done.stderr
    assert (run_dir / "report.html").is_file(), done.stderr
    assert "Traceback" not in done.stderr
    assert "error" not in done.stderr.lower()


@pytest.mark.parametrize("name", ["run", "sync", "check"])
def test_no_progress_turns_off_the_progress_lines_too(name: str) -> None:
    parse = build_parser().parse_args
    assert watch_options(parse([name, "x.csv"]), [])["progress_lines"] is True
    assert watch_options(parse([name, "x.csv", "--no-progress"]), [])["progress_lines"] is False


@pytest.mark.parametrize("job", ["validate", "run", "check"])
def test_ctrl_c_while_standard_input_has_not_ended_exits_130_at_once(
    tmp_path: Path, job: str
) -> None:
    """`bulk-onboard run -` with a pipe that never ends (or a forgotten `<`): Ctrl-C ends the
    wait, where it used to be held until the input ended."""
    proc = subprocess.Popen(
        command([job, "-", "--out", str(tmp_path / "out")]),
        env=env_for("http://127.0.0.1:9/api"),
        stdin=subprocess.PIPE,  # kept open: the input never ends
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wchan = Path(f"/proc/{proc.pid}/wchan")
    try:
        # Signalled once it waits in the pipe's read (a SIGINT during imports is another story).
        wait_until("the read of standard input", lambda: "pipe" in wchan.read_text(), 30)
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=10)
    finally:
        proc.kill()
        _, stderr = proc.communicate()
    assert code == 130, stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
