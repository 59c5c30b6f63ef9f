"""The feature table: operational and event features of every scored account, side by side."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
from sqlalchemy.engine import Connection

from tenure.analytics.catalog import EVENT_FEATURES, FEATURES
from tenure.analytics.event_features import compute_event_features
from tenure.analytics.operational_features import compute_operational_features
from tenure.config import FeaturesConfig
from tenure.events.store import EventStore

# Event counts are zero, not unknown, for an account that sent no events.
_ZERO_WHEN_SILENT = (
    "logins_7d", "logins_30d", "events_7d", "events_30d", "events_90d", "events_prev_30d",
    "usage_change", "core_features_used_30d", "core_usage", "cancel_attempts_30d",
)  # fmt: skip


def build_features(
    connection: Connection, store: EventStore, as_of: dt.date, cfg: FeaturesConfig
) -> pd.DataFrame:
    """Every catalogue feature for every account that is a customer on `as_of`.

    Indexed by account id; also carries `external_id` and `customer_since`. An account
    that never logged in has `days_since_login` = its tenure in days (it has not logged
    in since it became a customer), so the no-login rule sees it.
    """
    # DuckDB and the database driver both release the GIL: read events while SQL runs.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(compute_event_features, store, as_of, cfg)
        ops = compute_operational_features(
            connection, as_of, purchase_period_days=cfg.purchase_period_days
        )
        events = pending.result()
    events = events.reindex(columns=list(EVENT_FEATURES))
    frame = ops.join(events, on="external_id", how="left")
    for col in _ZERO_WHEN_SILENT:
        frame[col] = pd.to_numeric(frame[col], errors="coerce").fillna(0).astype("float64")
    for col in ("days_since_login", "days_since_last_event"):
        frame[col] = (
            pd.to_numeric(frame[col], errors="coerce")
            .astype("Float64")
            .fillna(frame["tenure_days"])
        )
    ordered = ["external_id", "customer_since", *(f.name for f in FEATURES)]
    return frame[ordered]
