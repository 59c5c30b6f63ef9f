"""Keeping `latest_scores` (each account's newest snapshot date) true on every write path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, delete, insert, or_, select
from sqlalchemy.engine import Connection

from tenure.db import table_of
from tenure.scoring.models import LatestScore, ScoreSnapshot

# Snapshot columns copied onto latest_scores for lists to filter and sort on.
LIST_COLUMNS = (
    "health_score",
    "value_score",
    "health_change",
    "quadrant",
    "lifecycle_stage",
    "arr",
)


def mark_latest(
    connection: Connection, as_of: dt.date, account_ids: Sequence[int] | None = None
) -> None:
    """Point `latest_scores` at `as_of` for the accounts with a snapshot that day (all, or
    `account_ids`), unless a newer snapshot of the account exists: a backfill of an old
    date leaves newer ones alone."""
    latest, snap = table_of(LatestScore), table_of(ScoreSnapshot)
    that_day = [snap.c.as_of == as_of]
    if account_ids is not None:
        that_day.append(snap.c.account_id.in_(account_ids))
    scored = select(snap.c.account_id).where(*that_day)
    stale = and_(latest.c.as_of <= as_of, latest.c.account_id.in_(scored))
    if account_ids is None:
        # Rows of this date whose account was not scored again (e.g. churn date moved).
        stale = or_(stale, latest.c.as_of == as_of)
    connection.execute(delete(latest).where(stale))
    newer = select(latest.c.account_id).where(latest.c.account_id == snap.c.account_id)
    copied = [snap.c[name] for name in LIST_COLUMNS]
    connection.execute(
        insert(latest).from_select(
            ["account_id", "as_of", *LIST_COLUMNS],
            select(snap.c.account_id, snap.c.as_of, *copied).where(*that_day, ~newer.exists()),
        )
    )
