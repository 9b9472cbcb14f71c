"""Normalising one row: the value rules of SPEC.md "Reading and normalising rows", as tables."""

from __future__ import annotations

import csv
import datetime
import itertools
from pathlib import Path

import openpyxl
import pytest
from pydantic import ValidationError

from bulk_onboard.errors import UsageError
from bulk_onboard.rows.normalise import (
    NormalisedRow,
    NormaliseOptions,
    normalise,
    problems_from_validation_error,
)
from bulk_onboard.rows.request import ConnectRequest
from bulk_onboard.sheet.columns import ColumnMap
from bulk_onboard.sheet.reader import open_table
from bulk_onboard.sheet.table import RawRow

SAMPLES = Path(__file__).resolve().parents[2] / "samples"

BASE = {
    "Email": "ann.lee@acme.test",
    "First Name": "Ann",
    "Last Name": "Lee",
    "IMAP Host": "imap.acme.test",
    "IMAP Port": "993",
    "SMTP Host": "smtp.acme.test",
    "SMTP Port": "587",
    "Password": "Pw-base-81Kq",
}


def run(cells: dict[str, str], options: NormaliseOptions | None = None) -> NormalisedRow:
    columns = ColumnMap.from_headers(list(cells))
    return normalise(RawRow(2, tuple(cells.values())), columns, options or NormaliseOptions())


def body(cells: dict[str, str], options: NormaliseOptions | None = None) -> dict[str, object]:
    result = run(cells, options)
    assert result.problems == ()
    assert result.request is not None
    return result.request.to_body()


def codes(cells: dict[str, str]) -> dict[str | None, str]:
    result = run(cells)
    assert result.request is None
    return {problem.column: problem.code for problem in result.problems}


def without(cells: dict[str, str], *headers: str) -> dict[str, str]:
    return {header: value for header, value in cells.items() if header not in headers}


# --- a good row -------------------------------------------------------------------------------


def test_a_complete_row_becomes_the_request_body() -> None:
    assert body(BASE) == {
        "email": "ann.lee@acme.test",
        "first_name": "Ann",
        "last_name": "Lee",
        "provider": "custom",
        "imap_server": "imap.acme.test",
        "imap_server_port": 993,
        "imap_server_username": "ann.lee@acme.test",
        "imap_server_password": "Pw-base-81Kq",
        "smtp_server": "smtp.acme.test",
        "smtp_server_port": 587,
        "smtp_server_username": "ann.lee@acme.test",
        "smtp_server_password": "Pw-base-81Kq",
        "smtp_server_starttls": True,
    }


def test_the_row_number_and_email_are_kept() -> None:
    columns = ColumnMap.from_headers(list(BASE))
    result = normalise(RawRow(17, tuple(BASE.values())), columns, NormaliseOptions())
    assert (result.row, result.email, result.notes) == (17, "ann.lee@acme.test", ())


def test_dry_run_sends_test_true() -> None:
    assert body(BASE, NormaliseOptions(test=True))["test"] is True


def test_without_dry_run_test_is_left_out() -> None:
    assert "test" not in body(BASE)


# --- blanks, trimming, case -------------------------------------------------------------------


@pytest.mark.parametrize("blank", ["", "-", "N/A", "n/a", "none", "None", "NULL", "null", "   "])
def test_blank_spellings_mean_blank(blank: str) -> None:
    assert body({**BASE, "SMTP Username": blank})["smtp_server_username"] == "ann.lee@acme.test"


def test_values_are_trimmed_and_emails_and_hosts_lower_cased() -> None:
    sent = body(
        {
            **BASE,
            "Email": "  Ann.Lee@ACME.test ",
            "IMAP Host": " IMAP.Acme.Test. ",
            "Last Name": " Lee ",
        }
    )
    assert (sent["email"], sent["imap_server"], sent["last_name"]) == (
        "ann.lee@acme.test",
        "imap.acme.test",
        "Lee",
    )


# --- ports ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "port"), [("993", 993), ("993.0", 993), (" 993 ", 993), ("25", 25)]
)
def test_ports_accept_whole_numbers(cell: str, port: int) -> None:
    assert body({**BASE, "IMAP Port": cell})["imap_server_port"] == port


@pytest.mark.parametrize("cell", ["99a", "0", "70000", "993.5", "-993", "1e3", "9" * 5000])
def test_ports_reject_anything_else(cell: str) -> None:
    assert codes({**BASE, "IMAP Port": cell}) == {"IMAP Port": "invalid_port"}


def test_invalid_port_message_says_how_to_fix_it() -> None:
    (problem,) = run({**BASE, "SMTP Port": "58 7"}).problems
    assert problem.message == "'SMTP Port' must be a whole number from 1 to 65535, such as 587."


# --- booleans ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        *((word, True) for word in ["true", "TRUE", "yes", "Y", "1", "on", "On", "1.0"]),
        *((word, False) for word in ["false", "False", "no", "N", "0", "off", "OFF"]),
    ],
)
def test_booleans_accept_the_usual_words(cell: str, value: bool) -> None:
    assert body({**BASE, "imap_issue": cell})["imap_issue"] is value


@pytest.mark.parametrize("cell", ["maybe", "2", "t", "yess"])
def test_booleans_reject_other_words(cell: str) -> None:
    assert codes({**BASE, "spamchecker_only": cell}) == {"spamchecker_only": "invalid_value"}


