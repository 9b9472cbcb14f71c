"""Text made safe to print: control characters escaped, URLs without their credentials."""

from __future__ import annotations

import pytest

from bulk_onboard.base.printable import argv_shown, printable, url_shown


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://api.mailreach.co/api", "https://api.mailreach.co/api"),
        ("https://user:s3cret@api.example.test/api", "https://api.example.test/api"),
        ("http://token@127.0.0.1:8025/api?page=1", "http://127.0.0.1:8025/api?page=1"),
        ("https://a:b@c@host.test", "https://host.test"),
        ("not a url", "not a url"),
        ("https://host.test/path@with-at", "https://host.test/path@with-at"),
        ("https://host.test?next=a@b", "https://host.test?next=a@b"),
    ],
)
def test_a_url_is_shown_without_its_credentials(url: str, shown: str) -> None:
    assert url_shown(url) == shown


def test_control_characters_are_escaped_and_long_text_cut() -> None:
    assert printable("a\x1b[2Jb\nc") == "a\\x1b[2Jb\\nc"
    assert printable("x" * 100, 10) == "x" * 9 + "…"


def test_a_command_line_is_stored_with_every_url_bare() -> None:
    argv = ["run", "in.csv", "--api-url", "https://u:p@h.test/api", "--api-url=http://u:p@h.test"]
    assert argv_shown(argv) == [
        "run", "in.csv", "--api-url", "https://h.test/api", "--api-url=http://h.test",
    ]  # fmt: skip
