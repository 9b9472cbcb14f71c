"""Headers map to fields whatever their spelling; the column map refuses what it can't resolve."""

from __future__ import annotations

import unicodedata

import pytest

from bulk_onboard.errors import InputError
from bulk_onboard.sheet.aliases import FIELD_ALIASES, FIELD_BY_KEY, header_key
from bulk_onboard.sheet.columns import ColumnMap, column_letters

# Each vendor's header row, and the field each header must map to (None: kept as unknown).
VENDOR_HEADERS: dict[str, dict[str, str | None]] = {
    "instantly": {
        "Email": "email",
        "First Name": "first_name",
        "Last Name": "last_name",
        "IMAP Username": "imap_server_username",
        "IMAP Password": "imap_server_password",
        "IMAP Host": "imap_server",
        "IMAP Port": "imap_server_port",
        "SMTP Username": "smtp_server_username",
        "SMTP Password": "smtp_server_password",
        "SMTP Host": "smtp_server",
        "SMTP Port": "smtp_server_port",
        "Daily Limit": None,
        "Warmup Enabled": None,
        "Warmup Limit": "config_rampup_target",
        "Warmup Increment": "config_rampup_increase",
        "Tags": "tags",
    },
    "smartlead": {
        "from_name": "name",
        "from_email": "email",
        "user_name": "username",
        "password": "password",
        "smtp_host": "smtp_server",
        "smtp_port": "smtp_server_port",
        "imap_host": "imap_server",
        "imap_port": "imap_server_port",
        "max_email_per_day": None,
        "warmup_enabled": None,
        "total_warmup_per_day": "config_rampup_target",
        "daily_rampup": "config_rampup_increase",
        "signature": "signature",
        "imap_user_name": "imap_server_username",
        "imap_password": "imap_server_password",
        "type": "provider",
    },
    "emailbison": {
        "Name": "name",
        "Email": "email",
        "Password": "password",
        "IMAP Server": "imap_server",
        "IMAP Port": "imap_server_port",
        "SMTP Server": "smtp_server",
        "SMTP Port": "smtp_server_port",
        "Daily Limit": None,
        "SMTP Secure": "smtp_security",
        "IMAP Secure": None,
    },
    "brandjet": {
        "email": "email",
        "fromName": "name",
        "smtpHost": "smtp_server",
        "smtpPort": "smtp_server_port",
        "smtpTls": "smtp_security",
        "imapHost": "imap_server",
        "imapPort": "imap_server_port",
        "imapTls": None,
        "password": "password",
    },
    "ceymail": {
        "from_email": "email",
        "from_name": "name",
        "smtp_username": "smtp_server_username",
        "smtp_password": "smtp_server_password",
        "smtp_host": "smtp_server",
        "smtp_port": "smtp_server_port",
        "imap_username": "imap_server_username",
        "imap_password": "imap_server_password",
        "imap_host": "imap_server",
        "imap_port": "imap_server_port",
    },
    "mailreach": {
        "email": "email",
        "first_name": "first_name",
        "last_name": "last_name",
        "provider": "provider",
        "imap_server": "imap_server",
        "imap_server_port": "imap_server_port",
        "imap_server_username": "imap_server_username",
        "imap_server_password": "imap_server_password",
        "smtp_server": "smtp_server",
        "smtp_server_port": "smtp_server_port",
        "smtp_server_username": "smtp_server_username",
        "smtp_server_password": "smtp_server_password",
        "smtp_server_auth_type": "smtp_server_auth_type",
        "smtp_server_starttls": "smtp_server_starttls",
        "smtp_only": "smtp_only",
        "imap_issue": "imap_issue",
        "spamchecker_only": "spamchecker_only",
        "password": "password",
    },
    "hand-made": {
        "Email Address": "email",
        "Full Name": "name",
        "App Password": "password",
        "Provider": "provider",
        "SMTP Security": "smtp_security",
        "Auth Type": "smtp_server_auth_type",
        "DKIM selector": "dkim_selector",
        "Notes": None,
    },
}