def test_blank_boolean_is_left_out() -> None:
    assert "smtp_only" not in body({**BASE, "smtp_only": ""})


# --- passwords --------------------------------------------------------------------------------

GMAIL = {
    **without(BASE, "IMAP Host", "IMAP Port", "SMTP Host", "SMTP Port"),
    "Email": "ann@gmail.com",
}


@pytest.mark.parametrize(
    ("row", "typed", "sent"),
    [
        (GMAIL, "abcd efgh ijkl mnop", "abcdefghijklmnop"),
        (GMAIL, "ABCD EFGH IJKL MNOP", "ABCDEFGHIJKLMNOP"),
        (GMAIL, "abcd\u00a0efgh\u00a0ijkl\u00a0mnop", "abcdefghijklmnop"),
        (GMAIL, "abcdefghijklmnop", "abcdefghijklmnop"),
        (GMAIL, "abcd efgh ijkl mno1", "abcd efgh ijkl mno1"),  # not an app password
        (GMAIL, "my long pass phrase", "my long pass phrase"),
        (
            {**GMAIL, "Email": "ann@acme.test", "Provider": "google"},
            "abcd efgh ijkl mnop",
            "abcdefghijklmnop",
        ),
        ({**BASE, "IMAP Host": "imap.gmail.com"}, "abcd efgh ijkl mnop", "abcdefghijklmnop"),
        (BASE, "abcd efgh ijkl mnop", "abcd efgh ijkl mnop"),  # not Google: kept as typed
    ],
)
def test_google_app_password_spaces_are_removed(row: dict[str, str], typed: str, sent: str) -> None:
    assert body({**row, "Password": typed})["smtp_server_password"] == sent


def test_removing_app_password_spaces_is_noted() -> None:
    notes = run({**GMAIL, "Password": "abcd efgh ijkl mnop"}).notes
    assert "Removed the spaces Google shows inside its 16-letter app password." in notes


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("  spaced out  ", "  spaced out  "),
        ("tab\there", "tab\there"),
        ("Pw-crlf-1\r\n", "Pw-crlf-1"),
        ("Pw-lf-1\n", "Pw-lf-1"),
    ],
)
def test_passwords_are_kept_exactly_but_for_a_line_ending(typed: str, sent: str) -> None:
    assert body({**BASE, "Password": typed})["imap_server_password"] == sent


# --- NUL bytes --------------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["Tags", "Email", "IMAP Host", "Password"])
def test_nul_bytes_are_refused_in_any_column(header: str) -> None:
    row = {**BASE, "Tags": "vip"}
    row[header] = row[header][:3] + "\x00" + row[header][3:]
    assert codes(row) == {header: "invalid_value"}


def test_nul_bytes_are_not_echoed() -> None:
    assert run({**BASE, "Tags": "v\x00ip"}).original["Tags"] == "vip"


# --- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "first", "last", "note"),
    [
        ({"First Name": "Ann", "Last Name": "Lee"}, "Ann", "Lee", None),
        ({"Name": "Ann Lee"}, "Ann", "Lee", None),
        ({"Full Name": "Mary Ann  van Lee"}, "Mary Ann van", "Lee", None),
        ({"from_name": "Ann"}, "Ann", "Lee", "Last name was missing; used 'Lee' from the email."),
        (
            {"First Name": "Ann", "Last Name": "N/A"},
            "Ann",
            "Lee",
            "Last name was missing; used 'Lee' from the email.",
        ),
        (
            {"First Name": "", "Last Name": ""},
            "Ann",
            "Lee",
            "Name was missing; used 'Ann Lee' from the email.",
        ),
        ({}, "Ann", "Lee", "Name was missing; used 'Ann Lee' from the email."),
        (
            {"First Name": "", "Last Name": "Lee"},
            "Ann",
            "Lee",
            "First name was missing; used 'Ann' from the email.",
        ),
    ],
)
def test_names_are_taken_split_or_derived(
    cells: dict[str, str], first: str, last: str, note: str | None
) -> None:
    row = {**without(BASE, "First Name", "Last Name"), **cells}
    result = run(row)
    assert result.request is not None
    assert (result.request.first_name, result.request.last_name) == (first, last)
    assert list(result.notes) == ([note] if note else [])


@pytest.mark.parametrize(
    ("email", "first", "last"),
    [
        ("john.smith@acme.test", "John", "Smith"),
        ("john_smith2@acme.test", "John", "Smith"),
        ("mary-ann.o.lee@acme.test", "Mary", "Lee"),
        ("sales@acme.test", "Sales", "Sales"),
        ("j0hn@acme.test", "Jhn", "Jhn"),
    ],
)
def test_names_derived_from_the_email(email: str, first: str, last: str) -> None:
    sent = body({**without(BASE, "First Name", "Last Name"), "Email": email})
    assert (sent["first_name"], sent["last_name"]) == (first, last)


def test_a_last_name_without_a_second_email_part_repeats_the_first_name() -> None:
    result = run({**BASE, "Email": "ann@acme.test", "Last Name": ""})
    assert result.request is not None
    assert result.request.last_name == "Ann"
    assert result.notes == ("Last name was missing; used the first name 'Ann' again.",)


