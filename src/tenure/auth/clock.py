"""The one clock auth reads: naive UTC, as every timestamp column stores it."""

from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    """The current time in UTC without tzinfo (the database columns are naive UTC)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
