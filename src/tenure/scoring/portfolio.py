"""The portfolio at a glance: quadrants, stages, health bands and open alerts."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from tenure.accounts.models import Account
from tenure.kit.cli import DatabaseUrlOpt, HomeOpt, JsonOpt, console, parse_date, print_json
from tenure.kit.runtime import open_runtime
from tenure.risk.models import Alert
from tenure.scoring.models import ScoreSnapshot

HEALTHY_MIN = 70.0
WATCH_MIN = 40.0


def portfolio_summary(session: Session, as_of: dt.date | None = None) -> dict[str, Any]:
    """Counts of the snapshot of `as_of` (default: the latest scored date)."""
    day = as_of or session.scalar(select(func.max(ScoreSnapshot.as_of)))
    if day is None:
        return {"as_of": None, "accounts": 0}
    snap = ScoreSnapshot
    where = snap.as_of == day

    def grouped(column: Any) -> dict[str, int]:
        rows = session.execute(select(column, func.count()).where(where).group_by(column)).all()
        return {str(k): int(v) for k, v in sorted(rows, key=lambda r: str(r[0]))}

    band = case(
        (snap.health_score >= HEALTHY_MIN, "healthy"),
        (snap.health_score >= WATCH_MIN, "watch"),
        else_="at_risk",
    )
    totals = session.execute(
        select(func.count(), func.avg(snap.health_score), func.avg(snap.value_score)).where(where)
    ).one()
    open_alerts = session.execute(
        select(Alert.rule_id, func.count())
        .where(Alert.closed_as_of.is_(None), Alert.status.in_(("open", "acknowledged")))
        .group_by(Alert.rule_id)
    ).all()
    alerted = session.scalar(
        select(func.count(func.distinct(Alert.account_id))).where(
            Alert.closed_as_of.is_(None), Alert.status.in_(("open", "acknowledged"))
        )
    )
    churned = session.scalar(select(func.count()).where(Account.status == "churned"))
    return {
        "as_of": day.isoformat(),
        "accounts": int(totals[0]),
        "avg_health_score": round(float(totals[1] or 0), 1),
        "avg_value_score": round(float(totals[2] or 0), 1),
        "quadrants": grouped(snap.quadrant),
        "lifecycle_stages": grouped(snap.lifecycle_stage),
        "health_bands": grouped(band),
        "open_alerts": {str(k): int(v) for k, v in sorted(open_alerts)},
        "accounts_with_open_alerts": int(alerted or 0),
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