def test_no_name_and_no_letters_in_the_email_is_a_missing_field() -> None:
    row = {**BASE, "Email": "1234@acme.test", "First Name": "", "Last Name": ""}
    assert codes(row) == {"First Name": "missing_field", "Last Name": "missing_field"}


def test_no_name_blames_a_single_name_column() -> None:
    row = {**without(BASE, "First Name", "Last Name"), "Email": "1234@acme.test", "Name": "-"}
    assert codes(row) == {"Name": "missing_field"}


# --- usernames and passwords: fall-backs ------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "imap_user", "smtp_user"),
    [
        ({}, "ann.lee@acme.test", "ann.lee@acme.test"),
        ({"Username": "ann"}, "ann", "ann"),
        ({"IMAP Username": "ann-in", "SMTP Username": "ann-out"}, "ann-in", "ann-out"),
        ({"Username": "ann", "IMAP Username": "ann-in"}, "ann-in", "ann"),
        ({"IMAP Username": "-", "SMTP Username": ""}, "ann.lee@acme.test", "ann.lee@acme.test"),
    ],
)
def test_usernames_fall_back_to_the_shared_username_then_the_email(
    extra: dict[str, str], imap_user: str, smtp_user: str
) -> None:
    sent = body({**BASE, **extra})
    assert (sent["imap_server_username"], sent["smtp_server_username"]) == (imap_user, smtp_user)


@pytest.mark.parametrize(
    ("passwords", "imap", "smtp"),
    [
        ({"Password": "Pw-shared-1"}, "Pw-shared-1", "Pw-shared-1"),
        ({"IMAP Password": "Pw-in-2", "SMTP Password": "Pw-out-2"}, "Pw-in-2", "Pw-out-2"),
        ({"Password": "Pw-shared-3", "IMAP Password": "Pw-in-3"}, "Pw-in-3", "Pw-shared-3"),
        ({"Password": "Pw-shared-4", "SMTP Password": "N/A"}, "Pw-shared-4", "Pw-shared-4"),
    ],
)
def test_per_protocol_passwords_fall_back_to_the_shared_one(
    passwords: dict[str, str], imap: str, smtp: str
) -> None:
    sent = body({**without(BASE, "Password"), **passwords})
    assert (sent["imap_server_password"], sent["smtp_server_password"]) == (imap, smtp)
    assert "password" not in sent


SMARTLEAD = {
    "from_name": "Ann Lee",
    "from_email": "ann.lee@acme.test",
    "user_name": "ann.login@acme.test",
    "password": "Pw-sl-smtp-5",
    "smtp_host": "smtp.acme.test",
    "smtp_port": "587",
    "imap_host": "imap.acme.test",
    "imap_port": "993",
    "imap_user_name": "",
    "imap_password": "",
}


def test_smartlead_imap_login_falls_back_to_the_smtp_login() -> None:
    sent = body(SMARTLEAD)
    assert sent["imap_server_username"] == sent["smtp_server_username"] == "ann.login@acme.test"
    assert sent["imap_server_password"] == sent["smtp_server_password"] == "Pw-sl-smtp-5"


def test_smartlead_imap_login_used_when_given() -> None:
    sent = body({**SMARTLEAD, "imap_user_name": "ann.in@acme.test", "imap_password": "Pw-sl-in-5"})
    assert (sent["imap_server_username"], sent["imap_server_password"]) == (
        "ann.in@acme.test",
        "Pw-sl-in-5",
    )
    assert (sent["smtp_server_username"], sent["smtp_server_password"]) == (
        "ann.login@acme.test",
        "Pw-sl-smtp-5",
    )


@pytest.mark.parametrize(
    ("passwords", "expected"),
    [
        ({"Password": ""}, {"Password": "missing_field"}),
        ({}, {"Password": "missing_field"}),
        (
            {"IMAP Password": "", "SMTP Password": "-"},
            {"IMAP Password": "missing_field", "SMTP Password": "missing_field"},
        ),
        ({"IMAP Password": "Pw-in-6"}, {"Password": "missing_field"}),
    ],
)
def test_missing_password_is_a_missing_field(
    passwords: dict[str, str], expected: dict[str, str]
) -> None:
    assert codes({**without(BASE, "Password"), **passwords}) == expected


def test_missing_password_message() -> None:
    (problem,) = run({**BASE, "Password": ""}).problems
    assert problem.message == "No password given; fill in 'Password'."


def test_smtp_only_row_needs_no_imap_settings() -> None:
    row = {**without(BASE, "IMAP Host", "IMAP Port", "Password"), "SMTP Password": "Pw-so-7"}
    sent = body({**row, "smtp_only": "yes"})
    assert "imap_server" not in sent
    assert "imap_server_password" not in sent
    assert sent["smtp_only"] is True


# --- provider ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "provider"),
    [
        ("gmail", "gmail"),
        ("Google", "gmail"),
        ("Google Workspace", "gmail"),
        ("GMAIL", "gmail"),
        ("outlook", "outlook"),
        ("Microsoft", "outlook"),
        ("Office 365", "outlook"),
        ("OUTLOOK", "outlook"),
        ("custom", "custom"),
        ("SMTP", "custom"),
        ("imap", "custom"),
        ("IMAP/SMTP", "custom"),
        ("other", "custom"),
        ("1", "custom"),  # Instantly: custom IMAP/SMTP
        ("2", "gmail"),  # Instantly: Google
        ("3", "outlook"),  # Instantly: Microsoft
        ("2.0", "gmail"),
    ],
)
def test_provider_column_values(cell: str, provider: str) -> None:
    assert body({**BASE, "Provider": cell})["provider"] == provider


