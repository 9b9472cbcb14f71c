"""Reading MailReach's account object, on the published example itself and on odd variants."""

from __future__ import annotations

from typing import Any

import pytest

from bulk_onboard.api.accounts import account_fields, mx_hosts, tag_names, tracked
from tests.support.seed import example_account

EXAMPLE = example_account()


def test_the_published_example_reads_into_every_report_column() -> None:
    fields = account_fields(EXAMPLE, "john@acme.com")
    assert fields == {
        "account_id": 1234,
        "provider": "gmail",
        "score": 92,
        "score_gmail": 95,
        "score_outlook": 88,
        "score_custom": 91,
        "alive": True,
        "suspended": False,
        "warming_enabled": True,
        "imap_issue": False,
        "detected_sending_provider": "google",
        "domain": "acme.com",
        "spf_valid": True,
        "dkim_valid": True,
        "dmarc_valid": True,
        "mx_records": "acme-com.mail.protection.outlook.com",
        "domain_avg_score": 99,
        "sending_ip": "209.85.220.41",
        "sending_reverse_dns": "mail-sor-f41.google.com",
        "tags": "sales-team",
        # Not report columns: the warm-up settings `sync` tracks for drift.
        "config_max_conversation_running": 10,
        "config_rampup_increase": 2,
        "config_rampup_target": 25,
    }


def test_the_domain_comes_from_domain_domain_not_the_email() -> None:
    account = {**EXAMPLE, "domain": {**EXAMPLE["domain"], "domain": "acme-parent.com"}}
    assert account_fields(account, "john@acme.com")["domain"] == "acme-parent.com"


def test_the_published_examples_tracked_fields() -> None:
    assert tracked(account_fields(EXAMPLE, "john@acme.com")) == {
        "score": 92, "score_gmail": 95, "score_outlook": 88, "score_custom": 91,
        "alive": True, "suspended": False, "imap_issue": False,
        "spf_valid": True, "dkim_valid": True, "dmarc_valid": True,
        "config_max_conversation_running": 10, "config_rampup_increase": 2,
        "config_rampup_target": 25,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("records", "hosts"),
    [
        (
            [["b.mx.test", "192.0.2.2", "20"], ["a.mx.test", "192.0.2.1", "10"]],
            ["a.mx.test", "b.mx.test"],
        ),
        ([["MX.Example.TEST.", "", ""]], ["mx.example.test"]),
        (["a.mx.test", "b.mx.test"], ["a.mx.test", "b.mx.test"]),
        (
            [{"host": "a.mx.test", "priority": 5}, {"exchange": "b.mx.test", "preference": 1}],
            ["b.mx.test", "a.mx.test"],
        ),
        ([[], [None, "192.0.2.1", "0"], [" "], 7], []),
        ("a.mx.test", []),
        (None, []),
    ],
)  # fmt: skip
def test_mx_records_become_host_names_most_preferred_first(records: Any, hosts: list[str]) -> None:
    assert mx_hosts(records) == hosts


def test_tags_become_their_names() -> None:
    assert tag_names([{"id": 7, "name": "sales-team"}, {"id": 8, "name": " q4 "}]) == [
        "sales-team",
        "q4",
    ]
    assert tag_names([{"id": 9}, "bare", 3]) == ["bare"]
    assert tag_names(None) == []


def test_nothing_of_an_unexpected_shape_is_shown_as_python_or_json_text() -> None:
    odd = {
        "id": "1234",
        "score": {"value": 92},
        "detected_sending_provider": ["google"],
        "sending_ip": {"v4": "209.85.220.41"},
        "domain": {"domain": ["acme.com"], "spf_valid": {"ok": True}, "mx_records": "x"},
        "tags": "sales",
    }
    fields = account_fields(odd, "john@acme.com")
    for column, value in fields.items():
        assert not isinstance(value, str) or not value.startswith(("{", "[")), column
    assert fields["account_id"] is None
    assert fields["score"] is None
    assert fields["domain"] == "acme.com"  # from the email: the object's was no text
    assert fields["mx_records"] == ""
    assert fields["tags"] == ""
