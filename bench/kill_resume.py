"""kill -9 a run mid-way, then `run --resume`: is every mailbox connected, and what was sent twice?

The demonstration of issue 3: ROWS rows against a sandbox process with --latency-ms, the run
killed with SIGKILL after a few seconds, then resumed in the same run folder. The server's own
log says what happened:

- all connected: the sandbox holds ROWS accounts and succeeded.csv lists every row;
- sent twice: emails the server accepted (answered 200) more than once;
- in flight at the kill: requests that had reached the server but were not answered when the
  run died (the sandbox logs them with no status once it notices the hang-up, and does not
  carry them out; the real service may have, so there they could be accepted twice too);
- settled but not committed: rows the server had accepted before the kill that the journal had
  not committed yet (it commits about once a second); with in-flight rows these are the rows
  --resume sends again.

Usage: python -m bench.kill_resume [--rows 2000] [--latency-ms 200] [--kill-after-s 5]
       [--concurrency 32] [--rate 0]   (--rate 0: unlimited, so the run is concurrency-bound)
"""

from __future__ import annotations

import argparse
import json
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from bench.harness import Sandbox, sandbox, tool_env
from bench.sheet import write_sheet

HANG_UP_SLACK_S = 1.0  # after its latency, how long the sandbox may take to log a hang-up


@dataclass
class KillResume:
    rows: int
    accounts: int
    succeeded_rows: int
    sent_twice: int
    in_flight_at_kill: int
    settled_not_committed: int
    committed_at_kill: int
    accepted_before_kill: int
    resume_s: float
    resume_exit: int


def _run(sheet: Path, out: Path, url: str, *args: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "bulk_onboard", "run", str(sheet), "--out", str(out),
           "--no-progress", *args]  # fmt: skip
    return subprocess.Popen(
        cmd, env=tool_env(url), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _committed(run_dir: Path) -> dict[int, str]:
    uri = f"file:{run_dir / 'journal.sqlite'}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:
        return dict(db.execute("SELECT row, email FROM outcomes WHERE status != 'unprocessed'"))


def _accounts(box: Sandbox) -> int:
    with urllib.request.urlopen(box.url + "/_sandbox/requests", timeout=30) as response:
        return int(json.load(response)["accounts"])


def kill_resume(
    rows: int, latency_ms: float, kill_after_s: float, concurrency: int, rate: str
) -> KillResume:
    work = Path(tempfile.mkdtemp(prefix="bench-kill-resume-"))
    sheet = write_sheet(work / "mailboxes.csv", rows)
    out = work / "out"
    options = ["--concurrency", str(concurrency), "--rate", rate]
    with sandbox("--latency-ms", str(latency_ms)) as box:
        run = _run(sheet, out, box.url, *options)
        time.sleep(kill_after_s)  # "after a few seconds" is the demonstration itself
        killed_at = time.time()
        run.send_signal(signal.SIGKILL)
        run.wait()
        run_dir = (out / "latest").resolve()
        committed = _committed(run_dir)
        # Let the sandbox finish the requests the dead run left behind, so its log is complete.
        time.sleep(latency_ms / 1000 + HANG_UP_SLACK_S)
        t0 = time.perf_counter()
        resume = _run(sheet, out, box.url, "--resume", str(run_dir), *options)
        resume.wait()
        resume_s = time.perf_counter() - t0
        log = [r for r in box.requests() if r["path"].endswith("/v1/imap_auth")]
        accounts = _accounts(box)
    succeeded_csv = run_dir / "succeeded.csv"
    succeeded_rows = len(succeeded_csv.read_text(encoding="utf-8").splitlines()) - 1
    accepted = Counter(r["email"] for r in log if r["status"] == 200)
    before = [r for r in log if r["t"] < killed_at]
    accepted_before = {r["email"] for r in before if r["status"] == 200}
    return KillResume(
        rows=rows,
        accounts=accounts,
        succeeded_rows=succeeded_rows,
        sent_twice=sum(1 for n in accepted.values() if n > 1),
        in_flight_at_kill=sum(1 for r in before if r["status"] is None),
        settled_not_committed=len(accepted_before - set(committed.values())),
        committed_at_kill=len(committed),
        accepted_before_kill=len(accepted_before),
        resume_s=resume_s,
        resume_exit=resume.returncode,
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.kill_resume")
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--kill-after-s", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", default="0", help="the run's --rate (0: unlimited)")
    args = parser.parse_args()
    r = kill_resume(args.rows, args.latency_ms, args.kill_after_s, args.concurrency, args.rate)
    connected = r.accounts == r.rows and r.succeeded_rows == r.rows
    print(f"rows {r.rows}, --latency-ms {args.latency_ms:g}, --concurrency {args.concurrency}, "
          f"--rate {args.rate}, kill -9 after {args.kill_after_s:g} s")  # fmt: skip
    print(f"  all connected:              {'yes' if connected else 'NO'} "
          f"(accounts {r.accounts}, succeeded.csv rows {r.succeeded_rows}, "
          f"resume exit {r.resume_exit}, {r.resume_s:.1f} s)")  # fmt: skip
    print(f"  accepted before the kill:   {r.accepted_before_kill}")
    print(f"  committed in the journal:   {r.committed_at_kill}")
    print(f"  in flight at the kill:      {r.in_flight_at_kill}")
    print(f"  settled, not yet committed: {r.settled_not_committed}")
    print(f"  emails sent twice:          {r.sent_twice}")
    bound = r.in_flight_at_kill + r.settled_not_committed
    print(f"  sent twice <= in flight:    {'yes' if r.sent_twice <= r.in_flight_at_kill else 'no'}")
    print(f"  sent twice <= in flight + settled-not-committed ({bound}): "
          f"{'yes' if r.sent_twice <= bound else 'no'}")  # fmt: skip


if __name__ == "__main__":
    main()