@pytest.mark.parametrize("cell", ["yahoo", "4", "gmail.com"])
def test_provider_column_rejects_others(cell: str) -> None:
    assert codes({**BASE, "Provider": cell}) == {"Provider": "invalid_value"}


@pytest.mark.parametrize(
    ("row", "options", "provider"),
    [
        ({**BASE, "IMAP Host": "imap.gmail.com", "SMTP Host": "smtp.gmail.com"}, None, "gmail"),
        ({**BASE, "SMTP Host": "smtp.office365.com"}, None, "outlook"),
        ({**BASE, "IMAP Host": "outlook.office365.com"}, "gmail", "outlook"),
        ({**GMAIL, "Email": "ann@gmail.com"}, "outlook", "gmail"),
        ({**GMAIL, "Email": "ann@yahoo.com"}, "gmail", "custom"),
        (BASE, "gmail", "gmail"),
        (BASE, "Microsoft", "outlook"),
        (BASE, None, "custom"),
    ],
)
def test_provider_inferred_from_hosts_then_domain_then_option(
    row: dict[str, str], options: str | None, provider: str
) -> None:
    assert body(row, NormaliseOptions(default_provider=options))["provider"] == provider


def test_unknown_default_provider_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        NormaliseOptions(default_provider="yahoo")


# --- hosts and ports from presets -------------------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "why"),
    [
        (
            {"Email": "ann@gmail.com", "IMAP Host": "", "SMTP Host": ""},
            "email's domain is Google's",
        ),
        ({"IMAP Host": "imap.gmail.com", "SMTP Host": "smtp.gmail.com"}, "servers are Google's"),
    ],
)
def test_a_provider_that_the_rows_servers_or_address_contradict_fails(
    cells: dict[str, str], why: str
) -> None:
    result = run({**BASE, **cells, "Provider": "Outlook"})
    assert [(p.code, p.column, p.message) for p in result.problems] == [
        (
            "invalid_value",
            "Provider",
            f"'Provider' says outlook, but the row's {why}: correct it, or leave it blank and "
            "the row decides.",
        )
    ]


@pytest.mark.parametrize("provider", ["custom", "google"])
def test_a_provider_the_row_agrees_with_or_custom_is_sent_as_named(provider: str) -> None:
    cells = {**BASE, "Provider": provider, "IMAP Host": "imap.gmail.com"}
    assert body(cells)["provider"] == ("custom" if provider == "custom" else "gmail")


def test_missing_hosts_are_filled_from_the_domain_preset() -> None:
    result = run(GMAIL)
    assert result.request is not None
    sent = result.request.to_body()
    assert (sent["imap_server"], sent["imap_server_port"]) == ("imap.gmail.com", 993)
    assert (sent["smtp_server"], sent["smtp_server_port"], sent["smtp_server_starttls"]) == (
        "smtp.gmail.com",
        587,
        True,
    )
    assert result.notes == (
        "IMAP and SMTP settings filled from the Gmail / Google Workspace preset.",
    )


def test_a_gmail_row_on_a_custom_domain_gets_the_gmail_hosts() -> None:
    sent = body({**GMAIL, "Email": "ann@acme.test", "Provider": "GMAIL"})
    assert (sent["imap_server"], sent["smtp_server"]) == ("imap.gmail.com", "smtp.gmail.com")


def test_an_outlook_row_on_a_custom_domain_gets_the_microsoft_365_hosts() -> None:
    sent = body({**GMAIL, "Email": "ann@acme.test", "Provider": "3"})
    assert (sent["imap_server"], sent["smtp_server"]) == (
        "outlook.office365.com",
        "smtp.office365.com",
    )


def test_a_given_port_is_kept_when_the_host_comes_from_a_preset() -> None:
    sent = body({**GMAIL, "SMTP Port": "465"})
    assert (sent["smtp_server_port"], sent["smtp_server_starttls"]) == (465, False)


def test_only_the_missing_host_is_filled() -> None:
    result = run({**GMAIL, "SMTP Host": "smtp-relay.gmail.com", "SMTP Port": "587"})
    assert result.request is not None
    assert (result.request.imap_server, result.request.smtp_server) == (
        "imap.gmail.com",
        "smtp-relay.gmail.com",
    )
    assert result.notes == ("IMAP settings filled from the Gmail / Google Workspace preset.",)


def test_missing_ports_of_given_hosts_default_to_993_and_587_with_a_note() -> None:
    result = run(without(BASE, "IMAP Port", "SMTP Port"))
    assert result.request is not None
    sent = result.request.to_body()
    assert (sent["imap_server_port"], sent["smtp_server_port"], sent["smtp_server_starttls"]) == (
        993,
        587,
        True,
    )
    assert result.notes == (
        "'IMAP Port' was empty; used 993 (TLS).",
        "'SMTP Port' was empty; used 587 (STARTTLS).",
    )


