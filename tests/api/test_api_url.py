"""Which --api-url the tool will send the key to: HTTPS anywhere, plain HTTP only on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulk_onboard.api.endpoint import check_api_url
from bulk_onboard.errors import UsageError
from tests.support.cli import run_cli

SAMPLE = Path(__file__).parents[2] / "samples" / "mailboxes.csv"


@pytest.mark.parametrize(
    "url",
    [
        "https://api.mailreach.co/api",
        "https://203.0.113.9/api",
        "http://127.0.0.1:8025/api",
        "http://127.5.6.7/api",
        "http://localhost:8025/api",
        "http://[::1]:8025/api",
    ],
)
def test_https_anywhere_and_http_on_loopback_are_accepted(url: str) -> None:
    check_api_url(url, insecure_http=False)


@pytest.mark.parametrize(
    "url",
    [
        "http://api.mailreach.co/api",
        "http://10.0.0.5:8025/api",
        "http://[2001:db8::1]/api",
        "http://localhost.example.test/api",
        "http://127.0.0.1.nip.example/api",
    ],
)
def test_plain_http_beyond_loopback_is_refused_unless_asked_for(url: str) -> None:
    with pytest.raises(UsageError, match="--insecure-http"):
        check_api_url(url, insecure_http=False)
    check_api_url(url, insecure_http=True)


@pytest.mark.parametrize(
    "url", ["api.mailreach.co/api", "ftp://api.mailreach.co", "https:///api", "https://"]
)
def test_a_url_that_is_not_http_is_refused(url: str) -> None:
    with pytest.raises(UsageError, match="--api-url"):
        check_api_url(url, insecure_http=True)


def test_the_command_refuses_plain_http_beyond_loopback_before_any_network_use(
    tmp_path: Path, guarded_children: Path
) -> None:
    url = "http://robot:Url-Secret-5@api.example.test/api"
    result = run_cli(["run", str(SAMPLE), "--api-url", url], tmp_path / "out")
    assert result.code == 2
    assert "--insecure-http" in result.stderr
    assert "http://api.example.test/api" in result.stderr
    assert "Url-Secret-5" not in result.stderr
    assert not (tmp_path / "out").exists()
