"""The local preflight: a mailbox's domain DNS, a real IMAP login and a real SMTP AUTH.

`settings` (what to check with), `resolver` (DNS lookups), `domain` (MX/SPF/DMARC/DKIM),
`discovery` (servers of rows that name none), `connect` / `imap` / `smtp` (the logins),
`failures` (stable codes), `mailbox` + `probe` (one mailbox under deadlines), `completion` +
`row_check` (spreadsheet rows, for `check` and `run --preflight`). The sandbox's `--verify` uses
`probe` too. Nothing is imported here: the DNS, IMAP and SMTP clients load only when used.
"""