def test_no_hosts_and_no_preset_names_the_host_columns() -> None:
    result = run(without(BASE, "IMAP Host", "SMTP Host"))
    assert {(p.column, p.code) for p in result.problems} == {
        ("IMAP Host", "missing_field"),
        ("SMTP Host", "missing_field"),
    }
    assert result.problems[0].message == (
        "'IMAP Host' is empty and the email's domain is not a known provider's; "
        "fill in the IMAP server's host name."
    )


@pytest.mark.parametrize(
    "host",
    [
        "imap acme.test",
        "imaps://imap.acme.test",
        "imaps://imap.acme.test:993",
        "imap.acme.test:0",
        "imap.acme.test:99999",
        "imap.acme.test:993:993",
    ],
)
def test_hosts_must_be_host_names(host: str) -> None:
    assert codes({**BASE, "IMAP Host": host}) == {"IMAP Host": "invalid_value"}


def test_a_host_with_letters_outside_ascii_is_sent_in_its_ascii_form_with_a_note() -> None:
    cells = {**BASE, "IMAP Host": "IMAP.Müller-GmbH.test", "SMTP Host": "smtp.straße.test:465",
             "SMTP Port": ""}  # fmt: skip
    result = run(cells)
    assert result.request is not None
    sent = result.request.to_body()
    # IDNA 2008, as browsers map it: ß stays a letter of its own (xn--), not "ss".
    assert (sent["imap_server"], sent["smtp_server"], sent["smtp_server_port"]) == (
        "imap.xn--mller-gmbh-9db.test",
        "smtp.xn--strae-oqa.test",
        465,
    )
    assert result.notes == (
        "'IMAP Host' has letters outside ASCII; used its ASCII form, imap.xn--mller-gmbh-9db.test.",
        "'SMTP Host' has letters outside ASCII; used its ASCII form, smtp.xn--strae-oqa.test.",
        "'SMTP Host' held a port too; used smtp.xn--strae-oqa.test and port 465.",
    )


@pytest.mark.parametrize("host", ["imap.-ü.test", "imap.ü ü.test", "imap.ü.test:0"])
def test_a_host_outside_ascii_that_is_no_host_name_fails(host: str) -> None:
    assert codes({**BASE, "IMAP Host": host}) == {"IMAP Host": "invalid_value"}


def test_an_email_with_a_domain_outside_ascii_fails_naming_its_ascii_form() -> None:
    result = run({**BASE, "Email": "Jo{x}@Müller.test"})
    assert [(p.code, p.message) for p in result.problems] == [
        (
            "invalid_email",
            "'Email' has letters outside ASCII in its domain: write the address in its ASCII "
            "form, jo{x}@xn--mller-kva.test.",
        )
    ]
    assert codes({**BASE, "Email": "josé@müller.test"}) == {"Email": "invalid_email"}


def test_a_port_after_the_host_is_the_port_when_the_port_column_is_blank() -> None:
    result = run({**BASE, "IMAP Host": "IMAP.acme.test.:143", "SMTP Host": "smtp.acme.test:465",
                  "IMAP Port": "", "SMTP Port": "N/A"})  # fmt: skip
    assert result.request is not None
    sent = result.request.to_body()
    assert (sent["imap_server"], sent["imap_server_port"]) == ("imap.acme.test", 143)
    assert (sent["smtp_server"], sent["smtp_server_port"]) == ("smtp.acme.test", 465)
    assert sent["smtp_server_starttls"] is False  # 465: TLS from the first byte
    assert result.notes == (
        "'IMAP Host' held a port too; used imap.acme.test and port 143.",
        "'SMTP Host' held a port too; used smtp.acme.test and port 465.",
    )


def test_a_port_after_the_host_that_the_port_column_repeats_needs_no_note() -> None:
    result = run({**BASE, "SMTP Host": "smtp.acme.test:587"})
    assert result.request is not None
    assert result.request.to_body()["smtp_server"] == "smtp.acme.test"
    assert result.notes == ()


def test_a_port_after_the_host_that_the_port_column_contradicts_fails_the_port() -> None:
    cells = {**without(BASE, "SMTP Host"), "{SMTP Host}": "smtp.acme.test:465"}
    result = run(cells)  # the header's braces are text, not a template's
    assert [(p.code, p.column, p.message) for p in result.problems] == [
        (
            "invalid_port",
            "SMTP Port",
            "'SMTP Port' says 587 but '{SMTP Host}' names port 465: write the port in "
            "'SMTP Port' only.",
        )
    ]


# --- STARTTLS and auth type -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("port", "starttls"),
    [("587", True), ("25", True), ("2525", True), ("465", False), ("2465", None)],
)
def test_starttls_follows_the_smtp_port(port: str, starttls: bool | None) -> None:
    assert body({**BASE, "SMTP Port": port}).get("smtp_server_starttls") is starttls


