"""The preflight's pure rules, as tables: failure codes, DNS records, ports, options, hints."""

from __future__ import annotations

import ssl

import pytest

from bulk_onboard.base.hints import HINTS
from bulk_onboard.preflight.connect import Security, imap_security, smtp_security
from bulk_onboard.preflight.domain import DomainReport, dkim_key, dmarc_record, spf_record
from bulk_onboard.preflight.failures import (
    CheckFailed,
    Code,
    Phase,
    imap_login_refused,
    os_failure,
    smtp_auth_refused,
    timeout_failure,
    tls_failure,
)
from bulk_onboard.preflight.mailbox import LoginResult, MailboxReport, mailbox_of
from bulk_onboard.preflight.row_check import smtp_auth_type, with_accepted_auth_type
from bulk_onboard.preflight.settings import Nameserver, parse_nameserver
from bulk_onboard.preflight.smtp import pick_mechanism
from bulk_onboard.rows.normalise import NormalisedRow, NormaliseOptions, normalise
from bulk_onboard.sheet.columns import ColumnMap
from bulk_onboard.sheet.table import RawRow


def test_every_code_has_a_one_sentence_hint() -> None:
    for code in Code:
        hint = HINTS[code.value]
        assert hint.endswith("."), code
        assert ". " not in hint.replace("e.g. ", ""), code


@pytest.mark.parametrize(
    ("reply_code", "text", "expected"),
    [
        (534, "5.7.9 Application-specific password required. Learn more at",
         Code.APP_PASSWORD_REQUIRED),
        (535, "5.7.8 Username and Password not accepted.", Code.SMTP_AUTH_FAILED),
        (535, "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for "
              "the Tenant.", Code.SMTP_AUTH_DISABLED_TENANT),
        (535, "5.7.139 Authentication unsuccessful, basic authentication is disabled.",
         Code.SMTP_AUTH_DISABLED_TENANT),
        (535, "5.7.139 Authentication unsuccessful, the user credentials were incorrect.",
         Code.SMTP_AUTH_FAILED),
        (454, "4.7.0 Temporary authentication failure", Code.SERVER_UNAVAILABLE),
        (530, "5.7.0 Must issue a STARTTLS command first", Code.TLS_NOT_OFFERED),
    ],
)  # fmt: skip
def test_smtp_refusals_are_classified(reply_code: int, text: str, expected: Code) -> None:
    failure = smtp_auth_refused(reply_code, text)
    assert failure.code is expected
    assert str(reply_code) in failure.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"[AUTHENTICATIONFAILED] Invalid credentials (Failure)", Code.IMAP_AUTH_FAILED),
        (b"[ALERT] Application-specific password required: https://support.google.com",
         Code.APP_PASSWORD_REQUIRED),
        (b"[ALERT] Your account is not enabled for IMAP use.", Code.IMAP_DISABLED),
        (b"AUTHENTICATE failed.", Code.IMAP_AUTH_FAILED),
        (b"[UNAVAILABLE] Temporary authentication failure", Code.SERVER_UNAVAILABLE),
        (b"[PRIVACYREQUIRED] Plaintext authentication disallowed", Code.TLS_NOT_OFFERED),
    ],
)  # fmt: skip
def test_imap_refusals_are_classified(text: bytes, expected: Code) -> None:
    assert imap_login_refused(text).code is expected


def _verify_error(code: int, message: str) -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(1, message)
    error.verify_code = code
    error.verify_message = message
    return error


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (_verify_error(62, "Hostname mismatch"), Code.TLS_NAME_MISMATCH),
        (_verify_error(20, "unable to get local issuer certificate"), Code.TLS_UNTRUSTED),
        (_verify_error(18, "self-signed certificate"), Code.TLS_UNTRUSTED),
        (_verify_error(10, "certificate has expired"), Code.TLS_EXPIRED),
        (ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"), Code.TLS_FAILED),
    ],
)
def test_tls_errors_are_classified(error: ssl.SSLError, expected: Code) -> None:
    assert tls_failure(error, "imap.example.com:993").code is expected


@pytest.mark.parametrize(
    ("phase", "expected"),
    [
        (Phase.RESOLVE, Code.DNS_TIMEOUT),
        (Phase.CONNECT, Code.CONNECT_TIMEOUT),
        (Phase.TLS, Code.SERVER_TIMEOUT),
        (Phase.GREETING, Code.SERVER_TIMEOUT),
        (Phase.AUTH, Code.SERVER_TIMEOUT),
    ],
)
def test_a_deadline_passing_is_named_by_where_the_check_was(phase: Phase, expected: Code) -> None:
    assert timeout_failure(phase, "h:1").code is expected


def test_os_errors_are_classified() -> None:
    assert os_failure(ConnectionRefusedError(111, "refused"), Phase.CONNECT, "h:1").code is (
        Code.CONNECT_REFUSED
    )
    assert os_failure(OSError(101, "unreachable"), Phase.CONNECT, "h:1").code is (
        Code.NETWORK_UNREACHABLE
    )
    assert os_failure(ConnectionResetError(104, "reset"), Phase.AUTH, "h:1").code is (
        Code.SERVER_CLOSED
    )


@pytest.mark.parametrize(
    ("txts", "valid"),
    [
        (["v=spf1 include:_spf.google.com ~all"], True),
        (["google-site-verification=x", "v=spf1 -all"], True),
        (["v=spf1 a -all", "v=spf1 mx -all"], False),  # two records: a permanent error
        (["v=spf10 -all"], False),
        ([], False),
    ],
)
def test_spf(txts: list[str], valid: bool) -> None:
    assert spf_record(txts)[0] is valid


