"""Running the real `bulk-onboard` command as a subprocess, and checking what it leaves behind."""

from __future__ import annotations

import contextlib
import csv
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

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


def xlsx_texts(path: Path) -> dict[str, bytes]:
    """The text of every cell, per member of a workbook, NUL-separated, as UTF-8: what a secret
    could leak into, with XML's character references decoded. The markup is left out, as a
    password like "expression" is also a word of the file format."""
    texts = {}
    with zipfile.ZipFile(path) as book:
        for member in book.namelist():
            if member.endswith(".xml"):
                root = ElementTree.fromstring(book.read(member))
                cells = (
                    e.text or "" for e in root.iter() if e.tag.rsplit("}", 1)[-1] in ("t", "v")
                )
                texts[member] = "\0".join(cells).encode("utf-8", "surrogatepass")
    return texts


def assert_no_secret(result: Result, secrets: Iterable[str]) -> None:
    """No secret in stdout, stderr, or any byte of any file under OUT (journal included)."""
    secrets = [s for s in secrets if len(s) >= 6]
    assert secrets
    blobs = {"stdout": result.stdout.encode(), "stderr": result.stderr.encode()}
    for path in result.out.rglob("*"):
        if path.is_file():
            blobs[str(path)] = path.read_bytes()
            if path.suffix == ".xlsx":  # a zip: its members are compressed
                blobs.update(
                    (f"{path}!{member}", text) for member, text in xlsx_texts(path).items()
                )
    for where, blob in blobs.items():
        for secret in secrets:
            assert secret.encode() not in blob, f"a secret leaked into {where}"


def assert_private(result: Result) -> None:
    run_dir = result.run_dir
    assert run_dir.stat().st_mode & 0o777 == 0o700
    for path in run_dir.iterdir():
        assert path.stat().st_mode & 0o777 == 0o600, path.name


# Additions for the fault, property and resume suites.

POLL_INTERVAL_S = 0.02
SHEET_HEADER = "Email,First Name,Last Name,IMAP Host,IMAP Port,SMTP Host,SMTP Port,Password"
MAGIC_PASSWORDS = frozenset({"wrong-password", "wrong-imap-password", "wrong-smtp-password"})


@dataclass(frozen=True)
class Mailbox:
    """One row of a test sheet. Leave `password` empty to get a fresh unique one."""

    email: str
    password: str = ""
    imap_port: str = "993"


def unique_mailboxes(count: int) -> list[Mailbox]:
    """`count` distinct mailboxes `user{i}@fleet.test`; write_mailboxes gives each a password."""
    return [Mailbox(f"user{i}@fleet.test") for i in range(count)]


def write_mailboxes(path: Path, mailboxes: Sequence[Mailbox]) -> set[str]:
    """Write a CSV sheet of `mailboxes`; returns the passwords that must never leak."""
    lines = [SHEET_HEADER]
    passwords: set[str] = set()
    for i, box in enumerate(mailboxes):
        password = box.password or f"pw-{secrets.token_hex(6)}-{i}"
        if password not in MAGIC_PASSWORDS:
            passwords.add(password)
        lines.append(
            f"{box.email},Test,Row{i},imap.fleet.test,{box.imap_port},smtp.fleet.test,587,{password}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return passwords


def wait_until(what: str, predicate: Callable[[], bool], timeout_s: float = 30.0) -> None:
    """Poll `predicate` until it holds; fail naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(POLL_INTERVAL_S)


@dataclass
class RunningCli:
    """A `bulk-onboard` process started by `start_cli`; its streams go to files beside OUT."""

    proc: subprocess.Popen[bytes]
    out: Path
    stdout_path: Path
    stderr_path: Path

    def stderr_so_far(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, what: str, predicate: Callable[[], bool], timeout_s: float = 30.0) -> None:
        """Poll `predicate` while the run goes on; fail at once if the run has exited."""

        def holds() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"the run exited ({self.proc.returncode}) before {what}:\n"
                    + self.stderr_so_far()[-2000:]
                )
            return predicate()

        wait_until(what, holds, timeout_s)

    def has_open(self, path: Path) -> bool:
        """Whether the process holds `path` open right now (Linux: /proc/PID/fd)."""
        target = str(path.resolve())
        with contextlib.suppress(FileNotFoundError):
            for fd in Path(f"/proc/{self.proc.pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) == target:
                        return True
        return False

    def send(self, signum: signal.Signals) -> None:
        self.proc.send_signal(signum)

    def finish(self, timeout_s: float = 60.0) -> Result:
        """Wait for the process to exit and collect what it left."""
        self.proc.wait(timeout_s)
        return Result(
            self.proc.returncode,
            self.stdout_path.read_text(encoding="utf-8", errors="replace"),
            self.stderr_so_far(),
            self.out,
        )


def start_cli(
    args: Sequence[str], out: Path, *, url: str | None, key: str | None = SANDBOX_KEY
) -> RunningCli:
    """Start `bulk-onboard ARGS --out OUT` without waiting for it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    stamp = f"{out.name}.{time.monotonic_ns()}"
    stdout_path = out.parent / f"{stamp}.stdout"
    stderr_path = out.parent / f"{stamp}.stderr"
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        proc = subprocess.Popen(
            command([*args, "--out", str(out)]),
            env=env_for(url, key),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
        )
    return RunningCli(proc, out, stdout_path, stderr_path)


def journal_statuses(run_dir: Path) -> dict[int, str]:
    """Row -> status as committed in a run folder's journal (read-only, e.g. after a kill -9)."""
    uri = f"file:{run_dir / 'journal.sqlite'}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        return dict(db.execute("SELECT row, status FROM outcomes"))


def emails_by_report(result: Result) -> dict[str, set[str]]:
    """Report file name -> the emails in it."""
    return {name: {r["email"] for r in result.report(name)} for name in REPORTS}
