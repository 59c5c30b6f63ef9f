"""What the dashboard charts read: stored per-date figures, names, and the live at-risk list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.accounts.models import Account, User
from tenure.accounts.schemas import AccountSummary
from tenure.accounts.summary import SummaryQuery, summary_fields
from tenure.risk.models import Alert, is_open
from tenure.scoring.lifecycle import STAGES
from tenure.scoring.models import LatestScore
from tenure.scoring.portfolio import portfolio_days, scored_dates

TREND_DATES = 26


def quadrant_points(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """The stored scatter of a date: the largest accounts by ARR, as the chart needs them."""
    return [
        {
            "key": key,
            "name": name,
            "current": round(current, 1),
            "potential": round(potential, 1),
            "quadrant": quadrant,
            "arr": float(arr),
        }
        for _, key, name, current, potential, quadrant, arr in figures["scatter"]
    ]


def stage_funnel(stages: dict[str, int]) -> list[dict[str, Any]]:
    """Lifecycle stage counts in the order accounts move through them."""
    ordered = [*STAGES, *(s for s in stages if s not in STAGES)]
    return [{"stage": s, "count": stages.get(s, 0)} for s in ordered]


def at_risk_trend(session: Session, dates: int = TREND_DATES) -> list[dict[str, Any]]:
    """Accounts with health below the watch band on each of the latest snapshot dates."""
    days = scored_dates(session, dates)
    figures = portfolio_days(session, days)
    return [
        {
            "as_of": day.isoformat(),
            "scored": figures[day]["accounts"],
            "at_risk": figures[day]["low_health"],
        }
        for day in days
        if day in figures
    ]


def at_risk_ids(session: Session, limit: int) -> list[int]:
    """Accounts with open alerts, lowest latest health first.

    Walks `latest_scores` in health order and stops at `limit` accounts with an open alert
    (the partial index of open alerts answers each probe).
    """
    alerted = select(Alert.id).where(Alert.account_id == LatestScore.account_id, is_open()).exists()
    return list(
        session.scalars(
            select(LatestScore.account_id)
            .where(LatestScore.health_score.is_not(None), alerted)
            .order_by(LatestScore.health_score, LatestScore.account_id)
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
    """(rule id, rule name) of every rule that has fired, for the alert filter: the ids
    from the rule index, each name from one of its alerts."""
    ids = list(session.scalars(select(Alert.rule_id).distinct().order_by(Alert.rule_id)))
    return [
        (
            rule,
            session.scalar(select(Alert.rule_name).where(Alert.rule_id == rule).limit(1)) or rule,
        )
        for rule in ids
    ]


def account_owners(session: Session, account_ids: set[int]) -> dict[int, int | None]:
    """The owner's user id of each of `account_ids`."""
    if not account_ids:
        return {}
    rows = session.execute(select(Account.id, Account.owner_id).where(Account.id.in_(account_ids)))
    return {r.id: r.owner_id for r in rows}
