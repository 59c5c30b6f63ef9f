"""One score snapshot per account per as-of date."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    event,
    func,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from tenure.db import Base


class ScoreSnapshot(Base):
    """Every score of one account as of one date, with the features that produced it."""

    __tablename__ = "score_snapshots"
    __table_args__ = (
        UniqueConstraint("account_id", "as_of", name="uq_score_snapshots_account_as_of"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    as_of: Mapped[dt.date] = mapped_column(Date, index=True)
    current_value: Mapped[float] = mapped_column(Float)
    potential_value: Mapped[float] = mapped_column(Float)
    value_score: Mapped[float] = mapped_column(Float)
    quadrant: Mapped[str] = mapped_column(String(20))
    rfm_recency: Mapped[int] = mapped_column(Integer)
    rfm_frequency: Mapped[int] = mapped_column(Integer)
    rfm_monetary: Mapped[int] = mapped_column(Integer)
    rfm_code: Mapped[str] = mapped_column(String(3))
    lifecycle_stage: Mapped[str] = mapped_column(String(20))
    health_score: Mapped[float] = mapped_column(Float)
    health_change: Mapped[float | None] = mapped_column(Float)
    health_breakdown: Mapped[dict[str, Any]] = mapped_column(JSON)
    value_breakdown: Mapped[dict[str, Any]] = mapped_column(JSON)
    features: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


class LatestScore(Base):
    """Which snapshot is each account's latest: one row per scored account.

    Kept by the scoring run so lists and pages join one row per account instead of grouping
    every snapshot ever written (the difference between seconds and milliseconds at 100k
    accounts with a year of history).
    """

    __tablename__ = "latest_scores"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    as_of: Mapped[dt.date] = mapped_column(Date)
    # Copies of the snapshot's list columns: lists filter, count and sort on this narrow
    # table and read the wide snapshot rows only for the page shown.
    health_score: Mapped[float | None] = mapped_column(Float, index=True)
    value_score: Mapped[float | None] = mapped_column(Float, index=True)
    health_change: Mapped[float | None] = mapped_column(Float)
    quadrant: Mapped[str | None] = mapped_column(String(20))
    lifecycle_stage: Mapped[str | None] = mapped_column(String(20))


@event.listens_for(ScoreSnapshot, "after_insert")
def _snapshot_inserted(_mapper: Any, connection: Connection, target: ScoreSnapshot) -> None:
    """Snapshots written one by one through the ORM keep `latest_scores` true too; the
    scoring run's bulk insert calls `mark_latest` itself."""
    from tenure.scoring.latest import mark_latest

    mark_latest(connection, target.as_of, [target.account_id])
