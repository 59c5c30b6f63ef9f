"""Per-account features from the operational store, one grouped query per source table.

Every query is SQLAlchemy Core, so the same statement runs on SQLite and PostgreSQL; each
groups all accounts at once (no per-account loops). Windows are inclusive of the as-of day:
"last N days" for as-of D covers D-N+1 .. D, and nothing after the end of D counts, so a
backfill for an old date sees only what was known then.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Select, and_, case, func, literal, or_, select
from sqlalchemy.engine import Connection

from tenure.accounts.models import Account
from tenure.commerce.models import Order, Subscription
from tenure.feedback.models import Interaction, NpsResponse, Ticket
from tenure.scoring.lifecycle import add_months, tenure_months

# A select of any columns (SQLAlchemy 2.1 types a select by its column tuple).
AnySelect = Select[*tuple[Any, ...]]

PROMOTER_MIN = 9
DETRACTOR_MAX = 6


def _start(as_of: dt.date, days: int) -> dt.datetime:
    """Start (00:00) of the first day of the `days`-day window that ends on `as_of`."""
    return dt.datetime.combine(as_of - dt.timedelta(days=days - 1), dt.time())


def _end(as_of: dt.date) -> dt.datetime:
    """The first instant after the as-of day."""
    return dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())


def _count_between(column: Any, lo: Any, hi: Any, *extra: Any) -> Any:
    return func.sum(case((and_(column >= lo, column < hi, *extra), 1), else_=0))


def _sum_between(value: Any, column: Any, lo: Any, hi: Any) -> Any:
    return func.sum(case((and_(column >= lo, column < hi), value), else_=0))


def scored_accounts_query(as_of: dt.date) -> AnySelect:
    """Accounts that are customers on the as-of date (joined by then, not yet churned)."""
    query: AnySelect = select(
        Account.id.label("account_id"),
        Account.external_id,
        Account.customer_since,
        Account.industry_influence,
        Account.innovation_synergy,
        Account.growth_potential,
    ).where(
        or_(Account.customer_since.is_(None), Account.customer_since <= as_of),
        or_(Account.churn_date.is_(None), Account.churn_date > as_of),
    )
    return query


def _queries(as_of: dt.date, period_days: int) -> dict[str, AnySelect]:
    end = _end(as_of)
    d30, d60, d90, d180 = (_start(as_of, n) for n in (30, 60, 90, 180))
    period_start = _start(as_of, period_days).date()
    prev_start = _start(as_of, 2 * period_days).date()
    year_ago = add_months(as_of, -12)
    next_day = as_of + dt.timedelta(days=1)

    sub_active = and_(
        Subscription.start_date <= as_of,
        or_(Subscription.end_date.is_(None), Subscription.end_date >= as_of),
    )
    subscriptions = (
        select(
            Subscription.account_id,
            func.sum(case((sub_active, Subscription.arr), else_=0)).label("arr"),
            func.sum(case((sub_active, 1), else_=0)).label("active_contracts"),
            func.min(case((sub_active, Subscription.end_date), else_=None)).label("next_end"),
            func.max(
                case((Subscription.end_date < as_of, Subscription.end_date), else_=None)
            ).label("last_ended"),
        )
        .where(Subscription.start_date <= as_of)
        .group_by(Subscription.account_id)
    )

    orders = (
        select(
            Order.account_id,
            func.sum(case((Order.order_date > year_ago, Order.amount), else_=0)).label(
                "revenue_12m"
            ),
            func.sum(
                case((Order.order_date > year_ago, func.coalesce(Order.margin, 0)), else_=0)
            ).label("margin_12m"),
            func.sum(case((Order.order_date > year_ago, 1), else_=0)).label("orders_12m"),
            func.max(Order.order_date).label("last_order"),
            _sum_between(Order.amount, Order.order_date, period_start, next_day).label(
                "purchase_period"
            ),
            _sum_between(Order.amount, Order.order_date, prev_start, period_start).label(
                "purchase_prev_period"
            ),
        )
        .where(Order.order_date <= as_of)
        .group_by(Order.account_id)
    )

    tickets = (
        select(
            Ticket.account_id,
            _count_between(Ticket.opened_at, d30, end).label("tickets_30d"),
            func.sum(
                case(
                    (or_(Ticket.resolved_at.is_(None), Ticket.resolved_at >= end), 1),
                    else_=0,
                )
            ).label("open_tickets"),
            _count_between(Ticket.opened_at, d30, end, Ticket.is_complaint.is_(True)).label(
                "complaints_30d"
            ),
            _count_between(Ticket.opened_at, d60, d30, Ticket.is_complaint.is_(True)).label(
                "complaints_prev_30d"
            ),
        )
        .where(Ticket.opened_at < end)
        .group_by(Ticket.account_id)
    )

    at = NpsResponse.responded_at
    promoter = NpsResponse.score >= PROMOTER_MIN
    detractor = NpsResponse.score <= DETRACTOR_MAX
    nps = (
        select(
            NpsResponse.account_id,
            _count_between(at, d90, end).label("nps_n"),
            _count_between(at, d90, end, promoter).label("nps_p"),
            _count_between(at, d90, end, detractor).label("nps_d"),
            _count_between(at, d180, d90).label("nps_prev_n"),
            _count_between(at, d180, d90, promoter).label("nps_prev_p"),
            _count_between(at, d180, d90, detractor).label("nps_prev_d"),
        )
        .where(at >= d180, at < end)
        .group_by(NpsResponse.account_id)
    )

    comments = (
        select(
            Interaction.account_id,
            func.count().label("negative_comments_30d"),
        )
        .where(
            Interaction.occurred_at >= d30,
            Interaction.occurred_at < end,
            Interaction.channel == literal("social"),
            Interaction.sentiment == literal("negative"),
        )
        .group_by(Interaction.account_id)
    )

    return {
        "subscriptions": subscriptions,
        "orders": orders,
        "tickets": tickets,
        "nps": nps,
        "comments": comments,
    }


def _frame(connection: Connection, query: AnySelect) -> pd.DataFrame:
    """Rows of `query` straight from the DBAPI cursor.

    SQLAlchemy's per-row result processing (date parsing on SQLite, Decimal handling) costs
    more than the query itself at 100k accounts; the callers convert whole columns instead.
    """
    result = connection.execute(query)
    columns = list(result.keys())
    rows = result.cursor.fetchall() if result.cursor is not None else []
    result.close()
    return pd.DataFrame.from_records(rows, columns=columns).set_index("account_id")


def _days_between(later: dt.date, earlier: pd.Series) -> pd.Series:
    dates = pd.to_datetime(earlier, errors="coerce")
    return (pd.Timestamp(later) - dates).dt.days.astype("Float64")


def _nps(p: pd.Series, d: pd.Series, n: pd.Series) -> pd.Series:
    n = n.astype("Float64")
    return ((p - d) * 100.0 / n.where(n > 0)).astype("Float64")


def compute_operational_features(
    connection: Connection, as_of: dt.date, *, purchase_period_days: int = 365
) -> pd.DataFrame:
    """Operational features of every account that is a customer on `as_of`.

    Returns a frame indexed by account id with `external_id`, `customer_since` and the
    operational features of `tenure.analytics.catalog`.
    """
    base = _frame(connection, scored_accounts_query(as_of))
    parts = {
        name: _frame(connection, q) for name, q in _queries(as_of, purchase_period_days).items()
    }
    frame = base.join(list(parts.values()), how="left")

    out = pd.DataFrame(index=frame.index)
    out["external_id"] = frame["external_id"]
    out["customer_since"] = pd.to_datetime(frame["customer_since"]).dt.date
    out["tenure_days"] = _days_between(as_of, frame["customer_since"])
    known = frame["customer_since"].notna()
    out["tenure_months"] = (
        tenure_months(frame["customer_since"], as_of).astype("Float64").where(known)
    )
    zero_fill = [
        "arr", "revenue_12m", "margin_12m", "orders_12m", "purchase_period", "purchase_prev_period",
        "tickets_30d", "open_tickets", "complaints_30d", "complaints_prev_30d",
        "negative_comments_30d",
    ]  # fmt: skip
    for col in zero_fill:
        out[col] = pd.to_numeric(frame[col], errors="coerce").fillna(0).astype("float64")
    out["days_since_last_order"] = _days_between(as_of, frame["last_order"])
    prev = out["purchase_prev_period"]
    out["purchase_change"] = ((out["purchase_period"] - prev) / prev.where(prev > 0)).astype(
        "Float64"
    )
    active = pd.to_numeric(frame["active_contracts"], errors="coerce").fillna(0)
    overdue = _days_between(as_of, frame["last_ended"]).fillna(0)
    out["days_renewal_overdue"] = overdue.where(active == 0, 0.0).astype("float64")
    out["days_to_renewal"] = (-_days_between(as_of, frame["next_end"])).astype("Float64")
    complaints_prev = out["complaints_prev_30d"]
    out["complaints_change"] = (out["complaints_30d"] - complaints_prev) / np.maximum(
        complaints_prev, 1
    )
    nps_cols = ["nps_n", "nps_p", "nps_d", "nps_prev_n", "nps_prev_p", "nps_prev_d"]
    counts = frame[nps_cols].apply(pd.to_numeric, errors="coerce").fillna(0)
    out["nps_90d"] = _nps(counts["nps_p"], counts["nps_d"], counts["nps_n"])
    out["nps_prev_90d"] = _nps(counts["nps_prev_p"], counts["nps_prev_d"], counts["nps_prev_n"])
    out["nps_change"] = out["nps_90d"] - out["nps_prev_90d"]
    out["nps_responses_90d"] = counts["nps_n"].astype("float64")
    for col in ("industry_influence", "innovation_synergy", "growth_potential"):
        out[col] = pd.to_numeric(frame[col], errors="coerce").astype("Float64")
    return out
