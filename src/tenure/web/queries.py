"""What the dashboard charts read: set-based queries over one snapshot date and the history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

from tenure.accounts.models import Account, User
from tenure.accounts.schemas import WATCH_MIN, AccountSummary
from tenure.accounts.summary import SummaryQuery, summary_fields
from tenure.commerce.models import Subscription, SubscriptionStatus
from tenure.risk.models import OPEN_STATUSES, Alert
from tenure.scoring.lifecycle import STAGES
from tenure.scoring.models import ScoreSnapshot

SCATTER_POINTS = 1500  # the largest accounts by ARR; more points only blur the chart
TREND_DATES = 26
HISTOGRAM_BINS = 10


def _active_arr() -> Any:
    return (
        select(Subscription.account_id, func.sum(Subscription.arr).label("arr"))
        .where(Subscription.status == SubscriptionStatus.ACTIVE.value)
        .group_by(Subscription.account_id)
        .subquery("active_arr")
    )


def arr_totals(session: Session) -> dict[str, float]:
    """Active ARR of the whole book and of the accounts with open alerts."""
    arr = _active_arr()
    alerted = select(Alert.account_id).where(Alert.status.in_(OPEN_STATUSES)).distinct()
    total = session.scalar(select(func.coalesce(func.sum(arr.c.arr), 0)))
    at_risk = session.scalar(
        select(func.coalesce(func.sum(arr.c.arr), 0)).where(arr.c.account_id.in_(alerted))
    )
    return {"total": float(total or 0), "at_risk": float(at_risk or 0)}


def quadrant_points(
    session: Session, day: dt.date, limit: int = SCATTER_POINTS
) -> list[dict[str, Any]]:
    """Current and potential value, quadrant and ARR of the largest accounts scored on `day`."""
    arr = _active_arr()
    arr_value = func.coalesce(arr.c.arr, 0)
    rows = session.execute(
        select(
            Account.external_id,
            Account.name,
            ScoreSnapshot.current_value,
            ScoreSnapshot.potential_value,
            ScoreSnapshot.quadrant,
            arr_value.label("arr"),
        )
        .join(ScoreSnapshot, ScoreSnapshot.account_id == Account.id)
        .outerjoin(arr, arr.c.account_id == Account.id)
        .where(ScoreSnapshot.as_of == day)
        .order_by(arr_value.desc(), Account.id)
        .limit(limit)
    ).all()
    return [
        {
            "key": r.external_id,
            "name": r.name,
            "current": round(r.current_value, 1),
            "potential": round(r.potential_value, 1),
            "quadrant": r.quadrant,
            "arr": float(r.arr),
        }
        for r in rows
    ]


def health_histogram(session: Session, day: dt.date) -> list[int]:
    """Accounts scored on `day` per health decile: 0-10, 10-20, …, 90-100."""
    width = 100 // HISTOGRAM_BINS
    bucket = cast(ScoreSnapshot.health_score / width, Integer)
    counts = [0] * HISTOGRAM_BINS
    rows = session.execute(
        select(bucket, func.count()).where(ScoreSnapshot.as_of == day).group_by(bucket)
    ).all()
    for index, count in rows:
        counts[min(max(int(index or 0), 0), HISTOGRAM_BINS - 1)] += int(count)
    return counts


def stage_funnel(stages: dict[str, int]) -> list[dict[str, Any]]:
    """Lifecycle stage counts in the order accounts move through them."""
    ordered = [*STAGES, *(s for s in stages if s not in STAGES)]
    return [{"stage": s, "count": stages.get(s, 0)} for s in ordered]


def _day_counts(session: Session, day: dt.date) -> tuple[int, int]:
    """Accounts scored on `day`, and how many of them had health below the watch band."""
    total, low = session.execute(
        select(func.count(), func.sum(cast(ScoreSnapshot.health_score < WATCH_MIN, Integer))).where(
            ScoreSnapshot.as_of == day
        )
    ).one()
    return int(total or 0), int(low or 0)


def at_risk_trend(
    session: Session,
    dates: int = TREND_DATES,
    cache: dict[dt.date, tuple[int, int]] | None = None,
) -> list[dict[str, Any]]:
    """Accounts with health below the watch band on each of the latest snapshot dates.

    Counts of dates before the latest one are kept in `cache` (re-scoring a date gives the
    same result), so a page view reads the index of dates and one date's snapshots.
    """
    days = sorted(
        session.scalars(
            select(ScoreSnapshot.as_of).distinct().order_by(ScoreSnapshot.as_of.desc()).limit(dates)
        )
    )
    points = []
    for index, day in enumerate(days):
        latest = index == len(days) - 1
        if cache is not None and not latest and day in cache:
            total, low = cache[day]
        else:
            total, low = _day_counts(session, day)
            if cache is not None and not latest:
                cache[day] = (total, low)
        points.append({"as_of": day.isoformat(), "scored": total, "at_risk": low})
    return points


def at_risk_ids(session: Session, day: dt.date, limit: int) -> list[int]:
    """Accounts scored on `day` with open alerts, lowest health first."""
    alerted = select(Alert.account_id).where(Alert.status.in_(OPEN_STATUSES)).distinct()
    return list(
        session.scalars(
            select(ScoreSnapshot.account_id)
            .where(ScoreSnapshot.as_of == day, ScoreSnapshot.account_id.in_(alerted))
            .order_by(ScoreSnapshot.health_score, ScoreSnapshot.account_id)
            .limit(limit)
        )
    )


def account_summaries(session: Session, ids: list[int]) -> list[AccountSummary]:
    """The account-list rows of `ids`, in that order."""
    if not ids:
        return []
    rows = {r.id: r for r in session.execute(SummaryQuery(ids).rows().where(Account.id.in_(ids)))}
    return [AccountSummary.model_validate(summary_fields(rows[i])) for i in ids if i in rows]


def team(session: Session) -> list[tuple[str, str]]:
    """(external id, name) of every active user, for owner filters."""
    rows = session.execute(
        select(User.external_id, User.name).where(User.is_active).order_by(User.name)
    ).all()
    return [(r.external_id, r.name) for r in rows]


def alert_rules(session: Session) -> list[tuple[str, str]]:
    """(rule id, rule name) of every rule that has fired, for the alert filter."""
    rows = session.execute(
        select(Alert.rule_id, func.max(Alert.rule_name))
        .group_by(Alert.rule_id)
        .order_by(Alert.rule_id)
    ).all()
    return [(r[0], r[1]) for r in rows]


def account_owners(session: Session, account_ids: set[int]) -> dict[int, int | None]:
    """The owner's user id of each of `account_ids`."""
    if not account_ids:
        return {}
    rows = session.execute(select(Account.id, Account.owner_id).where(Account.id.in_(account_ids)))
    return {r.id: r.owner_id for r in rows}
