"""Alerts raised by risk rules."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    func,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import ColumnElement

from tenure.db import Base


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"
    CLOSED = "closed"  # closed automatically: the signal cleared


OPEN_STATUSES = (AlertStatus.OPEN.value, AlertStatus.ACKNOWLEDGED.value)
SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")
SEVERITY_RANK: dict[str, int] = {name: rank for rank, name in enumerate(SEVERITIES, start=1)}


_OPEN_SQL = "status IN ('open', 'acknowledged')"


def is_open() -> ColumnElement[bool]:
    """`alerts.status IN ('open', 'acknowledged')` with the values inline, as the partial
    indexes' condition is written: a planner uses a partial index only when it can prove
    the query's condition implies the index's, which bound parameters hide from SQLite."""
    return Alert.status.in_([literal_column(f"'{s}'") for s in OPEN_STATUSES])


def _rank_of(context: Any) -> int:
    """The default `severity_rank` of a row inserted with only its severity."""
    return SEVERITY_RANK.get(context.get_current_parameters().get("severity"), 0)


class Alert(Base):
    """A risk rule firing for one account, kept open while the signal lasts."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_account_rule_status", "account_id", "rule_id", "status"),
        # Partial indexes over the open queue (open or acknowledged, a small share of all
        # alerts over time): the queue pages in severity order without sorting, and the
        # dashboard counts per rule and per account without reading closed episodes.
        Index(
            "ix_alerts_open_queue",
            "severity_rank",
            "opened_as_of",
            "id",
            sqlite_where=text(_OPEN_SQL),
            postgresql_where=text(_OPEN_SQL),
        ),
        Index(
            "ix_alerts_open_rules",
            "rule_id",
            "account_id",
            sqlite_where=text(_OPEN_SQL),
            postgresql_where=text(_OPEN_SQL),
        ),
        Index(
            "ix_alerts_open_accounts",
            "account_id",
            "rule_id",
            "severity_rank",
            sqlite_where=text(_OPEN_SQL),
            postgresql_where=text(_OPEN_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    rule_id: Mapped[str] = mapped_column(String(100), index=True)
    rule_name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(30))
    severity: Mapped[str] = mapped_column(String(20))
    # SEVERITY_RANK of `severity` (written with it): the queue's sort key, on an index.
    severity_rank: Mapped[int] = mapped_column(SmallInteger, default=_rank_of)
    # Not indexed alone: a status index would lure SQLite's planner away from the partial
    # indexes below, which serve every query on the open queue (docs/benchmarks.md, Pages).
    status: Mapped[str] = mapped_column(String(20), default=AlertStatus.OPEN.value)
    expression: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    opened_as_of: Mapped[dt.date] = mapped_column(Date)
    last_seen_as_of: Mapped[dt.date] = mapped_column(Date)
    closed_as_of: Mapped[dt.date | None] = mapped_column(Date)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime, server_default=func.now(), onupdate=func.now()
    )