@pytest.mark.parametrize(
    ("txts", "valid"),
    [
        (["v=DMARC1; p=none; rua=mailto:d@example.com"], True),
        (["v=DMARC1;p=reject"], True),
        (["v=DMARC1; rua=mailto:d@example.com"], False),  # no policy
        (["v=DMARC1; p=maybe"], False),
        ([], False),
    ],
)
def test_dmarc(txts: list[str], valid: bool) -> None:
    assert dmarc_record(txts)[0] is valid


@pytest.mark.parametrize(
    ("txts", "valid"),
    [
        (["v=DKIM1; k=rsa; p=MIIBIjANBg"], True),
        (["k=rsa; p=MIIBIjANBg"], True),
        (["v=DKIM1; k=rsa; p="], False),  # revoked
        (["v=spf1 -all"], False),
    ],
)
def test_dkim(txts: list[str], valid: bool) -> None:
    assert dkim_key(txts) is valid


@pytest.mark.parametrize(
    ("port", "starttls", "expected"),
    [
        (465, None, Security.TLS),
        (587, None, Security.STARTTLS),
        (25, None, Security.STARTTLS),
        (2525, None, Security.STARTTLS),
        (2465, None, Security.AUTO),
        (587, False, Security.TLS),  # the row's own setting wins
        (465, True, Security.STARTTLS),
    ],
)
def test_smtp_security(port: int, starttls: bool | None, expected: Security) -> None:
    assert smtp_security(port, starttls) is expected


def test_imap_security() -> None:
    assert [imap_security(p) for p in (993, 143, 1993)] == [
        Security.TLS, Security.STARTTLS, Security.AUTO,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("offered", "auth_type", "expected"),
    [
        (["plain", "login"], None, "plain"),
        (["login"], None, "login"),
        (["plain", "login"], "login", "login"),
        (["plain", "cram-md5"], "cram_md5", "cram-md5"),
        (["cram-md5"], "plain", "cram-md5"),
        (["xoauth2"], None, None),
    ],
)
def test_mechanism(offered: list[str], auth_type: str | None, expected: str | None) -> None:
    assert pick_mechanism(offered, auth_type) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:5353", Nameserver("127.0.0.1", 5353)),
        ("1.1.1.1", Nameserver("1.1.1.1", 53)),
        ("[::1]:5300", Nameserver("::1", 5300)),
        ("::1", Nameserver("::1", 53)),
    ],
)
def test_nameserver(text: str, expected: Nameserver) -> None:
    assert parse_nameserver(text) == expected


@pytest.mark.parametrize("text", ["dns.google:53", "127.0.0.1:0", "127.0.0.1:x"])
def test_a_nameserver_must_be_an_address_and_port(text: str) -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.1|dns\.google"):
        parse_nameserver(text)


def test_logins_default_to_the_email_and_the_shared_password() -> None:
    mailbox = mailbox_of({
        "email": "Ann@Example.com", "password": "shared-secret-1",
        "imap_server": "imap.example.com", "imap_server_port": 993,
        "smtp_server": "smtp.example.com", "smtp_server_port": 465,
        "smtp_server_starttls": False, "smtp_server_password": "own-secret-2",
    })  # fmt: skip
    assert mailbox.imap is not None
    assert mailbox.smtp is not None
    assert (mailbox.imap.username, mailbox.imap.password) == ("ann@example.com", "shared-secret-1")
    assert (mailbox.smtp.password, mailbox.smtp.security) == ("own-secret-2", Security.TLS)
    assert "secret" not in repr(mailbox)


def test_smtp_only_mailboxes_skip_imap() -> None:
    body = {"email": "a@b.co", "imap_server": "i.b.co", "smtp_server": "s.b.co", "smtp_only": True}
    assert mailbox_of(body).imap is None


def _checked_row(auth_cell: str | None) -> NormalisedRow:
    cells = {
        "Email": "ann@acme.test",
        "First Name": "Ann",
        "Last Name": "Lee",
        "IMAP Host": "imap.acme.test",
        "SMTP Host": "smtp.acme.test",
        "Password": "Pw-rules-81Kq",
        **({} if auth_cell is None else {"Auth Type": auth_cell}),
    }
    columns = ColumnMap.from_headers(list(cells))
    return normalise(RawRow(2, tuple(cells.values())), columns, NormaliseOptions())


def _report(mechanism: str | None, *, smtp_ok: bool = True) -> MailboxReport:
    failure = None if smtp_ok else CheckFailed(Code.SMTP_AUTH_FAILED, "refused")
    return MailboxReport(
        DomainReport("acme.test"),
        LoginResult("IMAP", None, 3),
        LoginResult("SMTP", failure, 4, mechanism=mechanism),
    )


@pytest.mark.parametrize(
    ("auth_cell", "mechanism", "sent"),
    [
        (None, "login", "login"),  # what the server accepted is what MailReach will use
        (None, "cram-md5", "cram_md5"),
        (None, "plain", "plain"),
        ("plain", "login", "plain"),  # unless the sheet names one
        (None, None, None),  # no SMTP AUTH was tried
    ],
)
def test_the_row_sent_after_the_preflight_carries_the_auth_type_that_worked(
    auth_cell: str | None, mechanism: str | None, sent: str | None
) -> None:
    item = _checked_row(auth_cell)
    named = auth_cell is not None
    checked = with_accepted_auth_type(item, _report(mechanism), sheet_names_one=named)
    assert checked.request is not None
    assert checked.request.to_body().get("smtp_server_auth_type") == sent
    assert smtp_auth_type(_report("login", smtp_ok=False)) is None
