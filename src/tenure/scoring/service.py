"""The scoring run: features → value, RFM, lifecycle, health → snapshots → rules → alerts.

One run scores every account that is a customer on the as-of date, set-based, and writes
one snapshot per account for that date (replacing any earlier run for the same date), so
running the same as-of twice gives identical snapshots and no duplicate alerts.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tenure.accounts.models import Account
from tenure.analytics.catalog import FEATURES
from tenure.analytics.features import build_features
from tenure.config import TenureConfig
from tenure.db import refresh_statistics, table_of
from tenure.engagement.outbox import utcnow
from tenure.engagement.triggers import on_scored
from tenure.events.store import EventStore
from tenure.kit.bulk import insert_columns, json_lines
from tenure.risk.service import compile_rules, evaluate_rules, reconcile_alerts
from tenure.scoring.health import score_health
from tenure.scoring.latest import mark_latest
from tenure.scoring.lifecycle import add_months, assign_stage
from tenure.scoring.models import ScoreSnapshot
from tenure.scoring.portfolio import record_day
from tenure.scoring.rfm import score_rfm
from tenure.scoring.value import score_value

_FEATURE_NAMES = [f.name for f in FEATURES]


@dataclass
class ScoreRun:
    """What one scoring run did."""

    as_of: dt.date
    accounts: int = 0
    alerts_opened: int = 0
    alerts_refreshed: int = 0
    alerts_closed: int = 0
    playbook_runs: int = 0
    quadrants: dict[str, int] = field(default_factory=dict)
    stages: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "accounts": self.accounts,
            "alerts_opened": self.alerts_opened,
            "alerts_refreshed": self.alerts_refreshed,
            "alerts_closed": self.alerts_closed,
            "playbook_runs": self.playbook_runs,
            "quadrants": self.quadrants,
            "stages": self.stages,
            "seconds": self.seconds,
        }


def _health_breakdown(
    features: pd.DataFrame, contributions: pd.DataFrame, config: TenureConfig
) -> list[str]:
    """Per account, {feature: {value, weight, score, points}} for every health measure."""
    keys, parts = [], []
    for m in config.health.measures:
        points = contributions[m.feature].astype("float64")
        frame = pd.DataFrame(
            {
                "value": pd.to_numeric(features[m.feature], errors="coerce").astype("float64"),
                "weight": m.weight,
                "score": (points / m.weight).round(2),
                "points": points.round(2),
            }
        )
        keys.append(json.dumps(m.feature) + ":")
        parts.append(json_lines(frame))
    return [
        "{" + ",".join(k + v for k, v in zip(keys, row, strict=True)) + "}"
        for row in zip(*parts, strict=True)
    ]


def _column(series: pd.Series) -> list[Any]:
    """Plain Python values, missing ones as None."""
    return series.astype(object).where(series.notna(), None).tolist()


def _previous_health(session: Session, as_of: dt.date) -> pd.Series:
    """Health score of each account's latest snapshot before `as_of`."""
    latest = (
        select(ScoreSnapshot.account_id, func.max(ScoreSnapshot.as_of).label("as_of"))
        .where(ScoreSnapshot.as_of < as_of)
        .group_by(ScoreSnapshot.account_id)
        .subquery()
    )
    rows = session.execute(
        select(ScoreSnapshot.account_id, ScoreSnapshot.health_score).join(
            latest,
            (latest.c.account_id == ScoreSnapshot.account_id)
            & (latest.c.as_of == ScoreSnapshot.as_of),
        )
    ).all()
    return pd.Series({r.account_id: r.health_score for r in rows}, dtype="float64")


def _churned_by(session: Session, as_of: dt.date) -> list[int]:
    """Accounts whose churn date is on or before `as_of`."""
    return list(session.scalars(select(Account.id).where(Account.churn_date <= as_of)))


