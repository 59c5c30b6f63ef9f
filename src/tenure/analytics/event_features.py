"""Per-account product-usage features from the event store, as one set-based SQL query.

The query is written once, below, in DuckDB's dialect and transpiled by sqlglot, so the same
features run on PostgreSQL (or any engine sqlglot writes) over an `events` table with the
stored columns and an `event_accounts` (account_key, account_id) table. Configured event
names enter as literals built by sqlglot, never by string formatting.

Windows are inclusive of the as-of day D (UTC): "last N days" is D-N+1 .. D, "previous 30"
is D-59 .. D-30, and nothing after the end of D counts, so backfills see what was known then.

Why the query has this shape (measured, see docs/benchmarks.md): each part reads only the
rows it needs. Every count looks at most 90 days back, so only the recent months are grouped.
Older events matter only for "days since" of accounts without a login in those 90 days; the
scan of older months is restricted to those accounts, which DuckDB pushes into the Parquet
scan as a join filter, so most old rows are dropped before any grouping. Login and core/cancel
event filters are pushed into the scan too. Distinct core features are counted by grouping
(account, event) first: no COUNT(DISTINCT), no bit arithmetic, one portable formulation.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import duckdb
import pandas as pd
import pyarrow as pa
import sqlglot
from sqlglot import exp

from tenure.analytics.catalog import EVENT_FEATURES
from tenure.config import FeaturesConfig
from tenure.events.store import EventStore

EPOCH = dt.date(1970, 1, 1)

_TEMPLATE = """
WITH recent AS (  -- the last 90 days: every count but the logins
    SELECT account_key,
           COUNT(*) AS events_90d,
           COUNT(*) FILTER (WHERE event_day > :day - 30) AS events_30d,
           COUNT(*) FILTER (WHERE event_day > :day - 7) AS events_7d,
           COUNT(*) FILTER (WHERE event_day <= :day - 30 AND event_day > :day - 60)
               AS events_prev_30d,
           MAX(event_day) AS last_event_day
    FROM events
    WHERE event_day > :day - 90 AND event_day <= :day
    GROUP BY account_key
),
logins AS (  -- logins in the last 90 days
    SELECT account_key,
           MAX(event_day) AS last_login_day,
           COUNT(*) FILTER (WHERE event_day > :day - 7) AS logins_7d,
           COUNT(*) FILTER (WHERE event_day > :day - 30) AS logins_30d
    FROM events
    WHERE event_day > :day - 90 AND event_day <= :day AND event IN (:login_events)
    GROUP BY account_key
),
dormant AS (  -- no login in 90 days: their last login (and maybe last event) is older
    SELECT account_key FROM event_accounts
    EXCEPT
    SELECT account_key FROM logins
),
earlier AS (
    SELECT account_key,
           MAX(event_day) AS last_event_day,
           MAX(event_day) FILTER (WHERE event IN (:login_events)) AS last_login_day
    FROM events
    WHERE event_day <= :day - 90 AND account_key IN (SELECT account_key FROM dormant)
    GROUP BY account_key
),
used AS (  -- core features and cancellation attempts in the last 30 days
    SELECT account_key, event, COUNT(*) AS times
    FROM events
    WHERE event_day > :day - 30 AND event_day <= :day AND event IN (:usage_events)
    GROUP BY account_key, event
),
usage AS (
    SELECT account_key,
           COUNT(*) FILTER (WHERE event IN (:core_features)) AS core_features_used_30d,
           CAST(SUM(times) FILTER (WHERE event IN (:cancel_events)) AS BIGINT)
               AS cancel_attempts_30d
    FROM used
    GROUP BY account_key
),
active AS (  -- every account with an event on or before the as-of day
    SELECT COALESCE(r.account_key, e.account_key) AS account_key,
           COALESCE(r.events_7d, 0) AS events_7d,
           COALESCE(r.events_30d, 0) AS events_30d,
           COALESCE(r.events_90d, 0) AS events_90d,
           COALESCE(r.events_prev_30d, 0) AS events_prev_30d,
           COALESCE(r.last_event_day, e.last_event_day) AS last_event_day,
           e.last_login_day AS earlier_login_day
    FROM recent AS r
    FULL OUTER JOIN earlier AS e ON e.account_key = r.account_key
),
names AS (
    SELECT account_key, MIN(account_id) AS account_id
    FROM event_accounts
    GROUP BY account_key
)
SELECT n.account_id,
       :day - COALESCE(l.last_login_day, a.earlier_login_day) AS days_since_login,
       COALESCE(l.logins_7d, 0) AS logins_7d,
       COALESCE(l.logins_30d, 0) AS logins_30d,
       a.events_7d,
       a.events_30d,
       a.events_90d,
       a.events_prev_30d,
       CAST(a.events_30d - a.events_prev_30d AS DOUBLE) / GREATEST(a.events_prev_30d, 1)
           AS usage_change,
       :day - a.last_event_day AS days_since_last_event,
       COALESCE(u.core_features_used_30d, 0) AS core_features_used_30d,
       CAST(COALESCE(u.core_features_used_30d, 0) AS DOUBLE) / :core_count AS core_usage,
       COALESCE(u.cancel_attempts_30d, 0) AS cancel_attempts_30d