@pytest.mark.parametrize(
    ("header", "cell", "port", "starttls"),
    [
        # "Encrypted" words: on 587 (and 25, 2525) that can only be STARTTLS; 465 is implicit TLS.
        ("SMTP Security", "TLS", "587", True),
        ("SMTP Encryption", "SSL/TLS", "587", True),
        ("SMTP Security", "SSL", "587", True),
        ("SMTP Security", "tls", "25", True),
        ("SMTP Security", "SSL", "465", False),
        ("SMTP Encryption", "SSL/TLS", "465", False),
        ("SMTP Secure", "true", "587", True),  # EmailBison's secure: "encrypted"
        ("SMTP Secure", "true", "465", False),
        ("smtpTls", "1", "2525", True),
        ("SSL", "yes", "2465", False),  # any other port: TLS from the first byte
        # Words that name one way, on a port that agrees or says nothing.
        ("SMTP Security", "STARTTLS", "587", True),
        ("SMTP Security", "STARTTLS", "2465", True),
        ("SMTP Security", "implicit", "465", False),
        ("SMTP Security", "SMTPS", "2465", False),
        ("SMTP Secure", "FALSE", "587", True),
        ("SMTP Security", "none", "587", False),
        ("SMTP Security", "N/A", "465", False),  # blank: the port decides
        # MailReach's own column is taken as written.
        ("smtp_server_starttls", "true", "465", True),
        ("smtp_server_starttls", "no", "587", False),
    ],
)
def test_the_security_column_is_read_against_the_port(
    header: str, cell: str, port: str, starttls: bool
) -> None:
    assert body({**BASE, "SMTP Port": port, header: cell})["smtp_server_starttls"] is starttls


@pytest.mark.parametrize(
    ("cell", "port", "asked", "used"),
    [
        ("STARTTLS", "465", "STARTTLS", "TLS from the first byte"),
        ("false", "465", "STARTTLS", "TLS from the first byte"),
        ("implicit", "587", "TLS from the first byte", "STARTTLS"),
        ("SMTPS", "25", "TLS from the first byte", "STARTTLS"),
    ],
)
def test_a_security_word_against_its_port_fails_the_row_rather_than_guess(
    cell: str, port: str, asked: str, used: str
) -> None:
    result = run({**BASE, "SMTP Port": port, "SMTP Security": cell})
    assert result.request is None
    [problem] = result.problems
    assert (problem.code, problem.column) == ("smtp_security_conflict", "SMTP Security")
    assert problem.message == (
        f"'SMTP Security' asks for {asked}, but port {port} uses {used}: correct the port or the "
        "security cell, or leave the security cell blank."
    )


@pytest.mark.parametrize("cell", ["true", "SSL/TLS", "implicit"])
def test_a_missing_smtp_port_with_implicit_tls_defaults_to_465(cell: str) -> None:
    result = run({**without(BASE, "SMTP Port"), "SMTP Secure": cell})
    assert result.request is not None
    assert (result.request.smtp_server_port, result.request.smtp_server_starttls) == (465, False)
    assert result.notes == ("'SMTP Port' was empty; used 465 (TLS).",)


def test_starttls_column_wins_over_a_security_column() -> None:
    row = {**BASE, "SMTP Security": "ssl", "STARTTLS": "yes"}
    assert body(row)["smtp_server_starttls"] is True


def test_unknown_security_value_is_invalid() -> None:
    assert codes({**BASE, "SMTP Security": "quantum"}) == {"SMTP Security": "invalid_value"}


@pytest.mark.parametrize(
    ("cell", "auth"),
    [
        ("PLAIN", "plain"),
        ("login", "login"),
        ("LOGIN", "login"),
        ("CRAM-MD5", "cram_md5"),
        ("cram md5", "cram_md5"),
        ("cram_md5", "cram_md5"),
    ],
)
def test_auth_type_is_normalised(cell: str, auth: str) -> None:
    assert body({**BASE, "Auth Type": cell})["smtp_server_auth_type"] == auth


def test_blank_auth_type_is_left_out() -> None:
    assert "smtp_server_auth_type" not in body({**BASE, "Auth Type": ""})


M365 = {
    "Email": "ann@contoso.test",
    "First Name": "Ann",
    "Last Name": "Lee",
    "Provider": "outlook",
    "Password": "Pw-base-81Kq",
}


@pytest.mark.parametrize(
    ("cells", "auth"),
    [
        (M365, "login"),  # the Microsoft 365 preset: smtp.office365.com offers LOGIN, not PLAIN
        ({**BASE, "SMTP Host": "smtp.office365.com"}, "login"),  # its host, on a custom row
        ({**M365, "Auth Type": "plain"}, "plain"),  # the sheet's own choice wins
        ({**BASE, "Provider": "gmail", "SMTP Host": "smtp.gmail.com"}, None),  # PLAIN works
        (BASE, None),
    ],
)
def test_a_preset_whose_smtp_offers_no_plain_sends_login(
    cells: dict[str, str], auth: str | None
) -> None:
    assert body(cells).get("smtp_server_auth_type") == auth


def test_unknown_auth_type_is_invalid() -> None:
    assert codes({**BASE, "Auth Type": "xoauth2"}) == {"Auth Type": "invalid_value"}


# --- email ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    [
        "ann@acme.test",
        "ann.lee+warm@mail.acme.test",
        "a_b-c@acme.co.uk",
        "ann@xn--bcher-kva.example",
    ],
)
def test_valid_emails(email: str) -> None:
    assert body({**BASE, "Email": email})["email"] == email


@pytest.mark.parametrize(
    "email",
    [
        "ann",
        "ann@",
        "@acme.test",
        "ann@acme",
        "ann lee@acme.test",
        "ann@@acme.test",
        "ann@acme..test",
        ".ann@acme.test",
        "ann@acme.t",
    ],
)
def test_invalid_emails(email: str) -> None:
    assert codes({**BASE, "Email": email}) == {"Email": "invalid_email"}


