"""`POST /v1/accounts/{id}` takes every documented field within its documented range, and refuses
the rest: generated from the same table the sandbox validates with (bodies.UPDATE_FIELDS)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bulk_onboard.rows.account_settings import UPDATE_FIELDS, UpdateField
from bulk_onboard.sandbox import Sandbox, SandboxConfig, running_sandbox
from tests.sandbox.test_sandbox import call, connect, connect_body


def accepted_values(field: UpdateField) -> list[Any]:
    """Values at the edges of the field's range, and one inside."""
    if field.kind is bool:
        return [True, False]
    assert field.low is not None
    assert field.high is not None
    if field.kind is int:
        return [field.low, field.high, (field.low + field.high) // 2]
    return ["a" * field.low, "b" * field.high, "Europe/Paris"[: field.high]]


def refused_values(field: UpdateField) -> list[Any]:
    """Values just out of range, of another JSON type, or null."""
    if field.kind is bool:
        return [1, "true", None]
    assert field.low is not None
    assert field.high is not None
    if field.kind is int:
        return [field.low - 1, field.high + 1, str(field.low), True, 3.5, None]
    too_short = ["a" * (field.low - 1)] if field.low > 0 else []
    return [*too_short, "c" * (field.high + 1), 7, None]


ACCEPTED = [
    pytest.param(f.name, value, id=f"{f.name}={str(value)[:12]!r}")
    for f in UPDATE_FIELDS
    if f.name != "alias"  # see test_an_alias_must_be_one_the_account_has
    for value in accepted_values(f)
]
REFUSED = [
    pytest.param(f.name, value, id=f"{f.name}={str(value)[:12]!r}")
    for f in UPDATE_FIELDS
    for value in refused_values(f)
]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def account(session: aiohttp.ClientSession) -> AsyncIterator[tuple[Sandbox, str]]:
    async with running_sandbox(SandboxConfig()) as sandbox:
        status, created = await connect(session, sandbox, connect_body())
        assert status == 200
        yield sandbox, f"/v1/accounts/{created['id']}"


def test_the_table_holds_every_documented_field_with_its_range() -> None:
    ranges = {f.name: (f.kind, f.low, f.high) for f in UPDATE_FIELDS}
    assert ranges["config_rampup_target"] == (int, 3, 35)
    assert ranges["config_rampup_increase"] == (int, 0, 5)
    assert ranges["config_max_conversation_running"] == (int, 0, 35)
    assert set(ranges) == {
        "alias", "alive", "autopilot", "config_max_conversation_running",
        "config_rampup_increase", "config_rampup_target", "config_smtp_append_after_sent",
        "desc", "first_name", "last_name", "imap_issue", "signature", "time_zone",
    }  # fmt: skip


@pytest.mark.parametrize(("name", "value"), ACCEPTED)
async def test_a_documented_field_in_range_is_applied(
    session: aiohttp.ClientSession, account: tuple[Sandbox, str], name: str, value: Any
) -> None:
    sandbox, path = account
    status, updated = await call(session, sandbox, "POST", path, {name: value})
    assert status == 200, updated
    _, read_back = await call(session, sandbox, "GET", path)
    shown = {f.name for f in UPDATE_FIELDS if f.in_account}
    if name in shown:
        assert updated[name] == read_back[name] == value
    else:
        assert name not in updated  # desc is taken, and the account object has no such field
        assert updated == read_back


@pytest.mark.parametrize(("name", "value"), REFUSED)
async def test_a_value_out_of_range_or_of_another_type_is_400_and_changes_nothing(
    session: aiohttp.ClientSession, account: tuple[Sandbox, str], name: str, value: Any
) -> None:
    sandbox, path = account
    _, before = await call(session, sandbox, "GET", path)
    # With a valid field beside it: a refused body changes nothing at all.
    other = "last_name" if name == "first_name" else "first_name"
    status, answer = await call(session, sandbox, "POST", path, {other: "Zed", name: value})
    assert status == 400
    assert set(answer) == {"error"}
    assert answer["error"].startswith(name)
    assert (await call(session, sandbox, "GET", path))[1] == before


async def test_an_alias_must_be_one_the_account_has(
    session: aiohttp.ClientSession, account: tuple[Sandbox, str]
) -> None:
    sandbox, path = account
    status, answer = await call(session, sandbox, "POST", path, {"alias": "ada@example.com"})
    assert status == 400
    assert "alias" in answer["error"]
    assert "has none" in answer["error"]


async def test_fields_left_out_keep_their_values(
    session: aiohttp.ClientSession, account: tuple[Sandbox, str]
) -> None:
    sandbox, path = account
    _, before = await call(session, sandbox, "GET", path)
    _, after = await call(session, sandbox, "POST", path, {"config_rampup_target": 30})
    assert {k: v for k, v in after.items() if k != "config_rampup_target"} == {
        k: v for k, v in before.items() if k != "config_rampup_target"
    }


async def test_an_unknown_field_or_an_unknown_account_is_refused(
    session: aiohttp.ClientSession, account: tuple[Sandbox, str]
) -> None:
    sandbox, path = account
    assert (await call(session, sandbox, "POST", path, {"score": 100}))[0] == 400
    assert (await call(session, sandbox, "POST", "/v1/accounts/999", {"alive": True})) == (
        404,
        {"error": "Account not found"},
    )
