"""The names of the files in a run folder, and of the link to the newest run folder."""

from __future__ import annotations

from collections.abc import Mapping

from bulk_onboard.base.outcomes import Status

LATEST = "latest"  # OUT/latest: a relative symlink to the newest run folder
# One CSV report per outcome; the rows of each status go to its file.
REPORT_FILES: Mapping[Status, str] = {
    Status.SUCCEEDED: "succeeded.csv",
    Status.FAILED: "failed.csv",
    Status.UNPROCESSED: "unprocessed.csv",
    Status.SKIPPED: "skipped.csv",
    Status.VALID: "valid.csv",
}
CHANGES_FILE = "changes.csv"  # sync's drift report