@pytest.mark.parametrize("vendor", sorted(VENDOR_HEADERS))
def test_vendor_headers_map_to_their_fields(vendor: str) -> None:
    expected = VENDOR_HEADERS[vendor]
    columns = ColumnMap.from_headers(list(expected))
    mapped = dict(columns.describe())
    assert {header: mapped.get(header) for header in expected} == expected


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Mailbox", "email"),
        ("E-mail", "email"),
        ("Sender Name", "name"),
        ("IMAP/SMTP Password", "password"),
        ("Type", "provider"),
        ("SMTP Encryption", "smtp_security"),
        ("SSL", "smtp_security"),
        ("Provider Code", "provider"),
        ("MailReach ID", "id"),
        ("Passwort", "password"),
        ("Mot de passe", "password"),
    ],
)
def test_common_hand_made_headers_are_known(header: str, field: str) -> None:
    assert FIELD_BY_KEY[header_key(header)] == field


@pytest.mark.parametrize(
    "header", ["SMTP Host", "smtp_host", "smtpHost", "SMTP-Host", " smtp host ", "SMTP.HOST"]
)
def test_header_key_ignores_case_spaces_and_punctuation(header: str) -> None:
    assert header_key(header) == "smtphost"


def test_every_alias_leads_back_to_its_field() -> None:
    for field, spellings in FIELD_ALIASES.items():
        assert {FIELD_BY_KEY[header_key(spelling)] for spelling in spellings} == {field}


def test_a_bare_id_column_is_not_taken_for_the_mailreach_id() -> None:
    columns = ColumnMap.from_headers(["id", "Email"])
    assert "id" not in columns.index
    assert columns.ignored == ("id",)


def test_unknown_columns_are_listed_as_ignored_in_file_order() -> None:
    columns = ColumnMap.from_headers(["Notes", "Email", "Daily Limit", "Warmup Enabled"])
    assert columns.ignored == ("Notes", "Daily Limit", "Warmup Enabled")


def test_describe_lists_mapped_columns_in_file_order() -> None:
    columns = ColumnMap.from_headers(["SMTP Host", "Notes", "Email", "First Name"])
    assert columns.describe() == [
        ("SMTP Host", "smtp_server"),
        ("Email", "email"),
        ("First Name", "first_name"),
    ]


def test_header_for_gives_the_users_spelling() -> None:
    columns = ColumnMap.from_headers(["E-Mail", "smtpHost"])
    assert columns.header_for("email") == "E-Mail"
    assert columns.header_for("smtp_server") == "smtpHost"


def test_header_for_a_missing_column_gives_its_usual_name() -> None:
    assert ColumnMap.from_headers(["Email"]).header_for("imap_server") == "IMAP Host"


def test_no_email_column_is_an_input_error() -> None:
    with pytest.raises(InputError) as caught:
        ColumnMap.from_headers(["A", "B", "C"])
    assert str(caught.value) == (
        "No email column found: name one of the columns 'Email' (headers seen: A, B, C)."
    )


def test_no_email_column_lists_at_most_ten_headers() -> None:
    with pytest.raises(InputError) as caught:
        ColumnMap.from_headers([f"Head {column_letters(i)}" for i in range(25)])
    assert "Head J and 15 more)." in str(caught.value)
    assert "Head K" not in str(caught.value)


@pytest.mark.parametrize(
    ("first_row", "shown"),
    [
        # A note above the table, taken for the header, holding the shared password.
        (["Password for all mailboxes:", "Zq9-SECRET-771", "", ""], "Password for all mailboxes:"),
        (["Shared pass", "hunterhunter"], "Shared pass"),  # letters only, after a secret's name
        (['Default password: "Zq9-SECRET-771"'], "none"),
        # A data row with its email cell blank: the cells with a digit stay out.
        (["", "Ann", "Lee", "993", "Pw-771"], "Ann, Lee"),
        # A Google app password, letters only, as the first cell of a data row.
        (["abcd efgh ijkl mnop", "John", "Smith"], "John, Smith"),
        # A title ruled with a long run of dashes (once a pattern that backtracked for ever).
        (["Mailbox list " + "-" * 200 + " page 1", "Password"], "Password"),
    ],
)
def test_no_email_column_shows_no_cell_that_may_be_data(first_row: list[str], shown: str) -> None:
    with pytest.raises(InputError) as caught:
        ColumnMap.from_headers(first_row)
    message = str(caught.value)
    assert f"(headers seen: {shown}; " in message
    assert "not shown, as" in message
    assert not any(secret in message for secret in ("SECRET", "hunter", "993", "Pw-", "abcd"))


