"""The preset table: lookups by email domain, by MX host and by server host."""

from __future__ import annotations

import pytest

from bulk_onboard.rows.presets import (
    PRESETS,
    Preset,
    preset_for_email,
    preset_for_mx,
    preset_for_provider,
    provider_for_host,
)


@pytest.mark.parametrize(
    ("email", "preset"),
    [
        ("ann@gmail.com", "Gmail / Google Workspace"),
        ("ann@googlemail.com", "Gmail / Google Workspace"),
        ("ann@contoso.onmicrosoft.com", "Microsoft 365"),
        ("ann@outlook.com", "Outlook.com"),
        ("ann@hotmail.com", "Outlook.com"),
        ("ann@hotmail.co.uk", "Outlook.com"),
        ("ann@live.fr", "Outlook.com"),
        ("ann@msn.com", "Outlook.com"),
        ("ann@yahoo.com", "Yahoo Mail"),
        ("ann@yahoo.co.jp", "Yahoo Mail"),
        ("ann@ymail.com", "Yahoo Mail"),
        ("ann@aol.com", "AOL Mail"),
        ("ann@icloud.com", "iCloud Mail"),
        ("ann@me.com", "iCloud Mail"),
        ("ann@mac.com", "iCloud Mail"),
        ("ann@zoho.com", "Zoho Mail"),
        ("ann@zohomail.eu", "Zoho Mail EU"),
        ("ann@zoho.in", "Zoho Mail India"),
        ("ann@zohomail.com.au", "Zoho Mail Australia"),
        ("ann@yandex.ru", "Yandex Mail"),
        ("ann@gmx.com", "GMX"),
        ("ann@gmx.de", "GMX Germany"),
        ("ann@mail.ru", "Mail.ru"),
        ("ann@fastmail.com", "Fastmail"),
        ("Ann@GMAIL.COM ", "Gmail / Google Workspace"),
    ],
)
def test_preset_for_email_by_domain(email: str, preset: str) -> None:
    found = preset_for_email(email)
    assert found is not None
    assert found.name == preset


@pytest.mark.parametrize(
    "email",
    [
        "ann@acme.test",
        "ann@live.example.test",  # a brand as the first label of an unrelated domain
        "ann@notgmail.com",
        "ann@gmail.com.evil.test",
        "not-an-email",
    ],
)
def test_preset_for_email_unknown_domain(email: str) -> None:
    assert preset_for_email(email) is None


def test_personal_outlook_is_oauth_only_and_microsoft_365_is_not() -> None:
    personal, business = preset_for_email("a@hotmail.com"), preset_for_email("a@x.onmicrosoft.com")
    assert personal is not None
    assert personal.oauth_only
    assert business is not None
    assert not business.oauth_only


@pytest.mark.parametrize(
    ("mx", "preset"),
    [
        ("aspmx.l.google.com", "Gmail / Google Workspace"),
        ("alt1.aspmx.l.google.com.", "Gmail / Google Workspace"),
        ("smtp.google.com", "Gmail / Google Workspace"),
        ("acme-test.mail.protection.outlook.com", "Microsoft 365"),
        ("hotmail-com.olc.protection.outlook.com", "Outlook.com"),
        ("mta5.am0.yahoodns.net", "Yahoo Mail"),
        ("mx-aol.mail.gm0.yahoodns.net", "AOL Mail"),
        ("mx01.mail.icloud.com", "iCloud Mail"),
        ("mx.zoho.com", "Zoho Mail Pro"),
        ("mx2.zoho.eu", "Zoho Mail Pro EU"),
        ("mx.zoho.in", "Zoho Mail Pro India"),
        ("mx.zoho.com.au", "Zoho Mail Pro Australia"),
        ("mailstore1.secureserver.net", "GoDaddy Workspace Email"),
        ("mx1.hostinger.com", "Hostinger Email"),
        ("mx1.privateemail.com", "Namecheap Private Email"),
        ("mx1.titan.email", "Titan Email"),
        ("mx.yandex.net", "Yandex Mail"),
        ("emx.mail.ru", "Mail.ru"),
        ("in1-smtp.messagingengine.com", "Fastmail"),
    ],
)
def test_preset_for_mx_by_suffix(mx: str, preset: str) -> None:
    found = preset_for_mx(mx)
    assert found is not None
    assert found.name == preset


@pytest.mark.parametrize("mx", ["mx.acme.test", "fakegoogle.com", "evilzoho.com", ""])
def test_preset_for_mx_unknown(mx: str) -> None:
    assert preset_for_mx(mx) is None


@pytest.mark.parametrize(
    ("host", "provider"),
    [
        ("imap.gmail.com", "gmail"),
        ("smtp.gmail.com", "gmail"),
        ("IMAP.GMAIL.COM", "gmail"),
        ("smtp.gmail.com.", "gmail"),
        ("outlook.office365.com", "outlook"),
        ("smtp.office365.com", "outlook"),
        ("smtp-mail.outlook.com", "outlook"),
        ("imap.mail.yahoo.com", "custom"),
        ("imappro.zoho.com", "custom"),
        ("mail.privateemail.com", "custom"),
        ("imap.acme.test", None),
        ("", None),
    ],
)
def test_provider_for_host(host: str, provider: str | None) -> None:
    assert provider_for_host(host) == provider


@pytest.mark.parametrize(
    ("provider", "imap_host"),
    [("gmail", "imap.gmail.com"), ("outlook", "outlook.office365.com"), ("custom", None)],
)
def test_preset_for_provider(provider: str, imap_host: str | None) -> None:
    found = preset_for_provider(provider)
    assert (found.imap_host if found else None) == imap_host


@pytest.mark.parametrize("preset", PRESETS, ids=lambda preset: preset.name)
def test_each_preset_is_consistent(preset: Preset) -> None:
    assert provider_for_host(preset.imap_host) == preset.provider
    assert provider_for_host(preset.smtp_host) == preset.provider
    # STARTTLS on 587, TLS from the first byte on 465: the rule normalise applies too.
    assert {587: True, 465: False}[preset.smtp_port] is preset.smtp_starttls
    assert preset.imap_port == 993


def test_microsoft_365_settings() -> None:
    found = preset_for_mx("acme.mail.protection.outlook.com")
    assert found is not None
    assert (found.imap_host, found.imap_port, found.smtp_host, found.smtp_port) == (
        "outlook.office365.com",
        993,
        "smtp.office365.com",
        587,
    )


def test_icloud_smtp_is_starttls_on_587() -> None:
    found = preset_for_email("ann@icloud.com")
    assert found is not None
    assert (found.smtp_host, found.smtp_port, found.smtp_starttls) == (
        "smtp.mail.me.com",
        587,
        True,
    )
