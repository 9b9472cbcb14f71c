"""Read one row's cells as values: blanks, whole numbers, hosts, emails, yes/no and security words.

Pure functions: no I/O. `Cells` records at most one problem per column, naming the column as the
user's file names it; the cleaners below it reshape a value without judging it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import TypeVar

from bulk_onboard.base.redaction import APP_PASSWORD
from bulk_onboard.sheet.aliases import header_key
from bulk_onboard.sheet.columns import ColumnMap
from bulk_onboard.sheet.table import Problem

T = TypeVar("T")

_BLANKS = frozenset({"", "-", "n/a", "none", "null"})
_LONGEST_BLANK = max(map(len, _BLANKS))
_REMEMBERED_CHARS = 40
_BOOLEANS = {
    **dict.fromkeys(("true", "yes", "y", "1", "on"), True),
    **dict.fromkeys(("false", "no", "n", "0", "off"), False),
}
# Value of a security column (as `header_key` gives it) -> how SMTP is encrypted: "tls" from the
# first byte, "starttls" after the greeting, "secure" (encrypted, the port says which way) or
# "none". Exports write TLS, SSL, SSL/TLS or secure=true for any encrypted server, 587 included,
# where it can only mean STARTTLS: only the words that name implicit TLS insist on it.
_SECURITY = {
    **dict.fromkeys(("ssl", "tls", "ssltls", "tlsssl"), "secure"),
    **dict.fromkeys(("implicit", "implicittls", "smtps"), "tls"),
    **dict.fromkeys(("starttls", "explicit", "explicittls"), "starttls"),
    **dict.fromkeys(("none", "plain", "unencrypted", "noencryption"), "none"),
    # nodemailer's `secure`: false is "not TLS from the first byte", so STARTTLS.
    **{word: "secure" if secure else "starttls" for word, secure in _BOOLEANS.items()},
}

# At most 10 digits: Python refuses to parse very long digit strings, and no port or id needs more.
_MAX_DIGITS = 10
HIGHEST_PORT = 65535
_WHOLE_NUMBER = re.compile(rf"(\d{{1,{_MAX_DIGITS}}})(?:\.0*)?")
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*")
# Deliberately simpler than RFC 5322, and not email-validator: that refuses `.test` domains.
_ATOM = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+"
_EMAIL = re.compile(
    rf"(?=.{{3,254}}$){_ATOM}(?:\.{_ATOM})*@(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+"
    r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})"
)
# A host with its port after it, as some exports write it: `smtp.example.com:587`.
_HOST_AND_PORT = re.compile(r"(.+?)\.?:(\d{1,5})")
_NAME_SEPARATORS = re.compile(r"[._+\-]+")
# An address, then a separator and more: `a@x.com:secret`, `a@x.com secret`, `a@x.com;...`.
_ADDRESS_THEN_MORE = re.compile(r"([^\s:;,|]+)[\s:;,|]+\S")


class Cells:
    """Reads one row's cells by field, and collects at most one problem per column."""

    __slots__ = ("blamed", "cells", "columns", "host_ports", "index", "problems", "withheld")

    def __init__(self, cells: tuple[str, ...], columns: ColumnMap) -> None:
        self.columns = columns
        self.index = columns.index
        self.problems: list[Problem] = []
        self.blamed: set[str] = set()
        # Columns whose cell a report must not echo for this row: it may hold a password.
        self.withheld: frozenset[int] = frozenset()
        # Host field -> the port its cell named after the host (`host`); None: none did.
        self.host_ports: dict[str, int] | None = None
        if "\x00" in "".join(cells):
            for i, cell in enumerate(cells):
                if "\x00" in cell:
                    self.fail(
                        "invalid_value",
                        "",
                        "{column} contains a NUL byte, which no mail server accepts; re-type the "
                        "cell or re-export the sheet as UTF-8 CSV or XLSX.",
                        column=columns.report_headers[i],
                    )
            # Read on without them, so the row's other problems are still found and reported.
            cells = tuple(cell.replace("\x00", "") for cell in cells)
        self.cells = cells

    def raw(self, field: str) -> str:
        """The cell exactly as read, or "" when the file has no column for `field`."""
        i = self.index.get(field)
        return "" if i is None else self.cells[i]

    def text(self, field: str) -> str:
        """The cell without surrounding spaces; "" for a blank such as `-`, `N/A` or `null`."""
        i = self.index.get(field)
        if i is None:
            return ""
        value = self.cells[i].strip()
        # Lower-casing never shortens a string, so a longer value can't be a blank spelling.
        if len(value) > _LONGEST_BLANK or value.lower() not in _BLANKS:
            return value
        return ""

    def secret(self, field: str) -> str:
        """A password cell: "" when blank, else as typed without a trailing line break."""
        i = self.index.get(field)
        if i is None:
            return ""
        # Kept exactly as typed, spaces included: only the line ending a paste adds goes.
        value = self.cells[i].rstrip("\r\n")
        return "" if value.strip().lower() in _BLANKS else value

    def fail(self, code: str, field: str, template: str, column: str | None = None) -> None:
        """Record a problem with `field`'s column (or `column`) unless it already has one."""
        header = column or self.columns.header_for(field)
        if header in self.blamed:
            return
        self.blamed.add(header)
        self.problems.append(Problem(code, header, template.format(column=f"'{header}'")))

    def withhold(self, *fields: str) -> None:
        """Keep the cells of `fields` (those the file has) out of every report of this row."""
        self.withheld |= {self.index[field] for field in fields if field in self.index}

    def failed(self, field: str) -> bool:
        """Whether `field`'s column already has a problem."""
        return self.columns.header_for(field) in self.blamed

    def whole(self, field: str, code: str, high: int, example: int) -> int | None:
        """A whole number from 1 to `high` (`993`, `993.0`), else None and a problem."""
        value = self.text(field)
        if not value:
            return None
        if value.isascii() and value.isdigit() and len(value) <= _MAX_DIGITS:
            number = int(value)  # the usual `993`, without the pattern's cost
        elif match := _WHOLE_NUMBER.fullmatch(value):
            number = int(match[1])
        else:
            number = 0
        if 1 <= number <= high:
            return number
        self.fail(
            code, field, f"{{column}} must be a whole number from 1 to {high}, such as {example}."
        )
        return None

    def host(self, field: str, notes: list[str] | None = None) -> str:
        """A server name, lower-cased and without a trailing dot; a problem if it is not one.

        A name followed by a port (`smtp.example.com:587`) gives the name; the port is kept in
        `host_ports` for the port column to be read against. A name with letters outside ASCII
        (`smtp.müller.de`) gives its ASCII form, as DNS knows it, with a note.
        """
        value = self.text(field).lower().rstrip(".")
        if not value or _HOST.fullmatch(value):
            return value
        name, port = value, None
        if (both := _HOST_AND_PORT.fullmatch(value)) and 1 <= int(both[2]) <= HIGHEST_PORT:
            name, port = both[1], int(both[2])
        found = name if _HOST.fullmatch(name) else _ascii_host(name)
        if found is None:
            self.fail(
                "invalid_value",
                field,
                "{column} must be a server name such as mail.example.com (or "
                "mail.example.com:587), with no scheme.",
            )
            return value
        if port is not None:
            self.host_ports = {**(self.host_ports or {}), field: port}
        if found != name and notes is not None:
            header = self.columns.header_for(field)
            notes.append(f"'{header}' has letters outside ASCII; used its ASCII form, {found}.")
        return found

    def email(self) -> tuple[str, bool]:
        """The email, lower-cased, and whether it is a valid address; a problem if it is not.

        An address followed by more (`a@x.com:pass`, as mailbox sellers deliver them) gives
        the address alone, and the cell is withheld from reports: the rest may be a password.
        """
        email = self.text("email").lower()
        if not email:
            self.fail(
                "missing_field", "email", "{column} is empty; fill in the mailbox's email address."
            )
        elif _EMAIL.fullmatch(email):  # is_email, without a call on every row
            return email, True
        elif (head := _ADDRESS_THEN_MORE.match(email)) and is_email(head[1]):
            self.fail(
                "invalid_email",
                "email",
                "{column} holds more than the address; keep only the address there (a "
                "password goes in a Password column).",
            )
            self.withhold("email")
            return head[1], False
        elif (ascii_email := _with_ascii_domain(email)) is not None:
            self.fail(
                "invalid_email",
                "email",
                f"{{column}} has letters outside ASCII in its domain: write the address in its "
                f"ASCII form, {as_text(ascii_email)}.",
            )
        else:
            self.fail(
                "invalid_email",
                "email",
                "{column} is not a valid email address; write it as name@example.com.",
            )
        return email, False

    def choice(self, field: str, table: Mapping[str, T], allowed: str) -> T | None:
        """The table's value for the cell (compared by `header_key`; `2.0` reads as `2`)."""
        value = self.text(field)
        if not value:
            return None
        found = table.get(_choice_key(value))
        if found is None:
            self.fail("invalid_value", field, f"{{column}} must be {allowed}.")
        return found

    def flag(self, field: str) -> bool | None:
        """A yes/no cell as True or False (also true/false, y/n, 1/0, on/off); None when blank."""
        return self.choice(field, _BOOLEANS, "true or false (or yes/no, 1/0)")

    def security(self) -> str | None:
        """What a security column asks for: "tls", "starttls", "secure" or "none"."""
        # Here `none` is a value (no encryption), not one of the ways of writing a blank.
        if _choice_key(self.raw("smtp_security")) == "none":
            return "none"
        return self.choice(
            "smtp_security",
            _SECURITY,
            "ssl, tls, starttls, implicit or none (or true/false)",
        )


