"""`sync` and warm-up settings: a row whose only change is its settings gets the update call
alone (no second imap_auth), and a setting changed in MailReach behind the sheet's back is
reported in changes.csv, as scores are. In-process against a sandbox served from a thread."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

from bulk_onboard.jobs.sync import SyncSettings, sync_job
from bulk_onboard.sandbox import SandboxConfig
from tests.jobs.test_account_settings import accounts, call, instantly_sheet, paths, summary
from tests.support.run_settings import quick_run_settings
from tests.support.sandbox_process import SANDBOX_KEY
from tests.support.sandbox_thread import sandbox_thread


def sync(sheet: Path, out: Path, url: str) -> Path:
    settings = SyncSettings(quick_run_settings(sheet, out, url), out / "sync-state.sqlite")
    _, run_dir = asyncio.run(sync_job(settings, ["sync", str(sheet)]))
    return run_dir


def test_a_settings_change_is_sent_alone_and_drift_is_reported(tmp_path: Path) -> None:
    sheet = tmp_path / "fleet.csv"
    out = tmp_path / "out"
    with sandbox_thread(SandboxConfig(api_key=SANDBOX_KEY)) as box:
        instantly_sheet(sheet, [("one", 20, 2, "7"), ("two", 20, 2, "")])
        sync(sheet, out, box.url)
        assert accounts(box)["one@fleet.test"]["config_rampup_target"] == 20

        instantly_sheet(sheet, [("one", 25, 2, "7;8"), ("two", 20, 2, "")])
        call(box, "DELETE", "/_sandbox/requests")
        second = sync(sheet, out, box.url)
        sent = [p for p in paths(box) if p not in ("/v1/ping", "/v1/accounts")]
        one = accounts(box)["one@fleet.test"]
        assert summary(second)["plan"] == {"settings_or_tags": 1, "unchanged": 1}
        assert sorted(sent) == [f"/v1/accounts/{one['id']}", "/v1/tags/8/link"]  # no imap_auth
        assert one["config_rampup_target"] == 25
        assert {t["id"] for t in one["tags"]} == {7, 8}

        # Someone changes the warm-up in MailReach: reported once, not undone.
        call(box, "POST", f"/_sandbox/accounts/{one['id']}/drift", {"config_rampup_target": 30})
        third = sync(sheet, out, box.url)
        with (third / "changes.csv").open(newline="", encoding="utf-8") as handle:
            changes = [
                (r["email"], r["field"], r["before"], r["after"]) for r in csv.DictReader(handle)
            ]
        assert changes == [("one@fleet.test", "config_rampup_target", "25", "30")]
        assert summary(third)["plan"] == {"unchanged": 2}
        assert accounts(box)["one@fleet.test"]["config_rampup_target"] == 30
