"""The error-code → hint table: one plain sentence telling a user how to fix each failure."""

from __future__ import annotations

from collections.abc import Mapping

HINTS: Mapping[str, str] = {
    "missing_field": "Fill in the named column for this row, or add the column to the sheet.",
    "invalid_email": "Correct the address so it reads like name@example.com.",
    "invalid_port": "Use a whole port number between 1 and 65535 (IMAP is usually 993, SMTP 587).",
    "invalid_value": "Correct the named cell as the message says, then validate the sheet again.",
    "invalid_row": "Fix the row's layout so each cell lines up with its header.",
    "smtp_security_conflict": (
        "Port 465 is TLS from the first byte and 587, 25 and 2525 use STARTTLS: make the security "
        "cell agree with the port, or leave it blank and the port decides."
    ),
    # MailReach's ranges, as rows/account_settings.UPDATE_FIELDS states them (a test holds the
    # two together): base can't import the table.
    "invalid_setting": (
        "Use a value in MailReach's range: config_rampup_target 3-35, config_rampup_increase "
        "0-5, config_max_conversation_running 0-35; true/false for alive, autopilot and "
        "config_smtp_append_after_sent. The tool never changes your number."
    ),
    "settings_failed": (
        "The mailbox is connected (account id in the message) but its settings were not "
        "applied: fix the cause, then --retry-failed (or sync) applies only the settings."
    ),
    "tags_failed": (
        "The mailbox is connected (account id in the message) but a tag was not linked: fix "
        "the cause, then --retry-failed (or sync) links only the missing tags."
    ),
    "unknown_tag": (
        "A tag name is resolved only through tags MailReach shows on listed accounts: write "
        "the tag's id in the Tags column, or link the tag to one account in MailReach first."
    ),
    "workspace_refused": (
        "The email workspace refused this address (the message says why): check that the "
        "mailbox exists in the Google Workspace or Microsoft 365 tenant the workspace is for."
    ),
    "workspace_failed": (
        "The workspace batch ended without this address listed in MailReach: check the "
        "workspace in MailReach (its credentials, its domain), then --retry-failed."
    ),
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
    "connect_failed": (
        "MailReach could not connect the mailbox, for the reason in the message: check the "
        "servers, ports and encryption in the sheet, then retry with --retry-failed."
    ),
    "email_taken": (
        "MailReach already has an account for this email but does not list it: put the "
        "account's id in a `MailReach ID` column, or check the account in MailReach."
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
    "redirected": (
        "The API URL answered with a redirect, which is never followed with the key and "
        "passwords: set --api-url (or MAILREACH_API_URL) to the address it names, if you trust it."
    ),
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
    # The preflight's (`check`, `run --preflight`): bulk_onboard/preflight/failures.py.
    "dns_nxdomain": (
        "The name does not exist in DNS: check the spelling of the email's domain and server "
        "host names, and that the domain has not expired."
    ),
    "dns_timeout": "DNS did not answer in time: check the network or --dns server and try again.",
    "dns_error": "DNS lookups failed: check the network or the --dns server and try again.",
    "dns_no_address": "The server's host name has no IP address: correct the host in the sheet.",
    "no_mx": (
        "Add the MX records your mail provider lists to the domain's DNS: without them the "
        "mailbox can't receive mail, so warm-up replies bounce."
    ),
    "connect_refused": (
        "Nothing accepts connections on that host and port: check the server host and port "
        "(IMAP is usually 993, SMTP 465 or 587)."
    ),
    "connect_timeout": (
        "The server did not accept the connection in time: check the host and port, and that a "
        "firewall does not block them."
    ),
    "network_unreachable": "The server can't be reached from this machine: check its network.",
    "server_timeout": (
        "The server accepted the connection but stalled: check the port speaks IMAP/SMTP with the "
        "expected encryption (993 and 465 are TLS, 143 and 587 STARTTLS), or raise "
        "--preflight-timeout."
    ),
    "server_closed": "The server hung up: check the host and port, or retry later if it is busy.",
    "server_unavailable": "The server is temporarily refusing logins: retry this row later.",
    "protocol_error": (
        "The server did not answer like an IMAP/SMTP server: check the host and port columns."
    ),
    "tls_name_mismatch": (
        "Use the host name on the server's certificate (e.g. the provider's own imap/smtp host, "
        "not mail.<your domain>)."
    ),
    "tls_untrusted": (
        "The server's certificate is not from a trusted authority: use the provider's official "
        "host name, or have the server's certificate fixed (pass --ca-file only for your own CA)."
    ),
    "tls_expired": "The server's certificate has expired: ask the mail provider to renew it.",
    "tls_handshake_failed": (
        "TLS could not be set up: check the port's encryption (993/465 are TLS from the start, "
        "143/587 use STARTTLS)."
    ),
    "tls_not_offered": (
        "The server offers no encryption on this port: use its TLS port (IMAP 993, SMTP 465), "
        "or pass --allow-plaintext only on a network you trust."
    ),
    "imap_disabled": "Enable IMAP access in the mailbox's settings (or the admin console).",
    "smtp_auth_not_offered": (
        "The server does not accept logins on this port: use the provider's submission port "
        "(587 or 465) and host, not an MX host on port 25."
    ),
    "smtp_auth_mechanism_unsupported": (
        "The server only offers logins MailReach can't use by password (e.g. OAuth): connect "
        "the mailbox with OAuth in MailReach, or enable password (PLAIN/LOGIN) authentication."
    ),
}

DEFAULT_HINT = "Check the row against the message, fix it in the sheet and run again."


def hint_for(code: str) -> str:
    """The one-sentence fix for an error code (a generic sentence for codes not in the table)."""
    return HINTS.get(code, DEFAULT_HINT)
