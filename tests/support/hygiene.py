"""Checks every bad-input scenario shares: the run's outputs are sane, and no secret is in them.

"Outputs" are the command's stdout and stderr plus every byte of every file under its `--out`
folder, the SQLite journal (and any -wal/-shm beside it) included.
"""

from __future__ import annotations

import csv
import html
import json
import re
import subprocess
import sys
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import markupsafe

from tests.support.cli import REPORTS, Result, command, env_for, xlsx_texts
from tests.support.sandbox_process import SANDBOX_KEY

# Reports echo cells of any size (a 10 MB note); the csv module refuses fields over 128 KiB unless
# told otherwise, and this is the test process's own setting.
csv.field_size_limit(sys.maxsize)

# SPEC: a CSV report cell starting with one of these must have been prefixed with '.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
RUN_EXITS = frozenset({0, 1})


@dataclass
class RawResult(Result):
    """A Result that also keeps the exact bytes the command wrote to stdout and stderr."""

    stdout_bytes: bytes = b""
    stderr_bytes: bytes = b""


def run_cli_bytes(
    args: Sequence[str],
    out: Path,
    *,
    url: str | None = None,
    key: str | None = SANDBOX_KEY,
    stdin: bytes = b"",
    timeout: float = 60,
) -> RawResult:
    """Like `run_cli`, but stdin is bytes and stdout/stderr are kept as bytes too.

    Standard input is always connected (empty unless given), so a command reading `-` never
    waits on the test's own terminal.
    """
    full = [*args, "--out", str(out)] if args and args[0] in ("run", "validate") else list(args)
    done = subprocess.run(
        command(full),
        env=env_for(url, key),
        input=stdin,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    return RawResult(
        done.returncode,
        done.stdout.decode("utf-8", "backslashreplace"),
        done.stderr.decode("utf-8", "backslashreplace"),
        out,
        done.stdout,
        done.stderr,
    )


def write_sheet(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[int]:
    """Write a CSV with csv.writer (so quotes, commas and line breaks are quoted properly).

    Returns the spreadsheet row numbers of the data rows, counted by record (header = row 1),
    which is right even when a cell holds a line break.
    """
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        count = 0
        for row in rows:
            writer.writerow(row)
            count += 1
    return list(range(2, count + 2))


def output_blobs(result: Result) -> dict[str, bytes]:
    """stdout, stderr and every file under OUT, as bytes, keyed by where they came from."""
    if isinstance(result, RawResult):
        blobs = {"stdout": result.stdout_bytes, "stderr": result.stderr_bytes}
    else:
        blobs = {"stdout": result.stdout.encode(), "stderr": result.stderr.encode()}
    if result.out.exists():
        for path in sorted(result.out.rglob("*")):
            if path.is_file() and not path.is_symlink():
                where = str(path.relative_to(result.out))
                blobs[where] = path.read_bytes()
                if path.suffix == ".xlsx":  # a zip: its members are compressed
                    blobs.update(
                        (f"{where}!{member}", text) for member, text in xlsx_texts(path).items()
                    )
    return blobs


def secret_forms(secret: str) -> set[bytes]:
    """The byte strings a leaked `secret` would show up as in our outputs.

    Raw UTF-8 (CSV, logs), JSON's escaped form (json.dumps escapes non-ASCII and control
    characters, and the journal and summaries are JSON), CSV's doubled quotes, Python's
    repr (a leak through a logged exception or dataclass repr), and HTML/XML's escaped form
    (report.html, the XML inside results.xlsx).
    """
    forms = {
        str(markupsafe.escape(secret)),  # report.html's escaping (Jinja2's): &#34; for "
        html.escape(secret),
        html.escape(secret, quote=False),
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        secret.replace('"', '""'),
        repr(secret)[1:-1],
    }
    return {form.encode("utf-8", "surrogatepass") for form in forms if form}


def leaks(result: Result, secrets: Iterable[str]) -> list[str]:
    """Where any secret appears in any output, as 'secret #i in <where>' (secret not shown)."""
    found: list[str] = []
    blobs = output_blobs(result)
    for i, secret in enumerate(sorted(set(secrets))):
        forms = secret_forms(secret)
        for where, blob in blobs.items():
            if any(form in blob for form in forms):
                found.append(f"secret #{i} ({len(secret)} chars) in {where}")
    return found


def assert_no_leak(result: Result, secrets: Iterable[str]) -> None:
    secrets = list(secrets)
    assert secrets, "a no-secret check needs secrets to look for"
    found = leaks(result, secrets)
    assert not found, f"{len(found)} leaks, e.g. {found[:5]}"


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert "Traceback" not in result.stdout, result.stdout[-3000:]


def reports(result: Result) -> dict[str, list[dict[str, str]]]:
    """Every report CSV of the run folder (valid.csv included), read with the csv module."""
    return {name: result.report(name) for name in (*REPORTS, "valid.csv")}


def reported_rows(result: Result) -> list[int]:
    return [int(record["row"]) for records in reports(result).values() for record in records]


def assert_every_row_once(result: Result, expected: Iterable[int]) -> None:
    """Conservation, validate included: every data row is in exactly one report."""
    seen = sorted(reported_rows(result))
    expected = sorted(expected)
    assert len(seen) == len(set(seen)), "a row is reported twice"
    missing = sorted(set(expected) - set(seen))
    extra = sorted(set(seen) - set(expected))
    assert not missing, f"rows in no report: {missing[:10]}"
    assert not extra, f"rows reported that the input does not have: {extra[:10]}"


_SENTENCE = re.compile(r"\S.*[.!?]", re.DOTALL)


def is_one_line_sentence(text: str) -> bool:
    """Non-empty, on one line, and ending like a sentence."""
    return bool(_SENTENCE.fullmatch(text)) and "\n" not in text and "\r" not in text


def assert_failures_explained(result: Result) -> None:
    """Every failed row has a message and a hint, each on one line; ours end like sentences.

    A row with several problems lists one sentence per problem, as SPEC asks that every problem
    of a row be reported at once; each still ends with a full stop. At the `api` stage the
    message is the API's own words, so only its being there, on one line, is ours to check.
    """
    for record in result.report("failed.csv"):
        where = f"row {record['row']} ({record['error_code']})"
        assert re.fullmatch(r"[a-z][a-z0-9_]*", record["error_code"]), where
        message = record["message"]
        if record["stage"] == "api":
            assert message.strip(), where
            assert "\n" not in message, where
            assert "\r" not in message, where
        else:
            assert is_one_line_sentence(message), f"{where}: {message!r}"
        assert is_one_line_sentence(record["hint"]), f"{where}: {record['hint']!r}"


def assert_cells_escaped(result: Result) -> None:
    """No cell of any CSV report starts like a spreadsheet formula (OWASP CSV injection)."""
    for name in (*REPORTS, "valid.csv"):
        path = result.run_dir / name
        if not path.exists():
            continue
        with path.open(newline="", encoding="utf-8") as handle:
            for number, record in enumerate(csv.reader(handle), start=1):
                for cell in record:
                    assert not cell.startswith(FORMULA_STARTS), f"{name} record {number}: {cell!r}"


def assert_summary_matches(result: Result, rows: int) -> None:
    summary = json.loads((result.run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["rows_total"] == rows
    assert summary["exit_code"] == result.code


def assert_refused_in_one_sentence(result: Result, code: int = 65) -> str:
    """The command stopped with `code` and one error sentence on stderr; returns that sentence."""
    assert result.code == code, (result.code, result.stderr[-2000:])
    no_traceback(result)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr[-2000:]
    sentence = errors[0].removeprefix("error: ")
    assert is_one_line_sentence(sentence), sentence
    # One sentence: no full stop followed by another sentence (abbreviations aside, ours have
    # none), though a colon may join the problem and its fix.
    assert not re.search(r"[.!?] [A-Z]", sentence), sentence
    return sentence


RUN_FAST = ("--rate", "0", "--backoff", "0.01", "--max-attempts", "2", "--no-progress")


def validate_and_run(
    target: str, out: Path, *, url: str, stdin: bytes = b""
) -> tuple[RawResult, RawResult]:
    """`validate TARGET` and `run TARGET` (against the sandbox at `url`) side by side.

    Each command gets its own --out folder (OUT/validate, OUT/run); they run at the same time
    because each spends most of its second starting up.
    """
    with ThreadPoolExecutor(max_workers=2) as pool:
        checked = pool.submit(run_cli_bytes, ["validate", target], out / "validate", stdin=stdin)
        ran = pool.submit(
            run_cli_bytes, ["run", target, *RUN_FAST], out / "run", url=url, stdin=stdin
        )
        return checked.result(), ran.result()


def assert_no_half_made_run_folder(out: Path) -> None:
    """Every run folder under OUT is complete (has its summary), and `latest` points at one."""
    if not out.exists():
        return
    for folder in out.iterdir():
        if folder.is_dir() and not folder.is_symlink():
            assert (folder / "summary.json").exists(), f"{folder.name} has no summary.json"
    latest = out / "latest"
    if latest.is_symlink():
        assert (latest / "summary.json").exists(), "OUT/latest points at a half-made run folder"