@pytest.mark.parametrize(
    ("headers", "named"),
    [
        (["Email", "Name", "email"], ["'Email' in column 1 (A)", "'email' in column 3 (C)"]),
        (["Email", "SMTP Host", "smtp_host"], ["'SMTP Host' in column 2 (B)", "'smtp_host'"]),
        (["Email", "Name", "Full Name"], ["'Name' in column 2 (B)", "'Full Name' in column 3"]),
    ],
)
def test_two_columns_for_one_field_is_an_input_error(headers: list[str], named: list[str]) -> None:
    with pytest.raises(InputError) as caught:
        ColumnMap.from_headers(headers)
    message = str(caught.value)
    assert all(part in message for part in named)
    assert "keep one of them" in message


def test_password_columns_are_secret() -> None:
    columns = ColumnMap.from_headers(
        ["Email", "IMAP Password", "SMTP Password", "App Password", "Name"]
    )
    assert columns.secret_columns == {1, 2, 3}


@pytest.mark.parametrize(
    "header",
    [
        "Old Password", "Client Secret", "API Token", "api_key", "Recovery pwd", "IMAP Pword",
        "Credentials", "SMTP Credential", "Access Token", "Passcode",
        "Пароль", "Пароль IMAP", "密码", "密碼", "パスワード", "비밀번호", "Hasło", "Heslo",
        "Şifre", "Lösenord", "Contraseña", "Senha", "Jelszó", "Mật khẩu", "كلمة المرور",
        "סיסמה", "Mot de passe SMTP", "MDP", "Geheimnis", "Adgangskode", "Kata sandi",
        # Typos and stand-ins, words that name a secret on their own, more languages.
        "Pasword", "IMAP Pasword", "Paswd", "Psw", "P@ssword", "Pa$$word", "Creds", "Key",
        "App Key", "appKey", "PIN", "Access Code", "Login Code", "Auth", "IMAP PW 2", "imapPw2",
        "SMTP PW (old)", "2FA", "Zugangsdaten", "Parolă", "Parool", "Lozinka", "Geslo", "Парола",
        "Kodeord", "Slaptažodis", "Contrasinal", "Pasahitza", "Kata laluan", "Lykilorð",
        "Wagwoord",
        # The same words with their accents apart (NFD), as macOS writes text.
        unicodedata.normalize("NFD", "Lösenord"), unicodedata.normalize("NFD", "Mật khẩu"),
    ],
)  # fmt: skip
def test_unknown_columns_that_look_secret_are_secret(header: str) -> None:
    columns = ColumnMap.from_headers(["Email", header, "Notes"])
    assert columns.secret_columns == {1}
    assert header.strip() in columns.ignored


@pytest.mark.parametrize(
    "header",
    [
        "Company Tags", "Daily Limit", "Notes", "Warmup Enabled", "Company", "San Diego Office",
        "Keyword", "Spinning", "Author", "Zip Code", "Keynote", "Campaign", "Key Account",
        "Credits", "Incredible", "Auth Status",
    ],
)  # fmt: skip
def test_ordinary_unknown_columns_are_not_secret(header: str) -> None:
    assert ColumnMap.from_headers(["Email", header]).secret_columns == set()


def test_a_password_header_in_full_width_letters_is_the_password_column() -> None:
    columns = ColumnMap.from_headers(["Email", "\uff30\uff21\uff33\uff33\uff37\uff2f\uff32\uff24"])
    assert (columns.index["password"], columns.secret_columns) == (1, frozenset({1}))


@pytest.mark.parametrize("unnamed", ["", "column_2"])  # as a workbook, as a text file gives it
def test_a_column_with_no_header_is_kept_but_blanked_as_a_secret(unnamed: str) -> None:
    columns = ColumnMap.from_headers(["Email", unnamed, "Notes"])
    assert list(columns.blanked_secrets) == [columns.report_headers[1]]
    assert len(columns.ignored) == 2
    # Blanked, but its values (row numbers, say) are no password that other cells could hold.
    assert columns.secret_columns == set()


def test_blank_and_repeated_headers_get_unique_report_names() -> None:
    columns = ColumnMap.from_headers(["Email", "", "Notes", "Notes"])
    assert columns.report_headers == ("Email", "Column B", "Notes", "Notes (D)")
    assert columns.ignored == columns.report_headers[1:]