def _choice_key(value: str) -> str:
    """How a choice cell is looked up: `2.0` as `2`, anything else by `header_key`."""
    # A choice column holds a handful of distinct short values, so their keys are remembered.
    return _short_choice_key(value) if len(value) <= _REMEMBERED_CHARS else _key_of(value)


def _key_of(value: str) -> str:
    number = _WHOLE_NUMBER.fullmatch(value)
    return number[1] if number else header_key(value)


_short_choice_key = lru_cache(maxsize=1024)(_key_of)


def as_text(value: str) -> str:
    """`value` to put into a problem's template (`Cells.fail` formats it): its braces kept."""
    return value.replace("{", "{{").replace("}", "}}")


def _ascii_host(name: str) -> str | None:
    """An internationalised host name (`smtp.müller.de`) in the ASCII form DNS uses
    (`smtp.xn--mller-kva.de`, IDNA 2008 as browsers map it); None if it is no such name."""
    if name.isascii():
        return None
    import idna  # only for the rare name outside ASCII: its tables cost start-up time

    try:
        found = idna.encode(name, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return None
    return found if _HOST.fullmatch(found) else None


def _with_ascii_domain(email: str) -> str | None:
    """A lower-cased address whose only fault is letters outside ASCII in its domain, with its
    domain in ASCII (`jo@müller.de` -> `jo@xn--mller-kva.de`); None for any other address."""
    local, at, domain = email.rpartition("@")
    if not at or domain.isascii():
        return None
    ascii_domain = _ascii_host(domain)
    if ascii_domain is None or not is_email(f"{local}@{ascii_domain}"):
        return None
    return f"{local}@{ascii_domain}"


def is_email(text: str) -> bool:
    """Whether lower-cased `text` is an address as the email column must hold one."""
    return _EMAIL.fullmatch(text) is not None


def app_password(password: str) -> str:
    """A Google app password without the spaces Google displays in it; anything else unchanged."""
    if APP_PASSWORD.fullmatch(password.strip()):
        return "".join(password.split())
    return password


def names_in_email(email: str) -> list[str]:
    """`john.smith2@` -> [John, Smith]: the letters of each part of the address's local part."""
    local = email.partition("@")[0]
    parts = (
        "".join(ch for ch in part if not ch.isdigit()) for part in _NAME_SEPARATORS.split(local)
    )
    return [part.capitalize() for part in parts if part]
