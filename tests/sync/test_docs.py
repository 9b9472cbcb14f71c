"""The scheduling examples of docs/scheduling.md, checked as far as this machine allows."""

from __future__ import annotations

import re
import runpy
import shlex
import shutil
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest
import yaml

from bulk_onboard.cli import build_parser

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"
SERVICE = EXAMPLES / "bulk-onboard-sync.service"
TIMER = EXAMPLES / "bulk-onboard-sync.timer"
CRONTAB = EXAMPLES / "bulk-onboard-sync.crontab"
CRONJOB = EXAMPLES / "bulk-onboard-sync-cronjob.yaml"
DAG = EXAMPLES / "airflow_bulk_onboard_sync.py"
CRON_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$")


def unit_settings(path: Path) -> dict[str, list[str]]:
    """KEY -> values of a systemd unit file (sections flattened; enough for these checks)."""
    settings: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def crontab_entries() -> list[str]:
    return [
        line
        for line in CRONTAB.read_text().splitlines()
        if line.strip() and not line.startswith("#") and not re.match(r"^\w+=", line)
    ]


def bulk_onboard_args(command_line: str) -> list[str]:
    """The arguments after the `bulk-onboard` word of a shell command line."""
    words = shlex.split(command_line)
    start = next(
        i for i, w in enumerate(words[:-1]) if w.endswith("bulk-onboard") and words[i + 1] == "sync"
    )
    args = words[start + 1 :]
    return args[: args.index(">>")] if ">>" in args else args


class _Recorder:
    """Stands in for Airflow's DAG and BashOperator: keeps the keyword arguments."""

    def __init__(self, made: list[_Recorder], kwargs: dict[str, Any]) -> None:
        self.kwargs = kwargs
        made.append(self)

    def __enter__(self) -> _Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


@pytest.fixture
def fake_airflow(monkeypatch: pytest.MonkeyPatch) -> list[_Recorder]:
    """Just enough of Airflow's modules for the DAG file to run: records what it builds."""
    made: list[_Recorder] = []

    def recorder(**kwargs: Any) -> _Recorder:
        return _Recorder(made, kwargs)

    airflow = types.ModuleType("airflow")
    bash = types.ModuleType("airflow.operators.bash")
    airflow.DAG = recorder  # type: ignore[attr-defined]
    bash.BashOperator = recorder  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "airflow", airflow)
    monkeypatch.setitem(sys.modules, "airflow.operators", types.ModuleType("airflow.operators"))
    monkeypatch.setitem(sys.modules, "airflow.operators.bash", bash)
    return made


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    # verify insists that ExecStart's program exists: point it at a stand-in.
    program = tmp_path / "bulk-onboard"
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(0o755)
    service = SERVICE.read_text().replace("/opt/bulk-onboard/bin/bulk-onboard", str(program))
    (tmp_path / SERVICE.name).write_text(service)
    shutil.copy(TIMER, tmp_path / TIMER.name)
    done = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / SERVICE.name), str(tmp_path / TIMER.name)],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == ""  # unknown keys are only warnings: none allowed


def test_the_service_takes_exit_75_as_success_and_the_timer_catches_up_missed_runs() -> None:
    assert unit_settings(SERVICE)["SuccessExitStatus"] == ["75"]
    assert unit_settings(TIMER)["Persistent"] == ["true"]
    assert unit_settings(TIMER)["Unit"] == [SERVICE.name]


def test_the_crontab_line_has_five_valid_time_fields() -> None:
    (entry,) = crontab_entries()
    fields = entry.split()[:5]
    assert all(CRON_FIELD.match(field) for field in fields), fields
    assert "%" not in entry  # cron would turn it into a newline


def test_the_cronjob_runs_one_at_a_time_with_a_deadline_and_the_key_from_a_secret() -> None:
    documents = list(yaml.safe_load_all(CRONJOB.read_text()))
    (cronjob,) = [d for d in documents if d["kind"] == "CronJob"]
    spec = cronjob["spec"]
    assert cronjob["apiVersion"] == "batch/v1"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert isinstance(spec["startingDeadlineSeconds"], int)
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["MAILREACH_API_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "mailreach-api"
    claims = {
        v["persistentVolumeClaim"]["claimName"]
        for v in pod["volumes"]
        if "persistentVolumeClaim" in v
    }
    assert claims == {
        d["metadata"]["name"] for d in documents if d["kind"] == "PersistentVolumeClaim"
    }


def test_the_airflow_dag_allows_one_active_run_and_skips_on_exit_75(
    fake_airflow: list[_Recorder],
) -> None:
    runpy.run_path(str(DAG))
    dag, task = fake_airflow
    assert dag.kwargs["max_active_runs"] == 1
    assert dag.kwargs["catchup"] is False
    assert task.kwargs["skip_on_exit_code"] == 75
    assert "{{ conn.mailreach.password }}" in task.kwargs["env"]["MAILREACH_API_KEY"]


def _example_command_lines() -> list[tuple[str, str]]:
    service = unit_settings(SERVICE)["ExecStart"][0]
    cronjob = next(d for d in yaml.safe_load_all(CRONJOB.read_text()) if d["kind"] == "CronJob")
    container = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    dag_text = DAG.read_text()
    dag_command = "".join(re.findall(r'"(bulk-onboard sync[^"]*|\s--[^"]*)"', dag_text))
    (cron,) = crontab_entries()
    return [
        ("crontab", cron),
        ("systemd", service),
        ("kubernetes", shlex.join(["bulk-onboard", *container["args"]])),
        ("airflow", dag_command),
    ]


@pytest.mark.parametrize(("where", "command_line"), _example_command_lines(), ids=lambda v: v)
def test_every_example_command_line_is_accepted_by_the_cli(where: str, command_line: str) -> None:
    args = build_parser().parse_args(bulk_onboard_args(command_line))
    assert args.command == "sync"
    assert args.log_format == "json"
    assert args.no_progress
