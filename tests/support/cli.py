"""Running the real `bulk-onboard` command as a subprocess, and checking what it leaves behind."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.support.sandbox_process import SANDBOX_KEY

REPORTS = ("succeeded.csv", "failed.csv", "unprocessed.csv", "skipped.csv")


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    out: Path

    @property
    def run_dir(self) -> Path:
        return (self.out / "latest").resolve()

    def report(self, name: str) -> list[dict[str, str]]:
        path = self.run_dir / name
        if not path.exists():
            return []
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))

    def rows_by_report(self) -> dict[str, list[int]]:
        return {name: [int(r["row"]) for r in self.report(name)] for name in REPORTS}


def env_for(url: str | None, key: str | None = SANDBOX_KEY) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILREACH_")}
    if url is not None:
        env["MAILREACH_API_URL"] = url
    if key is not None:
        env["MAILREACH_API_KEY"] = key
    return env


def command(args: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "bulk_onboard", *args]


def run_cli(
    args: Sequence[str],
    out: Path,
    *,
    url: str | None = None,
    key: str | None = SANDBOX_KEY,
    stdin: str | None = None,
    timeout: float = 90,
) -> Result:
    """Run `bulk-onboard ARGS --out OUT` to completion."""
    full = [*args, "--out", str(out)] if args and args[0] in ("run", "validate") else list(args)
    done = subprocess.run(
        command(full),
        env=env_for(url, key),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr, out)


def run_and_signal(
    args: Sequence[str], out: Path, *, url: str, after_s: float, signum: signal.Signals
) -> Result:
    """Start a run, send `signum` after `after_s` seconds, and wait for it to finish."""
    proc = subprocess.Popen(
        command([*args, "--out", str(out)]),
        env=env_for(url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(after_s)
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=60)
    return Result(proc.returncode, stdout, stderr, out)


def data_rows(path: Path) -> list[int]:
    """Spreadsheet row numbers of a simple CSV's data rows (no quoted newlines, no blanks)."""
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    return list(range(2, len(lines) + 1))


def assert_conservation(result: Result, expected_rows: Iterable[int]) -> None:
    """Every input row is in exactly one report."""
    seen: list[int] = []
    for rows in result.rows_by_report().values():
        seen.extend(rows)
    assert sorted(seen) == sorted(expected_rows), "a row is missing or reported twice"


def secrets_of(path: Path, password_columns: Sequence[str]) -> set[str]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        sample = handle.read(4096)
        handle.seek(0)
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        rows = list(csv.DictReader(handle, dialect=dialect))
    found = {r[c].strip() for r in rows for c in password_columns if c in r and r[c].strip()}
    return found | {s.replace(" ", "") for s in found if " " in s}


def assert_no_secret(result: Result, secrets: Iterable[str]) -> None:
    """No secret in stdout, stderr, or any byte of any file under OUT (journal included)."""
    secrets = [s for s in secrets if len(s) >= 6]
    assert secrets
    blobs = {"stdout": result.stdout.encode(), "stderr": result.stderr.encode()}
    for path in result.out.rglob("*"):
        if path.is_file():
            blobs[str(path)] = path.read_bytes()
    for where, blob in blobs.items():
        for secret in secrets:
            assert secret.encode() not in blob, f"a secret leaked into {where}"


def assert_private(result: Result) -> None:
    run_dir = result.run_dir
    assert run_dir.stat().st_mode & 0o777 == 0o700
    for path in run_dir.iterdir():
        assert path.stat().st_mode & 0o777 == 0o600, path.name
