"""Stage 4, the engine: the worker pool that takes normalised rows to the API under the throttle,
settles each row exactly once, stops cleanly on a signal or an abort, and journals every outcome.

Hands on `Outcome`s, recorded in the run's SQLite journal as they settle.
"""
