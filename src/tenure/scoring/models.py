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
    # ARR of the subscriptions active on the as-of date (also in `features`, as a column so
    # dashboards can sum and rank it).
    arr: Mapped[float | None] = mapped_column(Float)
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
    arr: Mapped[float | None] = mapped_column(Float)


class PortfolioDay(Base):
    """The dashboard's figures of one as-of date, computed once from its snapshots and the
    open alerts.

    Written by the scoring run after it writes the date's snapshots and reconciles alerts,
    and deleted when a snapshot of the date is written one by one (the next read recomputes
    it), so the dashboard reads one row instead of aggregating ~100k wide snapshot rows and
    ~200k open alerts per view. Like the scores, the alert figures are as of that run.
    """

    __tablename__ = "portfolio_days"

    as_of: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    accounts: Mapped[int] = mapped_column(Integer)
    avg_health_score: Mapped[float | None] = mapped_column(Float)
    avg_value_score: Mapped[float | None] = mapped_column(Float)
    low_health: Mapped[int] = mapped_column(Integer)  # health below the watch band
    arr: Mapped[float] = mapped_column(Float)
    quadrants: Mapped[dict[str, int]] = mapped_column(JSON)
    lifecycle_stages: Mapped[dict[str, int]] = mapped_column(JSON)
    health_bands: Mapped[dict[str, int]] = mapped_column(JSON)
    health_histogram: Mapped[list[int]] = mapped_column(JSON)
    # The largest accounts by ARR:
    # [account id, external id, name, current value, potential value, quadrant, ARR].
    scatter: Mapped[list[list[Any]]] = mapped_column(JSON)
    # Open alerts when the figures were computed (the scoring run's reconciliation): per
    # rule, how many accounts have any, and their ARR. The alert queue itself is live.
    open_alerts: Mapped[dict[str, int]] = mapped_column(JSON)
    accounts_with_open_alerts: Mapped[int] = mapped_column(Integer)
    arr_at_risk: Mapped[float] = mapped_column(Float)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


@event.listens_for(ScoreSnapshot, "after_insert")
def _snapshot_inserted(_mapper: Any, connection: Connection, target: ScoreSnapshot) -> None:
    """Snapshots written one by one through the ORM keep `latest_scores` true too; the
    scoring run's bulk insert calls `mark_latest` itself. The date's dashboard figures are
    dropped, to be recomputed on the next read."""
    from tenure.scoring.latest import mark_latest
    from tenure.scoring.portfolio import forget_day

    mark_latest(connection, target.as_of, [target.account_id])
    forget_day(connection, target.as_of)


@event.listens_for(ScoreSnapshot, "after_update")
@event.listens_for(ScoreSnapshot, "after_delete")
def _snapshot_changed(_mapper: Any, connection: Connection, target: ScoreSnapshot) -> None:
    """A snapshot changed or removed through the ORM drops its date's dashboard figures."""
    from tenure.scoring.portfolio import forget_day

    forget_day(connection, target.as_of)
