"""Log lines on stderr, for people (`text`) or for schedulers (`json`, one object per line)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, event, message, plus the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            # An error line names no event of its own when it is the run's stop: `error`.
            "event": getattr(
                record, "event", "error" if record.levelno >= logging.ERROR else "log"
            ),
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in data:
                data[key] = value
        return json.dumps(data, default=str)


def setup_logging(log_format: str, verbose: bool = False) -> None:
    """Configure the `bulk_onboard` logger once, writing to stderr."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("bulk_onboard")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = False
