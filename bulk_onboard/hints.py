"""The error-code → hint table: one plain sentence telling a user how to fix each failure."""

from __future__ import annotations

from collections.abc import Mapping

HINTS: Mapping[str, str] = {
    "missing_field": "Fill in the named column for this row, or add the column to the sheet.",
    "invalid_email": "Correct the address so it reads like name@example.com.",
    "invalid_port": "Use a whole port number between 1 and 65535 (IMAP is usually 993, SMTP 587).",
    "invalid_value": "Correct the named cell; booleans accept true/false, yes/no, 1/0, on/off.",
    "invalid_row": "Fix the row's layout so each cell lines up with its header.",
    "duplicate_email": "Remove the repeated row or give it its own mailbox address.",
    "oauth_required": (
        "Personal Outlook.com, Hotmail and Live mailboxes only connect through OAuth: "
        "add them in the MailReach app instead."
    ),
    "imap_auth_failed": (
        "Check the IMAP username and password, and that IMAP is enabled for the mailbox "
        "(Gmail and Google Workspace need an app password when 2-Step Verification is on)."
    ),
    "smtp_auth_failed": (
        "Check the SMTP username and password, and that SMTP AUTH is allowed for the mailbox "
        "(Microsoft 365 tenants often disable it: enable Authenticated SMTP for the mailbox)."
    ),
    "auth_failed": (
        "Both IMAP and SMTP refused the password: check it (for Gmail use an app password, "
        "written without spaces)."
    ),
    "app_password_required": (
        "Google requires an app password for this account: create one at "
        "myaccount.google.com/apppasswords and put it in the password column."
    ),
    "smtp_auth_disabled_tenant": (
        "SMTP AUTH is disabled for the Microsoft 365 tenant: enable it for the tenant and the "
        "mailbox (Security Defaults also block it)."
    ),
    "rejected": "MailReach refused the request as sent: correct the columns named in the message.",
    "server_error": "MailReach kept failing on its side: retry this row later with --retry-failed.",
    "rate_limited": "MailReach kept asking to slow down: retry later with a lower --rate.",
    "timeout": (
        "MailReach did not answer in time: retry later, or raise --timeout if the mail servers "
        "are slow to log in."
    ),
    "network": "The connection to MailReach kept failing: check the network and retry later.",
    "tls_error": (
        "The API's TLS certificate could not be verified: check --api-url and the "
        "machine's clock and CA certificates."
    ),
}

DEFAULT_HINT = "Check the row against the message, fix it in the sheet and run again."


def hint_for(code: str) -> str:
    """The one-sentence fix for an error code (a generic sentence for codes not in the table)."""
    return HINTS.get(code, DEFAULT_HINT)
