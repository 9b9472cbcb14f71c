"""Secrets taken out of text that came from outside: every form a server may repeat them in."""

from __future__ import annotations

import pytest

from bulk_onboard.base.redaction import MASK, Redactor

PASSWORD = "Tr0ub4dor&3 horse"
KEY = "mr_live_8fJ2kq"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"invalid password {PASSWORD} for bob", f"invalid password {MASK} for bob"),
        (f"bad key {KEY}.", f"bad key {MASK}."),
        ("password TR0UB4DOR&3 HORSE refused", f"password {MASK} refused"),  # case changed
        ("Tr0ub4dor&3   horse", MASK),  # whitespace runs made one
        ('{"password": "Tr0ub4dor&3 horse"}', f'{{"password": "{MASK}"}}'),
        ("pw=Tr0ub4dor%263%20horse&x=1", f"pw={MASK}&x=1"),  # percent-encoded
        ("pw=Tr0ub4dor%263+horse", f"pw={MASK}"),  # form-encoded
        ("<b>Tr0ub4dor&amp;3 horse</b>", f"<b>{MASK}</b>"),  # HTML-escaped
        (f"{KEY}{PASSWORD}", MASK + MASK),
        ("nothing secret here", "nothing secret here"),
    ],
)
def test_each_form_of_a_secret_is_removed(text: str, expected: str) -> None:
    assert Redactor([PASSWORD, KEY])(text) == expected


QUOTED = "Zq9'SEC\"RET/77&1"  # both quotes, a slash and an ampersand: each framework differs


@pytest.mark.parametrize(
    "form",
    [
        "Zq9&#39;SEC&quot;RET/77&amp;1",  # Rails
        "Zq9&#39;SEC&#34;RET/77&amp;1",  # Go's html.EscapeString
        "Zq9&#039;SEC&quot;RET/77&amp;1",  # PHP's htmlspecialchars
        "Zq9&apos;SEC&quot;RET/77&amp;1",  # XML
        r"Zq9'SEC\\\"RET/77&1",  # JSON inside a JSON string
        r"Zq9'SEC\"RET\/77&1",  # PHP's json_encode
        r"Zq9\u0027SEC\u0022RET\u002f77\u00261",  # Go and .NET's escapes, in text
        r"Zq9\u0027SEC\u0022RET\u002F77\u00261",
    ],
)
def test_each_frameworks_escaping_of_a_secret_is_removed(form: str) -> None:
    assert Redactor([QUOTED])(f"refused: {form} (bad)") == f"refused: {MASK} (bad)"


def test_a_secret_cut_short_where_the_text_was_shortened_is_removed() -> None:
    redact = Redactor([PASSWORD])
    assert redact("535 auth failed for Tr0ub4dor&…") == f"535 auth failed for {MASK}…"
    assert redact("535 auth failed for 'Tr0ub4dor&...'") == f"535 auth failed for '{MASK}...'"
    assert redact("Connecting... done") == "Connecting... done"
    assert redact("a reply … then more") == "a reply … then more"
    assert redact("short Tr0…") == "short Tr0…"  # too little of it left to say anything


def test_a_secret_holding_another_is_removed_whole() -> None:
    assert Redactor(["secret-1", "secret-12345"])("x secret-12345 y") == f"x {MASK} y"


def test_a_short_password_is_removed_only_where_it_stands_alone() -> None:
    redact = Redactor(["a", "pw12"])
    assert redact("MailReach said a is wrong") == f"MailReach said {MASK} is wrong"
    assert redact("login pw12: no") == f"login {MASK}: no"
    assert redact("apw123 and MailReach") == "apw123 and MailReach"


def test_a_json_body_is_redacted_everywhere_keys_included() -> None:
    body = {"error": f"bad {PASSWORD}", "errors": [f"key {KEY}", 3], PASSWORD: None, "ok": True}
    assert Redactor([PASSWORD, KEY]).value(body) == {
        "error": f"bad {MASK}", "errors": [f"key {MASK}", 3], MASK: None, "ok": True,
    }  # fmt: skip


def test_no_secret_means_text_is_returned_as_it_is() -> None:
    redact = Redactor(["", "  "])
    assert not redact
    text = "anything at all …"
    assert redact(text) is text


def test_text_holding_only_part_of_a_secret_is_not_searched() -> None:
    """An answer's keys (`imap_server_port`) hold a run of a password like `imap-pw-7`: looking
    costs a pattern per row, so ASCII text missing any run of the secret is passed as it is."""
    redact = Redactor(["imap-pw-7"])
    assert not redact.mentioned_in("imap_server_port")
    assert not redact.mentioned_in("IMAP PW")  # the 7 is missing
    assert redact.mentioned_in("login failed: IMAP PW 7")  # may be a form of it: searched
    assert redact("imap_server_port") == "imap_server_port"
    assert redact("sent imap-pw-7 to you") == f"sent {MASK} to you"
    assert redact("sent IMAP-PW-7") == f"sent {MASK}"
    # Outside ASCII a case-insensitive match is not the lower-cased text's: the core decides.
    assert Redactor(["Straße-99"]).mentioned_in("STRAẞE")  # no 99, but not ASCII
    # A raw JSON body that escapes a letter holds the run only once parsed: the core decides.
    assert redact.mentioned_in('{"error": "bad password IMAP-\\u0070w-7"}')
