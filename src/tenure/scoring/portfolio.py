"""The portfolio at a glance: quadrants, stages, health bands and open alerts.

A date's figures come from its snapshots and do not change until the date is scored again,
so they are computed once per date into `portfolio_days` (by the scoring run, or on the
first read of a date scored before that table existed) and read as one row. Figures that
move between runs, open alerts and the ARR behind them, are counted live on indexes.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import Integer, case, cast, delete, func, insert, literal_column, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tenure.accounts.models import Account
from tenure.accounts.schemas import HEALTHY_MIN, WATCH_MIN
from tenure.db import table_of
from tenure.kit.cli import DatabaseUrlOpt, HomeOpt, JsonOpt, console, parse_date, print_json
from tenure.kit.runtime import open_runtime
from tenure.risk.models import OPEN_STATUSES, Alert
from tenure.scoring.models import LatestScore, PortfolioDay, ScoreSnapshot

SCATTER_POINTS = 1500  # the largest accounts by ARR; more points only blur the chart
HISTOGRAM_BINS = 10


def summarise_day(connection: Connection, day: dt.date) -> dict[str, Any] | None:
    """The `portfolio_days` row of `day` computed from its snapshots (None: none that day).

    Two passes over the date's snapshots: one grouped by quadrant, stage, health band and
    health decile (at most a few hundred groups), one for the largest accounts by ARR.
    """
    snap = table_of(ScoreSnapshot)
    width = 100 // HISTOGRAM_BINS
    band = case(
        (snap.c.health_score >= HEALTHY_MIN, "healthy"),
        (snap.c.health_score >= WATCH_MIN, "watch"),
        else_="at_risk",
    )
    bucket = cast(snap.c.health_score / width, Integer)
    groups = connection.execute(
        select(
            snap.c.quadrant,
            snap.c.lifecycle_stage,
            band.label("band"),
            bucket.label("bucket"),
            func.count().label("n"),
            func.sum(snap.c.health_score).label("health"),
            func.sum(snap.c.value_score).label("value"),
            func.sum(func.coalesce(snap.c.arr, 0)).label("arr"),
        )
        .where(snap.c.as_of == day)
        .group_by(snap.c.quadrant, snap.c.lifecycle_stage, band, bucket)
    ).all()
    if not groups:
        return None
    accounts = sum(int(g.n) for g in groups)
    quadrants: dict[str, int] = {}
    stages: dict[str, int] = {}
    bands: dict[str, int] = {}
    histogram = [0] * HISTOGRAM_BINS
    for g in groups:
        n = int(g.n)
        quadrants[str(g.quadrant)] = quadrants.get(str(g.quadrant), 0) + n
        stages[str(g.lifecycle_stage)] = stages.get(str(g.lifecycle_stage), 0) + n
        bands[str(g.band)] = bands.get(str(g.band), 0) + n
        histogram[min(max(int(g.bucket or 0), 0), HISTOGRAM_BINS - 1)] += n
    arr = func.coalesce(snap.c.arr, 0)
    accounts_table = table_of(Account)
    largest = (
        select(
            snap.c.account_id,
            snap.c.current_value,
            snap.c.potential_value,
            snap.c.quadrant,
            arr.label("arr"),
        )
        .where(snap.c.as_of == day)
        .order_by(arr.desc(), snap.c.account_id)
        .limit(SCATTER_POINTS)
        .subquery("largest")
    )
    scatter = connection.execute(
        select(largest, accounts_table.c.external_id, accounts_table.c.name)
        .join(accounts_table, accounts_table.c.id == largest.c.account_id)
        .order_by(largest.c.arr.desc(), largest.c.account_id)
    ).all()
    open_alerts, alerted, arr_at_risk = alert_figures(connection)
    return {
        "as_of": day,
        "accounts": accounts,
        "avg_health_score": round(sum(float(g.health or 0) for g in groups) / accounts, 1),
        "avg_value_score": round(sum(float(g.value or 0) for g in groups) / accounts, 1),
        "low_health": bands.get("at_risk", 0),
        "arr": float(sum(float(g.arr or 0) for g in groups)),
        "quadrants": dict(sorted(quadrants.items())),
        "lifecycle_stages": dict(sorted(stages.items())),
        "health_bands": dict(sorted(bands.items())),
        "health_histogram": histogram,
        "scatter": [
            [
                int(r.account_id),
                r.external_id,
                r.name,
                r.current_value,
                r.potential_value,
                r.quadrant,
                float(r.arr),
            ]
            for r in scatter
        ],
        "open_alerts": open_alerts,
        "accounts_with_open_alerts": alerted,
        "arr_at_risk": arr_at_risk,
    }


def record_day(connection: Connection, day: dt.date) -> dict[str, Any] | None:
    """(Re)compute and store the figures of `day`; the scoring run calls this after writing
    the date's snapshots, in the same transaction."""
    forget_day(connection, day)
    row = summarise_day(connection, day)
    if row is not None:
        connection.execute(insert(table_of(PortfolioDay)), [row])
    return row


def forget_day(connection: Connection, day: dt.date) -> None:
    """Drop the stored figures of `day` (its snapshots changed; the next read recomputes)."""
    days = table_of(PortfolioDay)
    connection.execute(delete(days).where(days.c.as_of == day))


