"""The command line starts at once: `--help` loads none of the libraries the commands work with.

Each command imports what it uses when it runs, so asking for help, or a usage error, costs the
interpreter's start-up and argparse, not pandas, aiohttp or the report libraries.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

# The third-party libraries behind the work: tables, HTTP, validation, DNS, mail, the reports.
HEAVY = (
    "pandas",
    "numpy",
    "aiohttp",
    "pydantic",
    "openpyxl",
    "xlsxwriter",
    "matplotlib",
    "jinja2",
    "lxml",
    "dns",
    "aioimaplib",
    "aiosmtplib",
    "tqdm",
    "uvloop",
    "orjson",
    "ssl",
)

_PROBE = """
import sys
from bulk_onboard.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
heavy = {heavy!r}
print(" ".join(sorted({{m.split(".")[0] for m in sys.modules}} & set(heavy))))
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["run", "--help"],
        ["sync", "--help"],
        ["validate", "--help"],
        ["check", "--help"],
        ["report", "--help"],
        ["sandbox", "--help"],
        ["--version"],
    ],
    ids=lambda argv: " ".join(argv),
)
def test_help_loads_no_library_the_commands_work_with(argv: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=HEAVY), *argv],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.splitlines()[-1:] in ([], [""]), done.stdout.splitlines()[-1]


def test_a_usage_error_loads_no_library_either() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=HEAVY), "run", "--rate", "fast", "x.csv"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--rate" in done.stderr
    assert done.stdout.strip() == ""
