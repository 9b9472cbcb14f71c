"""Preflight throughput: N mailboxes checked against the local peers at a given concurrency.

Peers (Dovecot with its auth penalty on, aiosmtpd 587- and 465-style, the dnslib DNS server)
run in a child process, so they don't share this event loop; the checks go through the same code
as `bulk-onboard check` (normalise -> RowPreflight -> Prober). Prints rows/s and p50/p95 per check.

    python -m bench.preflight [--rows 500] [--concurrency 50] [--domains 100] [--bad 0.1]

Mix: 1 in 20 rows has a wrong IMAP password and 1 in 20 a wrong SMTP password (--bad 0.1);
the wrong IMAP ones trigger Dovecot's auth penalty for everyone on 127.0.0.1 afterwards. IMAP goes
through Dovecot's STARTTLS port (a port where our client need not wait to tell TLS from plain),
SMTP alternates 587-style STARTTLS and 465-style TLS, named by an SMTP Security column.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bulk_onboard.preflight.probe import Prober
from bulk_onboard.preflight.row_check import RowPreflight, RowReport
from bulk_onboard.preflight.settings import Nameserver, PreflightSettings
from bulk_onboard.rows.normalise import NormaliseOptions, normalise
from bulk_onboard.sheet.columns import ColumnMap
from bulk_onboard.sheet.reader import open_table

HEADER = ["Email", "First Name", "Last Name", "IMAP Host", "IMAP Port", "IMAP Password",
          "SMTP Host", "SMTP Port", "SMTP Security", "SMTP Password"]  # fmt: skip


def bench_users(rows: int, domains: int) -> list[str]:
    return [f"user{i}@bench{i % domains}.test" for i in range(rows)]


def serve_peers(rows: int, domains: int) -> None:
    """Child process: start the peers, print where they are, serve until stdin closes."""
    from tests.support.peers.world import DKIM_KEY, start_world

    world = start_world(extra_users=bench_users(rows, domains), penalty=True)
    for d in range(domains):
        domain = f"bench{d}.test"
        world.dns.zone.mx(domain, f"mx.{domain}")
        world.dns.zone.txt(domain, "v=spf1 ip4:127.0.0.1 -all")
        world.dns.zone.txt(f"_dmarc.{domain}", "v=DMARC1; p=none")
        world.dns.zone.txt(f"selector1._domainkey.{domain}", DKIM_KEY)
    assert world.dovecot is not None, "the benchmark needs Dovecot (apt-get install dovecot-imapd)"
    where = {
        "dns_port": world.dns.port,
        "ca_file": str(world.certs.ca_file),
        "imap_port": world.dovecot.starttls_port,
        "smtp_starttls_port": world.smtp_starttls.port,
        "smtp_tls_port": world.smtp_tls.port,
    }
    print(json.dumps(where), flush=True)
    try:
        sys.stdin.read()
    finally:
        world.stop()


def write_sheet(path: Path, where: dict[str, Any], rows: int, domains: int, bad: float) -> None:
    from tests.support.peers.world import password_of

    every = max(int(2 / bad), 2) if bad > 0 else 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i, user in enumerate(bench_users(rows, domains)):
            password = password_of(user)
            wrong_imap = every and i % every == 1
            wrong_smtp = every and i % every == every // 2 + 1
            tls = i % 2 == 0
            writer.writerow([
                user, "Bench", f"User{i}",
                "imap.good.test", where["imap_port"], ("wrong-" if wrong_imap else "") + password,
                "smtp.good.test", where["smtp_tls_port" if tls else "smtp_starttls_port"],
                "ssl" if tls else "starttls", ("wrong-" if wrong_smtp else "") + password,
            ])  # fmt: skip


async def check_all(sheet: Path, settings: PreflightSettings) -> tuple[list[RowReport], float]:
    table = open_table(str(sheet))
    columns = ColumnMap.from_headers(table.headers)
    options = NormaliseOptions()
    items = [normalise(raw, columns, options) for chunk in table.chunks for raw in chunk]
    reports: list[RowReport] = []
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)
    started = time.monotonic()
    async with Prober(settings) as prober:
        rows = RowPreflight(prober, columns, options, concurrency=settings.concurrency)

        async def worker() -> None:
            while not queue.empty():
                reports.append(await rows.inspect(queue.get_nowait()))

        async with asyncio.TaskGroup() as group:
            for _ in range(settings.concurrency):
                group.create_task(worker())
    return reports, time.monotonic() - started


def _p(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]) if ordered else 0.0


def summarise(reports: list[RowReport], elapsed_s: float) -> dict[str, Any]:
    per_check: dict[str, list[int]] = {"dns": [], "imap": [], "smtp": [], "row": []}
    seen_domains: set[str] = set()
    for r in reports:
        per_check["row"].append(r.elapsed_ms)
        if r.report is None:
            continue
        if r.report.domain.domain not in seen_domains:  # one lookup per domain, not per row
            seen_domains.add(r.report.domain.domain)
            per_check["dns"].append(r.report.domain.elapsed_ms)
        for name, result in (("imap", r.report.imap), ("smtp", r.report.smtp)):
            if result is not None:
                per_check[name].append(result.elapsed_ms)
    codes = Counter(r.rejected.fields["error_code"] if r.rejected else "passed" for r in reports)
    return {
        "rows": len(reports),
        "elapsed_s": round(elapsed_s, 2),
        "rows_per_s": round(len(reports) / elapsed_s, 1),
        "verdicts": dict(codes),
        "ms": {
            name: {"p50": _p(v, 0.5), "p95": _p(v, 0.95), "max": float(max(v, default=0))}
            for name, v in per_check.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--domains", type=int, default=100)
    parser.add_argument("--bad", type=float, default=0.1, help="fraction of wrong passwords")
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_peers(args.rows, args.domains)
        return
    peers = subprocess.Popen(
        [sys.executable, "-m", "bench.preflight", "--serve", "--rows", str(args.rows),
         "--domains", str(args.domains)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert peers.stdout is not None
        where = json.loads(peers.stdout.readline())
        folder = Path(tempfile.mkdtemp(prefix="bench-preflight-"))
        sheet = folder / "mailboxes.csv"
        write_sheet(sheet, where, args.rows, args.domains, args.bad)
        settings = PreflightSettings(
            timeout_s=args.timeout,
            concurrency=args.concurrency,
            nameservers=(Nameserver("127.0.0.1", where["dns_port"]),),
            ca_file=Path(where["ca_file"]),
        )
        reports, elapsed = asyncio.run(check_all(sheet, settings))
        result = summarise(reports, elapsed)
        result |= {"concurrency": args.concurrency, "domains": args.domains, "bad": args.bad}
        print(json.dumps(result, indent=2))
        print(
            f"\n{result['rows']} mailboxes at --concurrency {args.concurrency}: "
            f"{result['rows_per_s']} rows/s ({result['elapsed_s']} s); p95 "
            + ", ".join(f"{k} {v['p95']:.0f} ms" for k, v in result["ms"].items())
        )
    finally:
        if peers.stdin is not None:
            peers.stdin.close()
        peers.wait(30)


if __name__ == "__main__":
    main()