def _iso(value: Any) -> str | None:
    return value.isoformat(timespec="seconds") if isinstance(value, dt.datetime) else None


def _as_dict(row: Any) -> dict[str, Any]:
    return {c.name: getattr(row, c.name) for c in table_of(PortfolioDay).columns}


def portfolio_days(session: Session, days: list[dt.date]) -> dict[dt.date, dict[str, Any]]:
    """The stored figures of `days`, computing and storing any date not yet summarised.

    Two readers may compute the same missing date at once: the second one's insert fails on
    the primary key inside a savepoint and it keeps its own (identical) figures.
    """
    table = table_of(PortfolioDay)
    found = {
        r.as_of: _as_dict(r) for r in session.execute(select(table).where(table.c.as_of.in_(days)))
    }
    for day in days:
        if day in found:
            continue
        row = summarise_day(session.connection(), day)
        if row is None:
            continue
        try:
            with session.begin_nested():
                session.connection().execute(insert(table), [row])
        except IntegrityError:
            pass
        found[day] = row
    return found


def scored_dates(session: Session, limit: int) -> list[dt.date]:
    """The latest `limit` as-of dates with snapshots, oldest first: one seek of the `as_of`
    index per date instead of a DISTINCT over every snapshot."""
    days: list[dt.date] = []
    before: dt.date | None = None
    while len(days) < limit:
        stmt = select(func.max(ScoreSnapshot.as_of))
        if before is not None:
            stmt = stmt.where(ScoreSnapshot.as_of < before)
        day = session.scalar(stmt)
        if day is None:
            break
        days.append(day)
        before = day
    return sorted(days)


def alert_figures(connection: Connection) -> tuple[dict[str, int], int, float]:
    """Open (or acknowledged) alerts per rule, how many accounts have any, and their ARR (on
    each one's latest scored date): two passes over indexes of the open alerts."""
    alerts, latest = table_of(Alert), table_of(LatestScore)
    open_now = alerts.c.status.in_([literal_column(f"'{s}'") for s in OPEN_STATUSES])
    by_rule = connection.execute(
        select(alerts.c.rule_id, func.count()).where(open_now).group_by(alerts.c.rule_id)
    ).all()
    alerted = select(alerts.c.account_id).where(open_now).distinct().subquery("alerted")
    count, arr = connection.execute(
        select(func.count(), func.coalesce(func.sum(latest.c.arr), 0))
        .select_from(alerted)
        .outerjoin(latest, latest.c.account_id == alerted.c.account_id)
    ).one()
    return {str(k): int(v) for k, v in sorted(by_rule)}, int(count or 0), float(arr or 0)


def portfolio_summary(session: Session, as_of: dt.date | None = None) -> dict[str, Any]:
    """The figures of `as_of` (default: the latest scored date), open alerts included, as of
    the scoring run (or first read) that computed them: `computed_at`."""
    day = as_of or session.scalar(select(func.max(ScoreSnapshot.as_of)))
    figures = portfolio_days(session, [day]).get(day) if day is not None else None
    if day is None or figures is None:
        return {"as_of": day.isoformat() if day else None, "accounts": 0}
    churned = session.scalar(select(func.count()).where(Account.status == "churned"))
    return {
        "as_of": day.isoformat(),
        "accounts": figures["accounts"],
        "avg_health_score": figures["avg_health_score"],
        "avg_value_score": figures["avg_value_score"],
        "arr": figures["arr"],
        "quadrants": figures["quadrants"],
        "lifecycle_stages": figures["lifecycle_stages"],
        "health_bands": figures["health_bands"],
        "open_alerts": figures["open_alerts"],
        "accounts_with_open_alerts": figures["accounts_with_open_alerts"],
        "arr_at_risk": figures["arr_at_risk"],
        "computed_at": _iso(figures.get("computed_at")),
        "churned_accounts": int(churned or 0),
    }


def portfolio(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Snapshot date; default latest.")
    ] = None,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Summarise the portfolio: quadrants, lifecycle stages, health bands, open alerts."""
    runtime = open_runtime(home, database_url)
    try:
        with runtime.sessions() as session:
            summary = portfolio_summary(session, parse_date(as_of, "--as-of"))
            session.commit()  # keep figures computed for a date scored before they were kept
    finally:
        runtime.close()
    if json_out:
        print_json(summary)
        return
    if not summary["accounts"]:
        console.print("No scores yet: run `tenure score` first.")
        return
    table = Table(title=f"Portfolio as of {summary['as_of']}: {summary['accounts']} accounts")
    table.add_column("group")
    table.add_column("name")
    table.add_column("accounts", justify="right")
    for group in ("quadrants", "lifecycle_stages", "health_bands", "open_alerts"):
        for name, count in summary[group].items():
            table.add_row(group.replace("_", " "), name, str(count))
    console.print(table)
    console.print(
        f"average health {summary['avg_health_score']}, "
        f"average value {summary['avg_value_score']}, "
        f"{summary['accounts_with_open_alerts']} accounts with open alerts, "
        f"{summary['churned_accounts']} churned"
    )
