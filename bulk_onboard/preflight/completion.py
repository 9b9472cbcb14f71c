"""Rows that name no IMAP/SMTP server: fill in the servers discovery found, then normalise again.

The normaliser is pure and synchronous, and discovery needs DNS; so a row whose only problems are
its missing server hosts is normalised a second time, with the found hosts (and their ports) put
into its cells, as if the sheet had them. Columns the sheet lacks are added after its own.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from bulk_onboard.preflight.discovery import Server, Servers
from bulk_onboard.rows.normalise import NormalisedRow, NormaliseOptions, normalise
from bulk_onboard.rows.values import Cells
from bulk_onboard.sheet.aliases import FIELD_ALIASES
from bulk_onboard.sheet.columns import ColumnMap
from bulk_onboard.sheet.table import RawRow

HOST_FIELDS = ("imap_server", "smtp_server")
_PORT_FIELD = {"imap_server": "imap_server_port", "smtp_server": "smtp_server_port"}
_FIELDS = (*HOST_FIELDS, *_PORT_FIELD.values())


@dataclass(frozen=True, slots=True)
class Completed:
    item: NormalisedRow  # normalised again, with the found servers
    found: str  # which servers were found where, e.g. "SMTP server mail.x.com:587 (guessed)."
    guessed: bool  # a server is only the `mail.<domain>` guess


class Completer:
    """Completes the rows of one sheet (one header row)."""

    __slots__ = ("_columns", "_options", "_wide")

    def __init__(self, columns: ColumnMap, options: NormaliseOptions) -> None:
        self._columns = columns
        self._options = options
        missing = [f for f in _FIELDS if f not in columns.index]
        headers = (*columns.headers, *(FIELD_ALIASES[f][0] for f in missing))
        self._wide = ColumnMap.from_headers(headers) if missing else columns

    def lacks_only_servers(self, item: NormalisedRow) -> bool:
        """Whether every problem of the row is a missing IMAP/SMTP host."""
        hosts = {self._columns.header_for(f) for f in HOST_FIELDS}
        return bool(item.problems) and all(
            p.code == "missing_field" and p.column in hosts for p in item.problems
        )

    def missing_hosts(self, raw: RawRow) -> tuple[str, ...]:
        """The host fields the row leaves blank."""
        cells = Cells(raw.cells, self._columns)
        return tuple(f for f in HOST_FIELDS if not cells.text(f))

    def complete(self, raw: RawRow, item: NormalisedRow, servers: Servers) -> Completed:
        """The row normalised again with the found servers in its blank host (and port) cells."""
        cells = list(raw.cells) + [""] * (len(self._wide.headers) - len(raw.cells))
        given = Cells(raw.cells, self._columns)
        found: dict[str, tuple[str, Server]] = {
            "imap_server": ("IMAP", servers.imap),
            "smtp_server": ("SMTP", servers.smtp),
        }
        notes, guessed = [], False
        for field in self.missing_hosts(raw):
            label, server = found[field]
            notes.append(server.describe(label))
            guessed |= server.guessed
            cells[self._wide.index[field]] = server.host
            port_field = _PORT_FIELD[field]
            if not given.text(port_field):
                cells[self._wide.index[port_field]] = str(server.port)
        again = normalise(RawRow(raw.number, tuple(cells)), self._wide, self._options)
        completed = dataclasses.replace(again, cells=item.cells, columns=item.columns)
        return Completed(completed, "; ".join(notes) + ".", guessed)
