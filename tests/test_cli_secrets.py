"""The command line's guards: no API key on it in any spelling, nothing secret echoed or stored."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from bulk_onboard.cli import build_parser
from tests.support.cli import run_cli
from tests.support.sandbox_process import sandbox_process

REPO = Path(__file__).parent.parent
SAMPLE = REPO / "samples" / "mailboxes.csv"
KEY = "sk-live-Kq83hd7Ghs61-secret"
KEY_FLAG = "--api-key"
PREFIXES = [KEY_FLAG[:n] for n in range(3, len(KEY_FLAG) + 1)]  # --a ... --api-key


def every_parser(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found.extend(every_parser(child))
    return found


def test_no_parser_accepts_an_abbreviated_option() -> None:
    parsers = every_parser(build_parser())
    assert len(parsers) == 7  # the top level and its six commands
    assert [p.prog for p in parsers if p.allow_abbrev] == []


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("joined", [False, True], ids=["spaced", "joined"])
@pytest.mark.parametrize("command", ["run", "sync"])
def test_no_prefix_of_api_key_gets_the_key_through(
    tmp_path: Path, prefix: str, joined: bool, command: str
) -> None:
    out = tmp_path / "out"
    given = [f"{prefix}={KEY}"] if joined else [prefix, KEY]
    # --sandbox needs no key, so a flag taken for another option would let the run go ahead.
    args = [command, str(SAMPLE), "--sandbox", "--rate", "0", "--out", str(out), *given]
    result = run_cli(args, out, key=None)
    assert result.code == 2, result.stderr
    assert KEY not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists(), "a run folder (and its manifest) was written"


def test_the_key_flag_is_refused_with_a_sentence_saying_where_the_key_goes(tmp_path: Path) -> None:
    result = run_cli(["run", str(SAMPLE), "--api-ke", KEY], tmp_path / "out", key=None)
    assert result.code == 2
    assert "MAILREACH_API_KEY" in result.stderr
    assert "--api-key-file" in result.stderr


def test_an_unknown_option_is_named_but_its_value_is_not_echoed(tmp_path: Path) -> None:
    result = run_cli(["validate", str(SAMPLE), "--pasword", KEY], tmp_path / "out")
    assert result.code == 2
    assert "--pasword" in result.stderr
    assert KEY not in result.stderr + result.stdout


@pytest.mark.parametrize("sandbox", [[], ["--sandbox"]], ids=["api", "sandbox"])
def test_a_key_file_that_is_not_there_is_neither_echoed_nor_recorded(
    tmp_path: Path, sandbox: list[str]
) -> None:
    # A common slip: the key itself given where its file's path goes.
    out = tmp_path / "out"
    args = ["run", str(SAMPLE), *sandbox, "--api-key-file", KEY, "--out", str(out)]
    result = run_cli(args, out, key=None)
    assert result.code == 2
    assert KEY not in result.stderr + result.stdout
    assert "--api-key-file" in result.stderr
    assert not out.exists(), "a run folder (and its manifest) was written"


def test_a_key_file_of_two_lines_is_refused_without_showing_it(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(f"{KEY}\nsecond-line-{KEY}\n")
    key_file.chmod(0o600)
    args = ["run", str(SAMPLE), "--api-key-file", str(key_file), "--out", str(tmp_path / "out")]
    result = run_cli(args, tmp_path / "out", key=None)
    assert result.code == 2, result.stderr
    assert KEY not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_credentials_in_the_api_url_are_stored_nowhere(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with sandbox_process() as box:
        url = box.url.replace("http://", "http://robot:hunter2-Url-Secret@")
        args = ["run", str(SAMPLE), "--rate", "0", "--api-url", url, "--out", str(out)]
        result = run_cli(args, out)
    assert result.code == 1, result.stderr
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["options"]["api"]["base_url"] == box.url
    assert box.url in manifest["command_line"]
    for path in out.rglob("*"):
        if path.is_file():
            assert b"hunter2-Url-Secret" not in path.read_bytes(), path
    assert "hunter2-Url-Secret" not in result.stdout + result.stderr
