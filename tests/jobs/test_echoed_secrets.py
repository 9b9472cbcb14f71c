"""A server repeating what it was sent (the passwords, the key) never gets it into an output.

The API here is a real server on loopback that echoes each request into its error text; every
byte the run leaves (stdout, stderr, the CSVs, the journal, results.xlsx, report.html) is
searched for every secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulk_onboard.base.redaction import MASK
from tests.support.cli import assert_conservation, assert_no_secret, data_rows, run_cli
from tests.support.http_peers import echoing, http_peer

KEY = "mr-key-ZX81-Kq3-secret"
FAST = ["--rate", "0", "--backoff", "0.01", "--max-attempts", "2", "--no-progress"]
HEADER = "Email,First Name,Last Name,IMAP Host,IMAP Port,SMTP Host,SMTP Port,IMAP Password,"
HEADER += "SMTP Password,Password"


def write_sheet(path: Path, rows: int) -> set[str]:
    lines, secrets = [HEADER], set()
    for i in range(rows):
        imap, smtp, shared = (f"{kind}-pw-{i:03d}-Zq9" for kind in ("imap", "smtp", "shared"))
        secrets |= {imap, smtp, shared}
        lines.append(
            f"u{i}@fleet.test,U,N{i},imap.fleet.test,993,smtp.fleet.test,587,{imap},{smtp},{shared}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return secrets


@pytest.mark.parametrize(
    ("status", "as_json", "code"),
    [(400, True, "rejected"), (422, False, "rejected"), (500, False, "server_error")],
)
def test_an_api_error_repeating_the_passwords_and_key_is_stored_without_them(
    tmp_path: Path, status: int, as_json: bool, code: str
) -> None:
    sheet = tmp_path / "in.csv"
    secrets = write_sheet(sheet, 4)
    out = tmp_path / "out"
    with http_peer(echoing(status, as_json=as_json)) as api:
        # --no-lookup: the rows' own requests are what is echoed here (the listing's failure
        # is scrubbed the same way and stops the run: the test below).
        run = ["run", str(sheet), "--no-lookup", *FAST]
        result = run_cli(run, out, url=api.url + "/api", key=KEY)
    assert result.code == 1, result.stderr
    assert_conservation(result, data_rows(sheet))
    failed = result.report("failed.csv")
    assert {row["error_code"] for row in failed} == {code}
    for row in failed:
        # The server's words are kept, what it repeated is not.
        assert "Invalid login" in row["message"]
        assert row["message"].count(MASK) == 3, row["message"]  # two passwords and the key
    assert (result.run_dir / "report.html").is_file()
    assert (result.run_dir / "results.xlsx").is_file()
    assert_no_secret(result, secrets | {KEY})


def test_an_error_spelling_the_passwords_as_json_escapes_is_stored_without_them(
    tmp_path: Path,
) -> None:
    """The raw body holds no password (each letter is a \\u escape); the parsed text does."""
    sheet = tmp_path / "in.csv"
    secrets = write_sheet(sheet, 2)
    out = tmp_path / "out"
    with http_peer(echoing(400, escaped=True)) as api:
        run = ["run", str(sheet), "--no-lookup", *FAST]
        result = run_cli(run, out, url=api.url + "/api", key=KEY)
    assert result.code == 1, result.stderr
    failed = result.report("failed.csv")
    assert {row["error_code"] for row in failed} == {"rejected"}
    for row in failed:
        assert "Invalid login" in row["message"]
        assert row["message"].count(MASK) == 3, row["message"]
    assert_no_secret(result, secrets | {KEY})


def test_a_listing_repeating_the_key_stops_the_run_without_it(tmp_path: Path) -> None:
    sheet = tmp_path / "in.csv"
    secrets = write_sheet(sheet, 3)
    out = tmp_path / "out"
    with http_peer(echoing(500, as_json=False)) as api:
        result = run_cli(["run", str(sheet), *FAST], out, url=api.url + "/api", key=KEY)
        sent = {r.path.partition("?")[0] for r in api.received}
    assert result.code == 69, result.stderr
    assert "/api/v1/accounts" in sent
    assert "/api/v1/imap_auth" not in sent  # no row is sent when the listing fails
    assert "Invalid login" in result.stdout + result.stderr
    assert MASK in result.stdout + result.stderr
    assert_conservation(result, data_rows(sheet))
    assert_no_secret(result, secrets | {KEY})
