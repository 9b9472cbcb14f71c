"""README.md says what the code does: its option tables are the parsers' options, and its Layout
names every module. Both are read from the code, so an option or module added anywhere shows
up here until README documents it."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bulk_onboard.cli import build_parser

REPO = Path(__file__).parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")
PACKAGE = REPO / "bulk_onboard"

# A table row's first cell: each `--flag ARG` or `POSITIONAL` in backticks.
_TOKEN = re.compile(r"`(--[a-z0-9-]+|[A-Z][A-Z_]*)\b[^`]*`")


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def parser_options(parser: argparse.ArgumentParser) -> set[str]:
    """Every option string (aliases too) and positional of a command, --help aside."""
    names: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if action.option_strings:
            names.update(action.option_strings)
        else:
            names.add(str(action.metavar or action.dest.upper()))
    return names


def readme_options(command: str) -> set[str]:
    """What README's tables headed "`COMMAND` option" list in their first column."""
    names: set[str] = set()
    tables = re.findall(
        rf"^\| `{command}` option \|.*\n\| ---.*\n((?:\|.*\n)+)", README, flags=re.MULTILINE
    )
    assert tables, f"README has no table headed '`{command}` option'"
    for table in tables:
        for row in table.splitlines():
            names.update(_TOKEN.findall(row.split(" | ")[0]))
    return names


@pytest.mark.parametrize("command", sorted(_commands()))
def test_readme_lists_every_option_of_each_command_and_no_other(command: str) -> None:
    parsed = parser_options(_commands()[command])
    documented = readme_options(command)
    assert sorted(parsed - documented) == [], f"in `{command} --help`, not in README"
    assert sorted(documented - parsed) == [], f"in README, not in `{command} --help`"


def test_the_comparison_reads_aliases_and_positionals() -> None:
    # Proof the two readers see what they must: an alias, a positional, a metavar'd positional.
    commands = _commands()
    assert {"--preflight-timeout", "--timeout", "INPUT"} <= parser_options(commands["check"])
    assert {"RUN_DIR", "--log-format"} == parser_options(commands["report"])
    assert {"--preflight-timeout", "--timeout", "INPUT"} <= readme_options("check")


def _layout() -> str:
    section = README.split("\n## Layout\n", 1)[1]
    return section.split("```text\n", 1)[1].split("\n```", 1)[0]


def _entries(layout: str) -> dict[str, str]:
    """Each `bulk_onboard/` entry of the Layout block and the text that describes it."""
    entries: dict[str, str] = {}
    name = ""
    for line in layout.splitlines():
        if re.match(r"^ {2}\S", line):
            name, _, text = line.strip().partition(" ")
            entries[name] = text
        elif re.match(r"^ {4,}\S", line) and name:
            entries[name] += " " + line.strip()
        elif not line.startswith(" "):
            name = ""  # past bulk_onboard/: bench/, docs/, tests/...
    return entries


def test_the_layout_names_every_module_of_the_package() -> None:
    entries = _entries(_layout())
    on_disk = {
        path.name + ("/" if path.is_dir() else "")
        for path in PACKAGE.iterdir()
        if (path.is_dir() and (path / "__init__.py").exists()) or path.suffix == ".py"
    }
    assert sorted(on_disk ^ set(entries)) == [], "README's Layout and bulk_onboard/ differ"
    for package in sorted(name for name in entries if name.endswith("/")):
        modules = {p.stem for p in (PACKAGE / package).glob("*.py") if p.stem != "__init__"}
        text = entries[package]
        missing = sorted(m for m in modules if not re.search(rf"\b{re.escape(m)}\b", text))
        assert missing == [], f"README's Layout does not name {package}{missing}"


def test_the_layout_names_every_benchmark_module() -> None:
    modules = {p.name for p in (REPO / "bench").iterdir() if p.suffix in (".py", ".md")}
    modules.discard("__init__.py")
    assert sorted(m for m in modules if m not in _layout()) == []


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    """The test command a new user copies is the one CI proves (the apt step may precede it)."""
    blocks = re.findall(r"```sh\n(.*?)\n```", README, flags=re.DOTALL)
    [command] = [block for block in blocks if "scripts/check" in block]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert command in ci
    assert ci[-1] == command  # last: its exit code is CI's


def _shown(text: str) -> list[str]:
    """Lines as README shows them: the port, the run folder's time and rows/s vary per run."""
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    text = re.sub(r"\d{8}T\d{6}Z", "TIME", text)
    text = re.sub(r"rows/s +[\d.]+", "rows/s N", text)
    return text.splitlines()


def test_the_first_commands_output_is_what_readme_shows(tmp_path: Path) -> None:
    found = re.search(r"prints a summary on stdout:\n\n```text\n(.*?)```", README, re.S)
    assert found, "README shows no output of its first command"
    shutil.copytree(REPO / "samples", tmp_path / "samples")
    done = subprocess.run(
        [sys.executable, "-m", "bulk_onboard", "run", "samples/mailboxes.csv", "--sandbox"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert sorted(_shown(done.stderr + done.stdout)) == sorted(_shown(found.group(1)))