def test_invalid_email_is_kept_cleaned_for_the_report() -> None:
    assert run({**BASE, "Email": " Ann@ "}).email == "ann@"


@pytest.mark.parametrize("email", ["", "-", "N/A"])
def test_missing_email_is_a_missing_field(email: str) -> None:
    assert codes({**BASE, "Email": email}) == {"Email": "missing_field"}


@pytest.mark.parametrize(
    "email",
    ["ann@outlook.com", "ann@hotmail.com", "ann@hotmail.co.uk", "ann@live.com", "ann@msn.com"],
)
def test_personal_microsoft_accounts_need_oauth(email: str) -> None:
    result = run({**GMAIL, "Email": email})
    assert [(p.code, p.column) for p in result.problems] == [("oauth_required", "Email")]
    assert "16 Sep 2024" in result.problems[0].message
    assert "OAuth" in result.problems[0].message


def test_microsoft_365_custom_domain_is_fine() -> None:
    row = {**BASE, "IMAP Host": "outlook.office365.com", "SMTP Host": "smtp.office365.com"}
    assert body(row)["provider"] == "outlook"


# --- account id -------------------------------------------------------------------------------


@pytest.mark.parametrize(("cell", "expected"), [("12345", 12345), ("12345.0", 12345), ("", None)])
def test_mailreach_id_column(cell: str, expected: int | None) -> None:
    assert body({**BASE, "MailReach ID": cell}).get("id") == expected


@pytest.mark.parametrize("cell", ["abc", "0", "2147483648", "12.5"])
def test_mailreach_id_must_be_a_positive_int32(cell: str) -> None:
    assert codes({**BASE, "MailReach ID": cell}) == {"MailReach ID": "invalid_value"}


def test_a_password_a_workbook_stored_as_a_date_fails_its_row(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(BASE))
    sheet.append([*list(BASE.values())[:-1], datetime.datetime(2024, 5, 6)])
    sheet.append(list(BASE.values()))
    workbook.save(tmp_path / "in.xlsx")
    table = open_table(str(tmp_path / "in.xlsx"))
    columns = ColumnMap.from_headers(table.headers)
    rows = [raw for chunk in table.chunks for raw in chunk]
    dated, typed = (normalise(raw, columns, NormaliseOptions()) for raw in rows)
    assert [(p.code, p.column, p.message) for p in dated.problems] == [
        (
            "invalid_value",
            "Password",
            "'Password' is a date in the workbook, as Excel stores a password it took for one: "
            "format the column as Text, type the password again, and save.",
        )
    ]
    assert typed.problems == ()


# --- all problems at once, in the user's words ------------------------------------------------


def test_all_problems_are_reported_at_once_naming_the_users_headers() -> None:
    row = {
        "E-Mail": "ann@",
        "imapHost": "imap acme",
        "incoming port": "99a",
        "smtp_server": "",
        "SMTP_Port": "70000",
        "App Password": "",
        "SMTP Encryption": "quantum",
        "Type": "yahoo",
        "Notes": "vip\x00",
    }
    assert codes(row) == {
        "Notes": "invalid_value",
        "E-Mail": "invalid_email",
        "imapHost": "invalid_value",
        "incoming port": "invalid_port",
        "SMTP_Port": "invalid_port",
        "smtp_server": "missing_field",
        "Type": "invalid_value",
        "SMTP Encryption": "invalid_value",
        "App Password": "missing_field",
        # No name column, and the email failed: no columns the file lacks are named after it.
    }


def test_no_name_column_and_an_email_that_gives_no_name_asks_for_name_columns() -> None:
    result = run({**without(BASE, "First Name", "Last Name"), "Email": "1234@acme.test"})
    assert [(p.code, p.message) for p in result.problems] == [
        (
            "missing_field",
            "No name can be read from the email and the sheet has no name column: add a "
            "First Name and a Last Name column.",
        )
    ]


def test_every_problem_message_is_one_sentence_naming_its_column() -> None:
    row = {
        **BASE,
        "Email": "x",
        "IMAP Port": "0",
        "Auth Type": "?",
        "Password": "",
        "Provider": "?",
    }
    problems = run(row).problems
    assert len(problems) == 5
    for problem in problems:
        assert f"'{problem.column}'" in problem.message
        assert problem.message.endswith(".")
        assert problem.message.count(". ") == 0


def test_model_errors_become_problems_naming_the_users_columns_without_values() -> None:
    columns = ColumnMap.from_headers(["E-Mail", "incoming port", "Type"])
    bad = {"email": "a@b.test", "first_name": "", "last_name": "L", "provider": "Sx-provider"}
    with pytest.raises(ValidationError) as caught:
        ConnectRequest.model_validate({**bad, "imap_server_port": 0})
    problems = problems_from_validation_error(caught.value, columns)
    assert [(p.code, p.column) for p in problems] == [
        ("missing_field", "First Name"),
        ("invalid_value", "Type"),
        ("invalid_port", "incoming port"),
    ]
    assert all("Sx-provider" not in p.message for p in problems)


def test_request_is_none_iff_there_are_problems() -> None:
    assert run(BASE).request is not None
    assert run({**BASE, "IMAP Port": "x"}).request is None


