"""Account settings and tags read from a row: MailReach's ranges from one table, never a number
changed to fit, `--set` as defaults the sheet overrides, tag ids and names."""

from __future__ import annotations

import re

import pytest

from bulk_onboard.base.hints import hint_for
from bulk_onboard.cli import build_parser
from bulk_onboard.rows.account_settings import SETTINGS, UPDATE_FIELD, parse_setting, read_tags
from bulk_onboard.rows.normalise import NormaliseOptions
from bulk_onboard.sheet.aliases import FIELD_BY_KEY, header_key
from tests.rows.test_normalise import BASE, run


def test_every_setting_is_a_header_under_its_mailreach_name() -> None:
    for setting in SETTINGS:
        assert FIELD_BY_KEY[header_key(setting.name)] == setting.name


def test_the_hint_states_the_tables_ranges() -> None:
    hint = hint_for("invalid_setting")
    for setting in SETTINGS:
        if setting.kind is int:
            assert f"{setting.name} {setting.low}-{setting.high}" in hint


@pytest.mark.parametrize(
    ("cells", "settings"),
    [
        ({"Warmup Limit": "20", "Warmup Increment": "2"},
         {"config_rampup_target": 20, "config_rampup_increase": 2}),
        ({"total_warmup_per_day": "35.0", "daily_rampup": "0"},
         {"config_rampup_target": 35, "config_rampup_increase": 0}),
        ({"autopilot": "yes", "alive": "FALSE", "time_zone": " Europe/Paris "},
         {"autopilot": True, "alive": False, "time_zone": "Europe/Paris"}),
        ({"signature": "Best,<br/>Ann", "Warmup Limit": ""}, {"signature": "Best,<br/>Ann"}),
    ],
)  # fmt: skip
def test_settings_are_read_from_their_columns(
    cells: dict[str, str], settings: dict[str, object]
) -> None:
    row = run({**BASE, **cells})
    assert row.problems == ()
    assert dict(row.settings) == settings
    assert row.request is not None
    assert "config_rampup_target" not in row.request.to_body()


@pytest.mark.parametrize(
    ("header", "value", "allowed"),
    [
        ("Warmup Limit", "40", "from 3 to 35"),
        ("Warmup Limit", "2", "from 3 to 35"),
        ("Warmup Increment", "6", "from 0 to 5"),
        ("Warmup Increment", "2.5", "from 0 to 5"),
        ("config_max_conversation_running", "-1", "from 0 to 35"),
        ("autopilot", "maybe", "true or false"),
    ],
)
def test_a_value_out_of_range_fails_the_row_naming_the_range(
    header: str, value: str, allowed: str
) -> None:
    row = run({**BASE, header: value})
    assert row.request is None
    (problem,) = row.problems
    assert problem.code == "invalid_setting"
    assert header in problem.message
    assert allowed in problem.message


def test_set_gives_defaults_that_a_cell_overrides() -> None:
    options = NormaliseOptions(settings=(("config_rampup_target", 10), ("time_zone", "UTC")))
    row = run({**BASE, "Warmup Limit": "25"}, options)
    assert dict(row.settings) == {"config_rampup_target": 25, "time_zone": "UTC"}
    assert dict(run({**BASE, "Warmup Limit": ""}, options).settings)["config_rampup_target"] == 10


def test_tags_are_ids_or_names_in_order_without_repeats() -> None:
    assert run({**BASE, "Tags": "7; sales-team | 7, 12"}).tags == (7, "sales-team", 12)
    assert read_tags("") == ([], None)
    refs, problem = read_tags("99999999999")
    assert refs == []
    assert problem is not None


@pytest.mark.parametrize(
    ("given", "parsed"),
    [
        ("config_rampup_target=20", ("config_rampup_target", 20)),
        ("alive = false", ("alive", False)),
        ("time_zone=Europe/Paris", ("time_zone", "Europe/Paris")),
    ],
)
def test_set_is_parsed_by_the_table(given: str, parsed: tuple[str, object]) -> None:
    assert parse_setting(given) == parsed


@pytest.mark.parametrize(
    "given", ["config_rampup_target=36", "first_name=Ann", "no_such=1", "alive", "alive="]
)
def test_set_refuses_what_mailreach_would_not_take(given: str) -> None:
    with pytest.raises(ValueError, match=re.escape("--set")):
        parse_setting(given)


def test_the_command_line_refuses_a_setting_out_of_range(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(["run", "in.csv", "--set", "config_rampup_increase=9"])
    assert stopped.value.code == 2
    assert "from 0 to 5" in capsys.readouterr().err
    args = build_parser().parse_args(["run", "in.csv", "--set", "config_rampup_increase=5"])
    assert args.set == [("config_rampup_increase", 5)]
    assert UPDATE_FIELD["config_rampup_increase"].high == 5
