"""bulk_onboard: onboard a spreadsheet of mailboxes into MailReach via POST /v1/imap_auth."""

__version__ = "0.1.0"
