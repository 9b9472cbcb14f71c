"""Synthetic spreadsheets for benchmarks: N unique custom-host mailboxes."""

from __future__ import annotations

import csv
from pathlib import Path

HEADER = (
    "Email",
    "First Name",
    "Last Name",
    "IMAP Host",
    "IMAP Port",
    "IMAP Password",
    "SMTP Host",
    "SMTP Port",
    "SMTP Password",
)


def write_sheet(path: Path, rows: int) -> Path:
    """Write `rows` distinct mailboxes on bench domains to `path`."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(rows):
            domain = f"bench{i % 97}.test"
            writer.writerow(
                (
                    f"user{i}@{domain}",
                    "Bench",
                    f"User{i}",
                    f"imap.{domain}",
                    "993",
                    f"imap-pw-{i}",
                    f"smtp.{domain}",
                    "587",
                    f"smtp-pw-{i}",
                )
            )
    return path
