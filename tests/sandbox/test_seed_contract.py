"""The seed's example is the sandbox's contract: every account object the sandbox answers has
exactly its shape (key paths, JSON types, nesting), so the sandbox can't drift from MailReach.

The example is read from the vendored copy of MailReach's page (docs/mailreach/imap_auth.txt);
the copy is checked against the seed beside the repository when that file is there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bulk_onboard.preflight.domain import DomainReport
from bulk_onboard.sandbox import Sandbox, SandboxConfig, running_sandbox
from tests.sandbox.test_sandbox import call, connect, connect_body
from tests.support.seed import (
    SHARED_SEED,
    VENDORED_SEED,
    example_account,
    json_type,
    shape_differences,
)

EXAMPLE = example_account()

# Bodies covering each way the sandbox builds an account: the three providers, a domain
# without DNS, SMTP-only and spam-checker-only, a custom host of a big provider.
BODIES: dict[str, dict[str, Any]] = {
    "gmail": connect_body("ada@example.com"),
    "outlook": connect_body("bob@contoso.test", provider="outlook"),
    "custom": connect_body(
        "cy@acme.test",
        provider="custom",
        imap_server="imap.acme.test",
        imap_server_port=993,
        smtp_server="smtp.acme.test",
        smtp_server_port=465,
        smtp_server_starttls=False,
        smtp_server_auth_type="login",
    ),
    "nodns": connect_body("eve@broken.nodns.test"),
    "smtp_only": connect_body(
        "sol@acme.test",
        provider="custom",
        smtp_server="smtp.office365.com",
        smtp_server_port=587,
        smtp_only=True,
    ),
    "spamchecker": connect_body("spam@example.com", spamchecker_only=True, imap_issue=True),
}


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with running_sandbox(SandboxConfig(page_size=4)) as running:
        yield running


async def _connected(session: aiohttp.ClientSession, sandbox: Sandbox) -> list[dict[str, Any]]:
    accounts = []
    for body in BODIES.values():
        status, account = await connect(session, sandbox, body)
        assert status == 200, account
        accounts.append(account)
    return accounts


def test_the_example_is_read_from_the_vendored_page() -> None:
    assert EXAMPLE["email"] == "john@acme.com"
    assert EXAMPLE["domain"]["domain"] == "acme.com"
    assert EXAMPLE["domain"]["mx_records"] == [
        ["acme-com.mail.protection.outlook.com", "52.101.166.1", "0"]
    ]
    assert EXAMPLE["tags"] == [{"id": 7, "name": "sales-team"}]


@pytest.mark.skipif(
    not SHARED_SEED.exists(), reason=f"no seed beside the repository: {SHARED_SEED}"
)
def test_the_vendored_page_holds_the_seeds_example() -> None:
    seed = example_account(SHARED_SEED)
    assert shape_differences(seed, EXAMPLE) == []
    assert seed == EXAMPLE
    assert VENDORED_SEED.read_text(encoding="utf-8") == SHARED_SEED.read_text(encoding="utf-8")


def test_the_comparison_sees_a_missing_key_a_new_key_a_type_and_a_nested_element() -> None:
    drifted = {**EXAMPLE, "score": "92", "extra": 1}
    del drifted["time_zone"]
    drifted["domain"] = {**EXAMPLE["domain"], "mx_records": [["mx.acme.com", "1.2.3.4", 0]]}
    drifted["tags"] = [{"id": 7}]
    assert shape_differences(EXAMPLE, drifted) == [
        "$.domain.mx_records[0][2]: number, expected string",
        "$.extra: not in the example",
        "$.score: string, expected number",
        "$.tags[0].name: missing",
        "$.time_zone: missing",
    ]


@pytest.mark.parametrize("kind", BODIES)
async def test_imap_auth_answers_in_the_examples_shape(
    session: aiohttp.ClientSession, sandbox: Sandbox, kind: str
) -> None:
    status, account = await connect(session, sandbox, BODIES[kind])
    assert status == 200, account
    assert shape_differences(EXAMPLE, account) == []
    assert list(account) == list(EXAMPLE)  # in the example's order, too
    assert list(account["domain"]) == list(EXAMPLE["domain"])


async def test_updating_by_id_answers_in_the_examples_shape(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    _, created = await connect(session, sandbox, BODIES["custom"])
    status, updated = await connect(session, sandbox, {**BODIES["custom"], "id": created["id"]})
    assert status == 200
    assert updated["id"] == created["id"]
    assert shape_differences(EXAMPLE, updated) == []


async def test_get_account_and_every_listing_item_have_the_examples_shape(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    accounts = await _connected(session, sandbox)
    # Tags come from MailReach's tag endpoints; put one on so their element shape is compared.
    drift = f"/_sandbox/accounts/{accounts[0]['id']}/drift"
    assert (await call(session, sandbox, "POST", drift, {"tags": [{"id": 7, "name": "sales"}]}))[
        0
    ] == 200
    for account in accounts:
        status, got = await call(session, sandbox, "GET", f"/v1/accounts/{account['id']}")
        assert status == 200
        assert shape_differences(EXAMPLE, got) == []
    listed = []
    for page in range(3):
        status, items = await call(session, sandbox, "GET", f"/v1/accounts?page={page}")
        assert status == 200
        listed += items
    assert len(listed) == len(BODIES)
    for item in listed:
        assert shape_differences(EXAMPLE, item) == [], item["email"]
    assert listed[0]["tags"] == [{"id": 7, "name": "sales"}]


async def test_the_update_endpoint_answers_in_the_examples_shape(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    _, created = await connect(session, sandbox, BODIES["gmail"])
    changes = {"alive": False, "signature": "Best,<br/>Ada", "time_zone": "Paris", "desc": "x"}
    status, updated = await call(session, sandbox, "POST", f"/v1/accounts/{created['id']}", changes)
    assert status == 200
    assert shape_differences(EXAMPLE, updated) == []


async def test_a_dry_run_of_a_new_email_differs_only_by_its_missing_id(
    session: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    # `test: true` creates nothing, so there is no id to give; the rest is the example's shape.
    status, preview = await connect(session, sandbox, {**BODIES["gmail"], "test": True})
    assert status == 200
    assert shape_differences(EXAMPLE, preview) == ["$.id: null, expected number"]


def test_verify_fills_the_domain_with_the_examples_dns_fields_and_types() -> None:
    report = DomainReport("acme.test", mx_records=("mx.acme.test",), spf_valid=True)
    domain = report.as_api_domain()
    example = EXAMPLE["domain"]
    assert set(domain) <= set(example)
    assert {key: json_type(value) for key, value in domain.items()} == {
        key: json_type(example[key]) for key in domain
    }
    assert shape_differences(example["mx_records"], domain["mx_records"]) == []
