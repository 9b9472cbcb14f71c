"""The re-sync's bookkeeping: which rows to submit or skip against the state and the listing,
the drift to report, the SQLite state with its keyed fingerprints, and the one-sync-at-a-time lock.

`bulk_onboard.jobs.sync` runs a sync with these; the engine and reports do the rest.
"""
