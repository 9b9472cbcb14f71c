"""Stage 3, the MailReach API: the HTTP client, the rate throttle, the retry table, one row's
submission with retries, the account listing, how an account object is read, and which API URL
may be sent the key.

Hands on a `Submission` per request (the verdict, the account, the attempts) and `Listing`s.
"""
