"""Turn one raw spreadsheet row into a `ConnectRequest`, or into every problem that stops it.

Pure functions: no I/O. Messages name columns as the user's file names them and never hold a
password; the request is the only place a password goes.

Readings that are ours to choose (documented here because users will ask):
- Instantly provider codes: 1 = custom IMAP/SMTP, 2 = Google, 3 = Microsoft.
- A yes/no security column (EmailBison `SMTP Secure`, BrandJet `smtpTls`, `SSL`) follows
  nodemailer's `secure`: true means TLS from the first byte (port 465 style, so
  `smtp_server_starttls` false), false means STARTTLS. Words: `ssl`, `tls`, `ssl/tls` and `implicit`
  mean TLS from the first byte; `starttls` means STARTTLS; `none` and `plain` mean no encryption.
- A missing last name becomes the email's last name part (`john.smith@` → Smith), else the first
  name again; a missing first name comes from the email's first name part.
- Both passwords are sent per protocol (filled from the shared password), never the body's shared
  `password` field, so the request says exactly what is used where.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from pydantic import ValidationError

from bulk_onboard.aliases import header_key
from bulk_onboard.columns import ColumnMap
from bulk_onboard.errors import UsageError
from bulk_onboard.presets import Preset, preset_for_email, preset_for_provider, provider_for_host
from bulk_onboard.request import INT32_MAX, ConnectRequest, Provider
from bulk_onboard.rows import Problem, RawRow

T = TypeVar("T")

DEFAULT_IMAP_PORT = 993
DEFAULT_SMTP_PORT = 587

_BLANKS = frozenset({"", "-", "n/a", "none", "null"})
_BOOLEANS = {
    **dict.fromkeys(("true", "yes", "y", "1", "on"), True),
    **dict.fromkeys(("false", "no", "n", "0", "off"), False),
}
_PROVIDERS: dict[str, Provider] = {
    **dict.fromkeys(("gmail", "google", "googleworkspace", "gsuite", "2"), "gmail"),
    **dict.fromkeys(
        ("outlook", "microsoft", "microsoft365", "office365", "o365", "m365", "3"), "outlook"
    ),
    **dict.fromkeys(
        ("custom", "smtp", "imap", "imapsmtp", "smtpimap", "other", "zoho", "1"), "custom"
    ),
}
# Value of a security column (as `header_key` gives it) -> how SMTP is encrypted: "tls" from the
# first byte, "starttls" after the greeting, or "none".
_SECURITY = {
    **dict.fromkeys(("ssl", "tls", "ssltls", "implicit", "implicittls", "smtps"), "tls"),
    **dict.fromkeys(("starttls", "explicit", "explicittls"), "starttls"),
    **dict.fromkeys(("none", "plain", "unencrypted", "noencryption"), "none"),
    **{word: "tls" if secure else "starttls" for word, secure in _BOOLEANS.items()},
}
_AUTH_TYPES = {"plain": "plain", "login": "login", "crammd5": "cram_md5"}
_STARTTLS_BY_PORT = {25: True, 587: True, 2525: True, 465: False}

# At most 10 digits: Python refuses to parse very long digit strings, and no port or id needs more.
_WHOLE_NUMBER = re.compile(r"(\d{1,10})(?:\.0*)?")
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*")
# Deliberately simpler than RFC 5322, and not email-validator: that refuses `.test` domains.
_ATOM = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+"
_EMAIL = re.compile(
    rf"(?=.{{3,254}}$){_ATOM}(?:\.{_ATOM})*@(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+"
    r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})"
)
# Google shows app passwords as four groups of four letters. Matching that layout, not just "16
# letters once the spaces go", keeps a passphrase like "my long pass phrase" intact.
_APP_PASSWORD = re.compile(r"[a-zA-Z]{4}(?:[ \u00a0][a-zA-Z]{4}){3}")
_NAME_SEPARATORS = re.compile(r"[._+\-]+")

_MODEL_CODES = {
    "email": "invalid_email",
    "imap_server_port": "invalid_port",
    "smtp_server_port": "invalid_port",
}


@dataclass(frozen=True, slots=True)
class NormaliseOptions:
    """Run-wide choices: `--provider` and `--dry-run` (sent as the body's `test: true`)."""

    default_provider: str | None = None
    test: bool = False

    def __post_init__(self) -> None:
        if self.default_provider is None:
            return
        provider = _PROVIDERS.get(header_key(self.default_provider))
        if provider is None:
            raise UsageError(
                f"--provider must be gmail, outlook or custom, not '{self.default_provider}'."
            )
        object.__setattr__(self, "default_provider", provider)


@dataclass(frozen=True, slots=True)
class NormalisedRow:
    """One row after normalising: a request to send, or the problems that stop it."""

    row: int
    email: str
    request: ConnectRequest | None  # None iff problems
    problems: tuple[Problem, ...]
    notes: tuple[str, ...]
    original: dict[str, str]  # report header -> raw cell, secret columns blanked


class _Cells:
    """Reads one row's cells by field, and collects at most one problem per column."""

    __slots__ = ("blamed", "cells", "columns", "problems")

    def __init__(self, cells: tuple[str, ...], columns: ColumnMap) -> None:
        self.columns = columns
        self.problems: list[Problem] = []
        self.blamed: set[str] = set()
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
        i = self.columns.index.get(field)
        return "" if i is None else self.cells[i]

    def text(self, field: str) -> str:
        i = self.columns.index.get(field)
        if i is None:
            return ""
        value = self.cells[i].strip()
        return "" if value.lower() in _BLANKS else value

    def secret(self, field: str) -> str:
        # Kept exactly as typed, spaces included: only the line ending a paste adds goes.
        value = self.raw(field).rstrip("\r\n")
        return "" if value.strip().lower() in _BLANKS else value

    def fail(self, code: str, field: str, template: str, column: str | None = None) -> None:
        header = column or self.columns.header_for(field)
        if header in self.blamed:
            return
        self.blamed.add(header)
        self.problems.append(Problem(code, header, template.format(column=f"'{header}'")))

    def failed(self, field: str) -> bool:
        return self.columns.header_for(field) in self.blamed

    def whole(self, field: str, code: str, high: int, example: int) -> int | None:
        """A whole number from 1 to `high` (`993`, `993.0`), else None and a problem."""
        value = self.text(field)
        if not value:
            return None
        match = _WHOLE_NUMBER.fullmatch(value)
        if match and 1 <= int(match[1]) <= high:
            return int(match[1])
        self.fail(
            code, field, f"{{column}} must be a whole number from 1 to {high}, such as {example}."
        )
        return None

    def host(self, field: str) -> str:
        value = self.text(field).lower().rstrip(".")
        if value and not _HOST.fullmatch(value):
            self.fail(
                "invalid_value",
                field,
                "{column} must be a server name such as mail.example.com, with no scheme or port.",
            )
        return value

    def choice(self, field: str, table: Mapping[str, T], allowed: str) -> T | None:
        """The table's value for the cell (compared by `header_key`; `2.0` reads as `2`)."""
        value = self.text(field)
        if not value:
            return None
        number = _WHOLE_NUMBER.fullmatch(value)
        found = table.get(number[1] if number else header_key(value))
        if found is None:
            self.fail("invalid_value", field, f"{{column}} must be {allowed}.")
        return found

    def flag(self, field: str) -> bool | None:
        return self.choice(field, _BOOLEANS, "true or false (or yes/no, 1/0)")

    def security(self) -> str | None:
        """What a security column asks for: "tls", "starttls" or "none"."""
        # Here `none` is a value (no encryption), not one of the ways of writing a blank.
        if header_key(self.raw("smtp_security")) == "none":
            return "none"
        return self.choice(
            "smtp_security",
            _SECURITY,
            "ssl, tls, starttls or none (or true/false for TLS from the start)",
        )


@dataclass(frozen=True, slots=True)
class _Protocol:
    label: str
    host_field: str
    port_field: str
    username_field: str
    password_field: str
    default_port: int


_IMAP = _Protocol(
    "IMAP",
    "imap_server",
    "imap_server_port",
    "imap_server_username",
    "imap_server_password",
    DEFAULT_IMAP_PORT,
)
_SMTP = _Protocol(
    "SMTP",
    "smtp_server",
    "smtp_server_port",
    "smtp_server_username",
    "smtp_server_password",
    DEFAULT_SMTP_PORT,
)


def normalise(raw: RawRow, columns: ColumnMap, options: NormaliseOptions) -> NormalisedRow:
    """Normalise and validate one row, reporting every problem it has at once."""
    c = _Cells(raw.cells, columns)
    notes: list[str] = []

    email, email_ok = _email(c)
    domain_preset = preset_for_email(email) if email_ok else None
    if domain_preset is not None and domain_preset.oauth_only:
        c.fail(
            "oauth_required",
            "email",
            "Microsoft ended password sign-in for third-party apps on personal Outlook.com, "
            "Hotmail, Live and MSN accounts on 16 Sep 2024; connect this mailbox with OAuth in "
            "MailReach instead.",
        )
    smtp_only = c.flag("smtp_only")
    security = c.security()
    imap_host, smtp_host = c.host(_IMAP.host_field), c.host(_SMTP.host_field)
    provider = _provider(c, options, domain_preset, imap_host, smtp_host)
    preset = domain_preset or preset_for_provider(provider)
    filled: list[str] = []
    imap_host, imap_port = _server(c, notes, filled, _IMAP, imap_host, preset, not smtp_only)
    smtp_host, smtp_port = _server(
        c, notes, filled, _SMTP, smtp_host, preset, True, 465 if security == "tls" else None
    )
    if preset is not None and filled:
        notes.insert(0, f"{' and '.join(filled)} settings filled from the {preset.name} preset.")
    first_name, last_name = _names(c, notes, email if email_ok else "")
    imap_password, smtp_password = _passwords(
        c, notes, provider, (imap_host, smtp_host), imap_needed=not smtp_only
    )
    username = c.text("username")
    data: dict[str, object | None] = {
        "email": email,
        "first_name": first_name,
        "last_name": last_name,
        "provider": provider,
        "id": c.whole("id", "invalid_value", INT32_MAX, 12345),
        "smtp_server_starttls": _starttls(c, security, smtp_port),
        "smtp_server_auth_type": c.choice(
            "smtp_server_auth_type", _AUTH_TYPES, "plain, login or cram_md5"
        ),
        "smtp_only": smtp_only,
        "imap_issue": c.flag("imap_issue"),
        "spamchecker_only": c.flag("spamchecker_only"),
        "test": True if options.test else None,
    }
    for proto, host, port, password in (
        (_IMAP, imap_host, imap_port, imap_password),
        (_SMTP, smtp_host, smtp_port, smtp_password),
    ):
        if host:
            data[proto.host_field] = host
            data[proto.port_field] = port
            data[proto.username_field] = c.text(proto.username_field) or username or email or None
            data[proto.password_field] = password or None
    request = None
    if not c.problems:
        try:
            request = ConnectRequest.model_validate(
                {name: value for name, value in data.items() if value is not None}
            )
        except ValidationError as exc:
            c.problems.extend(problems_from_validation_error(exc, columns))
    return NormalisedRow(
        row=raw.number,
        email=email,
        request=request,
        problems=tuple(c.problems),
        notes=tuple(notes),
        original=_original(c.cells, columns),
    )


def _email(c: _Cells) -> tuple[str, bool]:
    email = c.text("email").lower()
    if not email:
        c.fail("missing_field", "email", "{column} is empty; fill in the mailbox's email address.")
    elif not _EMAIL.fullmatch(email):
        c.fail(
            "invalid_email",
            "email",
            "{column} is not a valid email address; write it as name@example.com.",
        )
    else:
        return email, True
    return email, False


def _provider(
    c: _Cells,
    options: NormaliseOptions,
    domain_preset: Preset | None,
    imap_host: str,
    smtp_host: str,
) -> Provider:
    named = c.choice(
        "provider",
        _PROVIDERS,
        "gmail, outlook or custom (Google, Microsoft, SMTP and Instantly's 1, 2, 3 also work)",
    )
    if named is not None:
        return named
    by_host = provider_for_host(imap_host) or provider_for_host(smtp_host)
    if by_host is not None:
        return by_host
    if domain_preset is not None:
        return domain_preset.provider
    return _PROVIDERS.get(options.default_provider or "", "custom")


def _server(
    c: _Cells,
    notes: list[str],
    filled: list[str],
    proto: _Protocol,
    host: str,
    preset: Preset | None,
    required: bool,
    default_port: int | None = None,
) -> tuple[str, int | None]:
    """The host and port to use for one protocol, from the row or else from the preset."""
    port = c.whole(proto.port_field, "invalid_port", 65535, proto.default_port)
    if preset is None:
        known = None
    elif proto is _IMAP:
        known = (preset.imap_host, preset.imap_port)
    else:
        known = (preset.smtp_host, preset.smtp_port)
    if not host:
        if known is not None and required:
            filled.append(proto.label)
            return known[0], port or known[1]
        if required:
            c.fail(
                "missing_field",
                proto.host_field,
                f"{{column}} is empty and the email's domain is not a known provider's; fill in "
                f"the {proto.label} server's host name.",
            )
        return "", port
    if port is None and not c.failed(proto.port_field):
        if known is not None and known[0] == host:
            port = known[1]
        else:
            port = default_port or proto.default_port
        tls = "STARTTLS" if _STARTTLS_BY_PORT.get(port) else "TLS"
        notes.append(f"'{c.columns.header_for(proto.port_field)}' was empty; used {port} ({tls}).")
    return host, port


def _starttls(c: _Cells, security: str | None, smtp_port: int | None) -> bool | None:
    """MailReach's own column first, then a security column, then what the port implies."""
    explicit = c.flag("smtp_server_starttls")
    if explicit is not None:
        return explicit
    if security is not None:
        return security == "starttls"
    return _STARTTLS_BY_PORT.get(smtp_port) if smtp_port else None


def _names(c: _Cells, notes: list[str], email: str) -> tuple[str, str]:
    first, last = c.text("first_name"), c.text("last_name")
    if not first and not last:
        words = c.text("name").split()
        first, last = (" ".join(words[:-1]), words[-1]) if len(words) > 1 else ("".join(words), "")
    if first and last:
        return first, last
    guess = _names_in_email(email)
    if not first and not last and guess:
        first, last = guess[0], guess[-1]
        notes.append(f"Name was missing; used '{first} {last}' from the email.")
    elif not first and guess:
        first = guess[0]
        notes.append(f"First name was missing; used '{first}' from the email.")
    if not first:
        # Blame the single name column when that is what the file uses for names.
        only_name = "name" in c.columns.index and "first_name" not in c.columns.index
        blank = ("first_name",) if last else ("first_name", "last_name")
        for field in ("name",) if only_name else blank:
            c.fail(
                "missing_field",
                field,
                "{column} is empty and no name can be read from the email; fill in the name.",
            )
    elif not last and len(guess) > 1:
        last = guess[-1]
        notes.append(f"Last name was missing; used '{last}' from the email.")
    elif not last:
        last = first
        notes.append(f"Last name was missing; used the first name '{first}' again.")
    return first, last


def _names_in_email(email: str) -> list[str]:
    """`john.smith2@` -> [John, Smith]: the letters of each part of the address's local part."""
    local = email.partition("@")[0]
    parts = (
        "".join(ch for ch in part if not ch.isdigit()) for part in _NAME_SEPARATORS.split(local)
    )
    return [part.capitalize() for part in parts if part]


def _passwords(
    c: _Cells,
    notes: list[str],
    provider: Provider,
    hosts: tuple[str, str],
    imap_needed: bool,
) -> tuple[str, str]:
    shared = c.secret("password")
    imap, smtp = c.secret(_IMAP.password_field) or shared, c.secret(_SMTP.password_field) or shared
    if provider == "gmail" or "gmail" in (provider_for_host(hosts[0]), provider_for_host(hosts[1])):
        fixed = _app_password(imap), _app_password(smtp)
        if fixed != (imap, smtp):
            notes.append("Removed the spaces Google shows inside its 16-letter app password.")
        imap, smtp = fixed
    both_missing = not smtp and not (imap_needed and imap)
    for proto, password, needed in ((_IMAP, imap, imap_needed), (_SMTP, smtp, True)):
        if needed and not password:
            own_column = proto.password_field in c.columns.index
            what = f"{proto.label} password" if own_column or not both_missing else "password"
            c.fail(
                "missing_field",
                proto.password_field if own_column else "password",
                f"No {what} given; fill in {{column}}.",
            )
    return imap, smtp


def _app_password(password: str) -> str:
    """A Google app password without the spaces Google displays in it; anything else unchanged."""
    if _APP_PASSWORD.fullmatch(password.strip()):
        return "".join(password.split())
    return password


def problems_from_validation_error(
    error: ValidationError, columns: ColumnMap
) -> tuple[Problem, ...]:
    """The model's complaints as Problems naming the user's columns, one per column.

    The row checks above catch everything the model would refuse, with better words; this is the
    net under them, so a gap between the two still fails the row rather than the run.
    """
    problems: dict[str, Problem] = {}
    # include_input=False: the offending value may be a password.
    for detail in error.errors(include_url=False, include_context=False, include_input=False):
        field = str(detail["loc"][0]) if detail["loc"] else "email"
        header = columns.header_for(field)
        if detail["type"] in ("missing", "string_too_short"):
            problem = Problem("missing_field", header, f"'{header}' is empty; fill it in.")
        else:
            reason = detail["msg"][:1].lower() + detail["msg"][1:]
            message = f"'{header}' is not accepted by MailReach ({reason}); correct it."
            problem = Problem(_MODEL_CODES.get(field, "invalid_value"), header, message)
        problems.setdefault(header, problem)
    return tuple(problems.values())


def _original(cells: tuple[str, ...], columns: ColumnMap) -> dict[str, str]:
    original = dict(zip(columns.report_headers, cells, strict=False))
    for i in columns.secret_columns:
        original[columns.report_headers[i]] = ""
    return original