FROM active AS a
JOIN names AS n ON n.account_key = a.account_key
LEFT JOIN logins AS l ON l.account_key = a.account_key
LEFT JOIN usage AS u ON u.account_key = a.account_key
ORDER BY n.account_id
"""

_INT_FEATURES = (
    "logins_7d", "logins_30d", "events_7d", "events_30d", "events_90d", "events_prev_30d",
    "days_since_last_event", "core_features_used_30d", "cancel_attempts_30d",
)  # fmt: skip


@cache
def _parsed() -> exp.Expr:
    return sqlglot.parse_one(_TEMPLATE, read="duckdb")


def day_number(day: dt.date) -> int:
    """Days since 1970-01-01: the stored `event_day` of events on `day` (UTC)."""
    return (day - EPOCH).days


def _distinct(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


def event_features_sql(
    dialect: str,
    as_of: dt.date,
    cfg: FeaturesConfig,
    *,
    events_table: str = "events",
    accounts_table: str = "event_accounts",
) -> str:
    """The event-feature query for `as_of` in a sqlglot `dialect` ("duckdb", "postgres", ...)."""
    core = _distinct(cfg.core_features)
    lists = {
        "login_events": _distinct(cfg.login_events),
        "core_features": core,
        "cancel_events": _distinct(cfg.cancel_events),
        "usage_events": _distinct(core + cfg.cancel_events),
    }

    def fill_lists(node: exp.Expr) -> exp.Expr:
        if not (isinstance(node, exp.In) and len(node.expressions) == 1):
            return node
        holder = node.expressions[0]
        if not isinstance(holder, exp.Placeholder):
            return node
        values = lists[holder.name]
        if not values:
            return exp.false()
        return exp.In(this=node.this, expressions=[exp.Literal.string(v) for v in values])

    query = _parsed().copy().transform(fill_lists)
    query = exp.replace_placeholders(query, day=day_number(as_of), core_count=len(core))
    renames = {"events": events_table, "event_accounts": accounts_table}
    renames = {old: new for old, new in renames.items() if old != new}
    if renames:
        query = exp.replace_tables(query, renames)
    return query.sql(dialect=dialect, pretty=True)


def features_frame(table: pa.Table) -> pd.DataFrame:
    """The query result as the feature frame: indexed by account id, catalogue columns."""
    frame = table.to_pandas()
    frame = frame.set_index("account_id")
    frame.index.name = "account_id"
    frame["days_since_login"] = frame["days_since_login"].astype("Int64")
    for name in _INT_FEATURES:
        frame[name] = frame[name].astype("int64")
    for name in ("usage_change", "core_usage"):
        frame[name] = frame[name].astype("float64")
    return frame[list(EVENT_FEATURES)]


def compute_event_features(
    store: EventStore,
    as_of: dt.date,
    cfg: FeaturesConfig,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
) -> pd.DataFrame:
    """Event features of every account with an event on or before `as_of`, by account id."""
    own = con is None
    con = duckdb.connect() if con is None else con
    try:
        store.to_duckdb(con)
        result = con.sql(event_features_sql("duckdb", as_of, cfg)).to_arrow_table()
    finally:
        if own:
            con.close()
    return features_frame(result)