def compute_scores(features: pd.DataFrame, config: TenureConfig, as_of: dt.date) -> pd.DataFrame:
    """Every score of every account in `features` (pure: no I/O)."""
    value = score_value(features, config.value)
    rfm = score_rfm(features, config.rfm)
    stage = assign_stage(features, pd.Series(features["customer_since"]), as_of, config.lifecycle)
    health, contributions = score_health(features, config.health)
    out = pd.DataFrame(index=features.index)
    out["current_value"] = value["current_value"].astype("float64").round(2)
    out["potential_value"] = value["potential_value"].astype("float64").round(2)
    out["value_score"] = value["value_score"].astype("float64").round(2)
    out["quadrant"] = value["quadrant"]
    out["rfm_recency"] = rfm["rfm_recency"].astype(int)
    out["rfm_frequency"] = rfm["rfm_frequency"].astype(int)
    out["rfm_monetary"] = rfm["rfm_monetary"].astype(int)
    out["rfm_code"] = rfm["rfm_code"]
    out["lifecycle_stage"] = stage
    out["health_score"] = health.astype("float64")
    out["arr"] = pd.to_numeric(features["arr"], errors="coerce").astype("float64").round(2)
    breakdown = _health_breakdown(features, contributions, config)
    out["health_breakdown"] = pd.Series(breakdown, index=out.index, dtype=object)
    value_cols = [c for c in value.columns if c != "quadrant"]
    value_json = json_lines(value[value_cols].astype("float64"))
    out["value_breakdown"] = pd.Series(value_json, index=out.index, dtype=object)
    return out


def score_accounts(
    session: Session,
    *,
    store: EventStore,
    config: TenureConfig,
    as_of: dt.date,
    progress: Callable[[str], None] | None = None,
    playbooks: bool = True,
) -> ScoreRun:
    """Score every current customer as of `as_of`, reconcile their alerts and (unless
    `playbooks` is false, as for the past dates of a backfill) enrol accounts in the
    playbooks triggered by rules, stages and quadrants.

    The caller owns the transaction: snapshots, alerts and enrolments are written in the
    session and committed together, so a failed run leaves the previous state untouched.
    """
    run = ScoreRun(as_of=as_of)
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        run.seconds[name] = round(now - clock, 3)
        clock = now
        if progress is not None:
            progress(name)

    rules = compile_rules(config.risk.rules)
    features = build_features(session.connection(), store, as_of, config.features)
    lap("features")
    scores = compute_scores(features, config, as_of)
    previous = _previous_health(session, as_of)
    scores["health_change"] = (scores["health_score"] - previous.reindex(scores.index)).round(1)
    lap("scores")

    table = table_of(ScoreSnapshot)
    connection = session.connection()
    connection.execute(delete(table).where(table.c.as_of == as_of))
    columns = {
        "account_id": [int(i) for i in features.index],
        **{name: _column(scores[name]) for name in scores.columns},
        "features": json_lines(features[_FEATURE_NAMES].astype("float64")),
    }
    columns["as_of"] = [as_of] * len(features)
    insert_columns(
        connection,
        table,
        columns,
        json_text={"features", "health_breakdown", "value_breakdown"},
    )
    mark_latest(connection, as_of)
    lap("snapshots")

    firings = evaluate_rules(features, rules, as_of)
    changes = reconcile_alerts(
        session,
        as_of=as_of,
        firings=firings,
        scored_accounts=[int(i) for i in features.index],
        churned_accounts=_churned_by(session, as_of),
        enabled_rules=[r.id for r, _ in rules],
    )
    lap("alerts")
    if playbooks:
        run.playbook_runs = len(on_scored(session, as_of=as_of, scores=scores, now=utcnow()))
        lap("playbooks")
    refresh_statistics(session.connection())
    record_day(session.connection(), as_of)  # after the alerts: it counts the open ones
    lap("portfolio")
    run.accounts = len(features)
    run.alerts_opened = changes.opened
    run.alerts_refreshed = changes.refreshed
    run.alerts_closed = changes.closed
    run.quadrants = {
        str(k): int(v) for k, v in scores["quadrant"].value_counts().sort_index().items()
    }
    run.stages = {
        str(k): int(v) for k, v in scores["lifecycle_stage"].value_counts().sort_index().items()
    }
    return run


def as_of_dates(start: dt.date, end: dt.date, every: str) -> list[dt.date]:
    """The as-of dates of a backfill from `start` to `end` inclusive, every day/week/month."""
    if end < start:
        raise ValueError(f"--to {end} is before --from {start}")
    if every == "day":
        step = dt.timedelta(days=1)
    elif every == "week":
        step = dt.timedelta(days=7)
    elif every == "month":
        dates, k = [], 0
        while (d := add_months(start, k)) <= end:
            dates.append(d)
            k += 1
        return dates
    else:
        raise ValueError(f"every must be day, week or month, not {every!r}")
    dates = []
    d = start
    while d <= end:
        dates.append(d)
        d += step
    return dates