# --- secrets never leak -----------------------------------------------------------------------

SECRET_ROWS = [
    {**BASE, "Password": "Sx-1-shared", "Tags": "ok"},
    {**BASE, "Password": "Sx-2-shared", "IMAP Port": "x", "Email": "bad"},
    {**without(BASE, "Password"), "IMAP Password": "Sx-3-imap", "SMTP Password": "Sx-3-smtp"},
    {**without(BASE, "Password"), "IMAP Password": "Sx-4-imap\x00", "SMTP Password": "Sx-4-smtp"},
    {**GMAIL, "Password": "sxfi vexx abcd efgh"},
    {**GMAIL, "Email": "ann@hotmail.com", "Password": "Sx-6-hotmail"},
    {**BASE, "Password": "Sx-7-shared", "Old Password": "Sx-7-old", "API Token": "Sx-7-token"},
    {**BASE, "Password": "Sx-8-shared", "MailReach ID": "Sx-8-id"},
    {**SMARTLEAD, "password": "Sx-9-smtp", "imap_password": "Sx-9-imap"},
    {**BASE, "Password": "Sx-10-shared", "Provider": "Sx-10-provider-typo"},
]


@pytest.mark.parametrize("row", SECRET_ROWS)
def test_no_password_in_problems_notes_original_or_repr(row: dict[str, str]) -> None:
    result = run(row)
    secrets = {
        value.replace("\x00", "").replace(" ", "")
        for header, value in row.items()
        if "pass" in header.lower() or "token" in header.lower()
    }
    shown = " ".join(
        [
            *(p.message for p in result.problems),
            *(p.column or "" for p in result.problems),
            *result.notes,
            *result.original.values(),
            repr(result),
            str(result),
        ]
    ).replace(" ", "")
    assert secrets
    assert not [secret for secret in secrets if secret in shown]


def test_secret_columns_are_blanked_in_original_and_others_kept() -> None:
    original = run({**BASE, "Tags": "vip", "Old Password": "Sx-old"}).original
    assert original == {**BASE, "Password": "", "Tags": "vip", "Old Password": ""}


def test_a_cell_holding_one_of_the_rows_passwords_is_blanked_whatever_its_header() -> None:
    row = {
        **without(BASE, "Password"),
        "IMAP Password": "Sx-imap-1",
        "SMTP Password": "sxfi vexx abcd efgh",
        "Login": " Sx-imap-1 ",  # the same password, under a header that says nothing
        "Backup": "sxfivexxabcdefgh",  # as the Gmail rule would send it
        "Notes": "creds: bob / Sx-imap-1 (rotated)",
        "Tags": "vip",
    }
    original = run(row).original
    assert [h for h in ("Login", "Backup", "Notes") if original[h]] == []
    assert original["Tags"] == "vip"


def test_a_short_password_blanks_only_a_cell_equal_to_it() -> None:
    row = {**BASE, "Password": "a", "Tags": "a", "Notes": "a note"}
    original = run(row).original
    assert (original["Tags"], original["Notes"]) == ("", "a note")


@pytest.mark.parametrize(
    ("note", "kept"),
    [("pw abc1 here", False), ("pw: ABC1", False), ("(abc1)", False), ("xabc1y", True)],
)
def test_a_password_of_3_to_5_characters_blanks_a_cell_where_it_is_a_word(
    note: str, kept: bool
) -> None:
    original = run({**BASE, "Email": "bad@@acme.test", "Password": "abc1", "Notes": note}).original
    assert original["Notes"] == (note if kept else "")


# --- the samples ------------------------------------------------------------------------------


def _sample(name: str, delimiter: str = ",") -> list[NormalisedRow]:
    with (SAMPLES / name).open(encoding="utf-8-sig", newline="") as handle:
        header, *rows = csv.reader(handle, delimiter=delimiter)
    columns = ColumnMap.from_headers(header)
    return [
        normalise(RawRow(number, tuple(cells)), columns, NormaliseOptions())
        for number, cells in enumerate(rows, start=2)
    ]


@pytest.mark.parametrize(
    ("name", "delimiter"), [("instantly-export.csv", ","), ("smartlead-export.csv", ";")]
)
def test_vendor_samples_are_all_good(name: str, delimiter: str) -> None:
    rows = _sample(name, delimiter)
    assert len(rows) == 8
    assert [row.problems for row in rows] == [()] * 8


def test_mailboxes_sample_fails_only_the_personal_outlook_row() -> None:
    rows = _sample("mailboxes.csv")
    assert len(rows) == 12
    failing = {row.row: [p.code for p in row.problems] for row in rows if row.problems}
    assert failing == {8: ["oauth_required"]}


def test_mailboxes_sample_passwords_are_unique_per_row() -> None:
    with (SAMPLES / "mailboxes.csv").open(newline="") as handle:
        passwords = [row["SMTP Password"] for row in csv.DictReader(handle)]
    assert len(set(passwords)) == len(passwords)


def test_every_password_spelling_in_the_samples_stays_out_of_reports() -> None:
    rows = list(itertools.chain(_sample("mailboxes.csv"), _sample("smartlead-export.csv", ";")))
    shown = " ".join(" ".join(row.original.values()) + repr(row) for row in rows)
    assert "Alc-7f3k-Qp92" not in shown
    assert "Up-Sl-1185" not in shown
