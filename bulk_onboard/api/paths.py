"""MailReach's endpoint paths, relative to `--api-url`, declared once: what the client calls.

From MailReach's reference (../shared/MAILREACH-API.md, "Other endpoints"); the sandbox serves
the same paths under its `/api` prefix.
"""

from __future__ import annotations

PING_PATH = "/v1/ping"
IMAP_AUTH_PATH = "/v1/imap_auth"
ACCOUNTS_PATH = "/v1/accounts"


def account_path(account_id: int) -> str:
    """`GET` one account, or `POST` its settings."""
    return f"{ACCOUNTS_PATH}/{account_id}"


def tag_link_path(tag_id: int) -> str:
    return f"/v1/tags/{tag_id}/link"


def batch_path(workspace: int) -> str:
    """Link a batch of addresses through an email workspace."""
    return f"/v1/email_workspaces/{workspace}/accounts"


def task_path(task_id: int) -> str:
    return f"/v1/tasks/{task_id}"
