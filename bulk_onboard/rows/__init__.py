"""Stage 2, rows into requests: read a raw row's cells as values, fill servers from the provider
presets, validate the `imap_auth` body, and screen out invalid rows and repeated emails.

Hands on `NormalisedRow`s: a `ConnectRequest` to send, or every problem that stops the row.
"""
