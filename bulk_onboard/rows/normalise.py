"""Turn one raw spreadsheet row into a `ConnectRequest`, or into every problem that stops it.

Pure functions: no I/O. Messages name columns as the user's file names them and never hold a
password; the request is the only place a password goes.

Readings that are ours to choose (documented here because users will ask):
- Instantly provider codes: 1 = custom IMAP/SMTP, 2 = Google, 3 = Microsoft.
- A security column (EmailBison `SMTP Secure`, BrandJet `smtpTls`, `SSL`, `SMTP Security`) is
  read against the SMTP port: `ssl`, `tls`, `ssl/tls` and yes/true mean "encrypted", and the
  port says how (STARTTLS on 587/25/2525, TLS from the first byte on 465 and other ports);
  `implicit`/`smtps` mean TLS from the first byte and `starttls`/`explicit`/no/false mean
  STARTTLS, and either fails the row (`smtp_security_conflict`) on a port that uses the other
  way; `none` and `plain` mean no encryption. With no port, "encrypted" means 465.
- A missing last name becomes the email's last name part (`john.smith@` → Smith), else the first
  name again; a missing first name comes from the email's first name part.
- Both passwords are sent per protocol (filled from the shared password), never the body's shared
  `password` field, so the request says exactly what is used where.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType

from pydantic import ValidationError

from bulk_onboard.base.redaction import MIN_ANYWHERE_CHARS, MIN_CORE_CHARS
from bulk_onboard.errors import UsageError
from bulk_onboard.rows.account_settings import (
    SETTINGS,
    TAGS_FIELD,
    TagRef,
    read_tags,
    setting_problem,
)
from bulk_onboard.rows.mail_servers import (
    IMAP,
    SMTP,
    host_and_port,
    host_provider,
    passwords,
    smtp_starttls,
)
from bulk_onboard.rows.presets import (
    Preset,
    auth_type_for_smtp_host,
    preset_for_domain,
    preset_for_provider,
)
from bulk_onboard.rows.request import INT32_MAX, ConnectRequest, Provider
from bulk_onboard.rows.values import Cells, names_in_email
from bulk_onboard.rows.workspace_route import (
    CREDENTIAL_FIELDS,
    WORKSPACE_FIELD,
    is_bare,
    kind_of,
    route,
)
from bulk_onboard.sheet.aliases import header_key
from bulk_onboard.sheet.columns import ColumnMap
from bulk_onboard.sheet.table import Problem, RawRow

_PROVIDERS: dict[str, Provider] = {
    **dict.fromkeys(("gmail", "google", "googleworkspace", "gsuite", "2"), "gmail"),
    **dict.fromkeys(
        ("outlook", "microsoft", "microsoft365", "office365", "o365", "m365", "3"), "outlook"
    ),
    **dict.fromkeys(
        ("custom", "smtp", "imap", "imapsmtp", "smtpimap", "other", "zoho", "1"), "custom"
    ),
}
_AUTH_TYPES = {"plain": "plain", "login": "login", "crammd5": "cram_md5"}
# Security words that, with no SMTP port, mean 465 (the port of TLS from the first byte).
_IMPLICIT = ("tls", "secure")

# A sheet's rows share a few domains; what the preset table says of each is remembered. An email
# that passed the check has at most 254 characters, so the cache stays small.
_domain_preset = lru_cache(maxsize=4096)(preset_for_domain)
# The request model's own validator, called without `model_validate`'s per-call bookkeeping.
_validate_request = ConnectRequest.__pydantic_validator__.validate_python

_MODEL_CODES = {
    "email": "invalid_email",
    "imap_server_port": "invalid_port",
    "smtp_server_port": "invalid_port",
}


@dataclass(frozen=True, slots=True)
class NormaliseOptions:
    """Run-wide choices: `--provider`, `--dry-run` (sent as the body's `test: true`) and the
    account settings of `--set` (a sheet's cell wins over them), already checked."""

    default_provider: str | None = None
    test: bool = False
    settings: tuple[tuple[str, bool | int | str], ...] = ()
    # `run` and `validate`: rows may go to an email workspace (rows/workspace_route.py);
    # `--workspace`'s workspace ids by kind ("google", "outlook").
    route_workspaces: bool = False
    workspaces: tuple[tuple[str, int], ...] = ()

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
    # The row's cells as read (NULs dropped) and the map naming them: `original` is made from
    # them only when a report echoes the row (a failure), not for every row read. The cells
    # hold the passwords: never in the repr.
    cells: tuple[str, ...] = field(repr=False)
    columns: ColumnMap = field(repr=False)
    # Sent after the connect: `POST /v1/accounts/{id}` with these, and a link per tag.
    settings: Mapping[str, bool | int | str] = field(default_factory=lambda: _NO_SETTINGS)
    tags: tuple[TagRef, ...] = ()
    # An email workspace row (no request: its address is linked in a batch), and why it went.
    workspace: int | None = None
    workspace_why: str = ""
    # Columns no report may echo for this row: where a password may be (rows.values.Cells).
    withheld: frozenset[int] = frozenset()

    @property
    def original(self) -> dict[str, str]:
        """Report header -> raw cell, with the row's secrets blanked."""
        return _original(self.cells, self.columns, self.withheld)


_NO_SETTINGS: Mapping[str, bool | int | str] = MappingProxyType({})


def normalise(raw: RawRow, columns: ColumnMap, options: NormaliseOptions) -> NormalisedRow:
    """Normalise and validate one row, reporting every problem it has at once."""
    c = Cells(raw.cells, columns)
    if raw.problem is not None:  # the row's layout: listed first, so its stage is `input`
        c.problems.insert(0, raw.problem)
    if raw.shifted and columns.secret_columns:
        # A delimiter in an unquoted cell moved the cells after it right, a password included:
        # from the first password column on, no cell can be trusted to be what its header says.
        c.withheld = frozenset(range(min(columns.secret_columns), len(raw.cells)))
    # This runs once per row of sheets with a million rows: the optional columns most sheets
    # don't have are skipped by one look at `present` instead of being read as blanks.
    present = columns.index
    notes: list[str] = []

    email, email_ok = c.email()
    domain_preset = _domain_preset(email.rpartition("@")[2]) if email_ok else None
    if domain_preset is not None and domain_preset.oauth_only:
        c.fail(
            "oauth_required",
            "email",
            "Microsoft ended password sign-in for third-party apps on personal Outlook.com, "
            "Hotmail, Live and MSN accounts on 16 Sep 2024; connect this mailbox with OAuth in "
            "MailReach instead.",
        )
    smtp_only = c.flag("smtp_only") if "smtp_only" in present else None
    security = c.security() if "smtp_security" in present else None
    imap_host, smtp_host = c.host(IMAP.host_field, notes), c.host(SMTP.host_field, notes)
    if options.route_workspaces and (
        routed := _workspace(c, options, domain_preset, imap_host, smtp_host)
    ):
        settings, tags = _settings(c, options)
        workspace, why = routed
        problems = tuple(c.problems)
        return NormalisedRow(
            raw.number,
            email,
            None,
            problems,
            (),
            c.cells,
            columns,
            settings,
            tags,
            workspace,
            why,
            c.withheld,
        )
    provider = _provider(c, options, domain_preset, imap_host, smtp_host)
    preset = domain_preset or preset_for_provider(provider)
    filled: list[str] = []
    imap_host, imap_port = host_and_port(c, notes, filled, IMAP, imap_host, preset, not smtp_only)
    smtp_host, smtp_port = host_and_port(
        c, notes, filled, SMTP, smtp_host, preset, True, 465 if security in _IMPLICIT else None
    )
    if preset is not None and filled:
        notes.insert(0, f"{' and '.join(filled)} settings filled from the {preset.name} preset.")
    first_name, last_name = _names(c, notes, email if email_ok else "")
    imap_password, smtp_password = passwords(
        c, notes, provider, (imap_host, smtp_host), imap_needed=not smtp_only
    )
    if not email_ok and "@" not in email and columns.index["email"] in c.withheld:
        email = ""  # a password column held an address: this is the password, most likely
    # Read in the order of the request's fields, which is the order their problems are listed in.
    account_id = c.whole("id", "invalid_value", INT32_MAX, 12345) if "id" in present else None
    starttls = smtp_starttls(c, security, smtp_port)
    auth_type = (
        c.choice("smtp_server_auth_type", _AUTH_TYPES, "plain, login or cram_md5")
        if "smtp_server_auth_type" in present
        else None
    ) or (auth_type_for_smtp_host(smtp_host) if smtp_host else None)
    imap_issue = c.flag("imap_issue") if "imap_issue" in present else None
    spamchecker_only = c.flag("spamchecker_only") if "spamchecker_only" in present else None
    settings, tags = _settings(c, options)
    if c.problems:
        return NormalisedRow(
            raw.number,
            email,
            None,
            tuple(c.problems),
            tuple(notes),
            c.cells,
            columns,
            withheld=c.withheld,
        )
    body: dict[str, object] = {
        "email": email,
        "first_name": first_name,
        "last_name": last_name,
        "provider": provider,
    }
    for name, value in (
        ("id", account_id),
        ("smtp_server_starttls", starttls),
        ("smtp_server_auth_type", auth_type),
        ("smtp_only", smtp_only),
        ("imap_issue", imap_issue),
        ("spamchecker_only", spamchecker_only),
        ("test", True if options.test else None),
    ):
        if value is not None:
            body[name] = value
    username = c.text("username") or email
    for proto, host, port, password in (
        (IMAP, imap_host, imap_port, imap_password),
        (SMTP, smtp_host, smtp_port, smtp_password),
    ):
        if host:
            body[proto.host_field] = host
            if port is not None:
                body[proto.port_field] = port
            body[proto.username_field] = (
                c.text(proto.username_field) if proto.username_field in present else ""
            ) or username
            if password:
                body[proto.password_field] = password
    try:
        request = _validate_request(body)
    except ValidationError as exc:
        problems = problems_from_validation_error(exc, columns)
        return NormalisedRow(raw.number, email, None, problems, tuple(notes), c.cells, columns)
    return NormalisedRow(
        raw.number,
        email,
        request,
        (),
        tuple(notes),
        c.cells,
        columns,
        settings,
        tags,
    )


def _settings(
    c: Cells, options: NormaliseOptions
) -> tuple[Mapping[str, bool | int | str], tuple[TagRef, ...]]:
    """The row's account settings (`--set`'s, overridden by its own cells) and tags."""
    present = c.index
    if not options.settings and TAGS_FIELD not in present and not SETTING_FIELDS & present.keys():
        return _NO_SETTINGS, ()  # the usual sheet: no setting column at all
    settings = dict(options.settings)
    for setting in SETTINGS:
        if setting.name not in present:
            continue
        text = c.text(setting.name)
        if not text:
            continue  # a blank cell leaves the setting as MailReach (or --set) has it
        value = setting.read(text)
        if value is None:
            c.fail("invalid_setting", setting.name, setting_problem(setting, "{column}"))
        else:
            settings[setting.name] = value
    tags: tuple[TagRef, ...] = ()
    if TAGS_FIELD in present:
        refs, problem = read_tags(c.text(TAGS_FIELD))
        if problem is not None:
            c.fail("invalid_value", TAGS_FIELD, problem)
        tags = tuple(refs)
    return MappingProxyType(settings), tags


SETTING_FIELDS = frozenset(setting.name for setting in SETTINGS)


def _workspace(
    c: Cells,
    options: NormaliseOptions,
    domain_preset: Preset | None,
    imap_host: str,
    smtp_host: str,
) -> tuple[int | None, str] | None:
    """The row's email workspace and why (rows/workspace_route.py); None: `imap_auth`. A bad
    Workspace cell gives (None, ...) and a problem."""
    if WORKSPACE_FIELD in c.index and c.text(WORKSPACE_FIELD):
        found = c.whole(WORKSPACE_FIELD, "invalid_value", INT32_MAX, 1234)
        return found, "its Workspace column"
    if not options.workspaces:
        return None
    named = _PROVIDERS.get(header_key(c.text("provider"))) if "provider" in c.index else None
    by_host = host_provider(imap_host) or host_provider(smtp_host)
    kind = kind_of(named, by_host, domain_preset)
    bare = is_bare({field: c.text(field) for field in CREDENTIAL_FIELDS if field in c.index})
    return route(dict(options.workspaces), kind, bare)


def _provider(
    c: Cells,
    options: NormaliseOptions,
    domain_preset: Preset | None,
    imap_host: str,
    smtp_host: str,
) -> Provider:
    named = (
        c.choice(
            "provider",
            _PROVIDERS,
            "gmail, outlook or custom (also Google, Microsoft, SMTP, and Instantly's codes "
            "1 = custom, 2 = Google, 3 = Microsoft)",
        )
        if "provider" in c.index
        else None
    )
    by_host = host_provider(imap_host) or host_provider(smtp_host)
    if named is not None:
        _provider_against_row(c, named, by_host, domain_preset)
        return named
    if by_host is not None:
        return by_host
    if domain_preset is not None:
        return domain_preset.provider
    return _PROVIDERS.get(options.default_provider or "", "custom")


_PROVIDER_NAMES: dict[Provider, str] = {"gmail": "Google", "outlook": "Microsoft"}


def _provider_against_row(
    c: Cells, named: Provider, by_host: Provider | None, domain_preset: Preset | None
) -> None:
    """Fail a provider cell that names Google where the row's servers or address are
    Microsoft's, or the other way round: which one is right only the user knows."""
    if named not in _PROVIDER_NAMES:
        return  # custom: any servers
    if by_host in _PROVIDER_NAMES and by_host != named:
        what, found = "servers are", by_host
    elif domain_preset is not None and domain_preset.provider in _PROVIDER_NAMES:
        what, found = "email's domain is", domain_preset.provider
    else:
        return
    if found != named:
        c.fail(
            "invalid_value",
            "provider",
            f"{{column}} says {named}, but the row's {what} {_PROVIDER_NAMES[found]}'s: correct "
            "it, or leave it blank and the row decides.",
        )


def _names(c: Cells, notes: list[str], email: str) -> tuple[str, str]:
    first, last = c.text("first_name"), c.text("last_name")
    if not first and not last:
        words = c.text("name").split()
        first, last = (" ".join(words[:-1]), words[-1]) if len(words) > 1 else ("".join(words), "")
    if first and last:
        return first, last
    guess = names_in_email(email)
    if not first and not last and guess:
        first, last = guess[0], guess[-1]
        notes.append(f"Name was missing; used '{first} {last}' from the email.")
    elif not first and guess:
        first = guess[0]
        notes.append(f"First name was missing; used '{first}' from the email.")
    if not first and not _NAME_FIELDS & c.index.keys():
        # No name column: the names can only come from the email. An address that failed has
        # its own problem already (once fixed, it gives the names); naming absent columns
        # after it would be noise.
        if email:
            c.fail(
                "missing_field",
                "first_name",
                "No name can be read from the email and the sheet has no name column: add a "
                "First Name and a Last Name column.",
            )
    elif not first:
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


_NAME_FIELDS = frozenset(("first_name", "last_name", "name"))


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


def _original(
    cells: tuple[str, ...], columns: ColumnMap, withheld: frozenset[int]
) -> dict[str, str]:
    """The row's cells by report header, with its secrets blanked: the secret columns, the
    columns withheld for this row, and any cell equal to one of the row's passwords (or holding
    one) whatever its header, compared without case or spaces."""
    original = dict(zip(columns.report_headers, cells, strict=False))
    for i in withheld:
        original[columns.report_headers[i]] = ""
    if secrets := _secrets_of(cells, columns.secret_columns):
        others = _other_columns(columns.secret_columns, len(cells))
        # One look at all the other cells at once: on nearly every row no secret is among them.
        joined = _plain("\0".join([cells[i] for i in others]))
        if any(secret in joined for secret in secrets):
            long = [secret for secret in secrets if len(secret) >= MIN_ANYWHERE_CHARS]
            # Shorter ones where they are a word of their own, from 3 characters: the password
            # `a` must not blank every note holding the word "a".
            short = {secret for secret in secrets.difference(long) if len(secret) >= MIN_CORE_CHARS}
            for i in others:
                value = _plain(cells[i])
                if (
                    value in secrets
                    or any(secret in value for secret in long)
                    or (short and not short.isdisjoint(_words(cells[i])))
                ):
                    original[columns.report_headers[i]] = ""
    original.update(columns.blanked_secrets)
    return original


def _words(text: str) -> set[str]:
    """A cell's words, case-folded, split at spaces and at the marks that set a word apart
    (`pw: abc12`, `(abc12)`): a short password is blanked where it is a word of its own."""
    folded = text.casefold()
    return {*folded.split(), *_WORD_BREAKS.split(folded)}


_WORD_BREAKS = re.compile(r"[\s,;:=|()\[\]{}<>\"'`]+")


def _plain(text: str) -> str:
    """How a cell is compared with a password: case-folded, without any whitespace (a note
    may repeat an app password with the spaces Google shows, or with non-breaking ones)."""
    return "".join(text.split()).casefold()


@lru_cache(maxsize=8)
def _other_columns(secret_columns: frozenset[int], width: int) -> tuple[int, ...]:
    return tuple(i for i in range(width) if i not in secret_columns)


def _secrets_of(cells: tuple[str, ...], secret_columns: frozenset[int]) -> set[str]:
    """The row's secret cells, `_plain`."""
    return {value for i in secret_columns if i < len(cells) and (value := _plain(cells[i]))}
