"""Event features against hand-computed values, and the same SQL on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa

from tenure.analytics.catalog import EVENT_FEATURES
from tenure.analytics.event_features import (
    compute_event_features,
    event_features_sql,
    features_frame,
)
from tenure.config import FeaturesConfig
from tenure.events.schema import EVENT_SCHEMA
from tenure.events.store import EventStore

D = dt.date(2026, 6, 30)
CFG = FeaturesConfig(
    login_events=["login"],
    core_features=["report.create", "dashboard.view", "workflow.run", "data.import",
                   "alert.configure"],
    cancel_events=["account.cancel_attempt"],
)  # fmt: skip


def at(days_ago: int, hour: int = 12, minute: int = 0, second: int = 0) -> dt.datetime:
    day = D - dt.timedelta(days=days_ago)
    return dt.datetime.combine(day, dt.time(hour, minute, second), tzinfo=dt.UTC)


def make_store(path: Path, events: list[tuple[str, str, dt.datetime]]) -> EventStore:
    store = EventStore(path)
    rows = [{"message_id": f"m{i}", "account_id": account, "event": name, "timestamp": when}
            for i, (account, name, when) in enumerate(events)]  # fmt: skip
    store.append(pa.Table.from_pylist(rows, schema=EVENT_SCHEMA))
    return store


EVENTS = [
    ("A", "login", at(0, 23, 59, 59)),  # the last second of the as-of day
    ("A", "login", at(6, 0)),  # 6 days ago: inside "last 7 days"
    ("A", "login", at(7)),  # 7 days ago: outside it, inside 30
    ("A", "report.create", at(29)),
    ("A", "report.create", at(1)),  # the same core feature again
    ("A", "dashboard.view", at(30)),  # 30 days ago: previous 30, not last 30
    ("A", "account.cancel_attempt", at(3)),
    ("A", "account.cancel_attempt", at(40)),
    ("A", "page.view", at(59)),  # last day of "previous 30"
    ("A", "page.view", at(60)),  # before it
    ("A", "page.view", at(89)),  # last day of "last 90"
    ("A", "page.view", at(90)),  # before it
    ("A", "login", at(-1, 0)),  # after the as-of day: ignored
    ("A", "workflow.run", at(-1, 0)),
    # 23:30 at UTC-5 on the as-of day is 04:30 UTC the next day: ignored.
    ("A", "workflow.run", at(0, 23, 30).replace(tzinfo=dt.timezone(-dt.timedelta(hours=5)))),
    ("B", "page.view", at(100)),  # never logged in
    ("C", "login", at(-2)),  # only after the as-of day: not in the frame
    ("D", "login", at(200)),  # logged in long ago, nothing since
]


@pytest.fixture
def store(tmp_path: Path) -> EventStore:
    return make_store(tmp_path / "events", EVENTS)


def expected(**by_account: dict[str, Any]) -> dict[str, dict[str, Any]]:
    zero = {name: 0 for name in EVENT_FEATURES} | {"usage_change": 0.0, "core_usage": 0.0}
    return {account: zero | values for account, values in by_account.items()}


class TestComputeEventFeatures:
    def test_hand_computed_windows(self, store: EventStore) -> None:
        frame = compute_event_features(store, D, CFG)

        assert list(frame.columns) == list(EVENT_FEATURES)
        assert frame.index.name == "account_id"
        got = {a: {k: (None if pd.isna(v) else v) for k, v in row.items()}
               for a, row in frame.to_dict("index").items()}  # fmt: skip
        assert got == expected(
            A={"days_since_login": 0, "logins_7d": 2, "logins_30d": 3, "events_7d": 4,
               "events_30d": 6, "events_90d": 11, "events_prev_30d": 3, "usage_change": 1.0,
               "days_since_last_event": 0, "core_features_used_30d": 1, "core_usage": 0.2,
               "cancel_attempts_30d": 1},
            B={"days_since_login": None, "days_since_last_event": 100},
            D={"days_since_login": 200, "days_since_last_event": 200},
        )  # fmt: skip

    def test_backfill_sees_only_what_was_known(self, store: EventStore) -> None:
        frame = compute_event_features(store, D - dt.timedelta(days=7), CFG)

        a = frame.loc["A"]
        assert (a["days_since_login"], a["logins_7d"], a["events_7d"]) == (0, 1, 1)
        assert (a["core_features_used_30d"], a["cancel_attempts_30d"]) == (2, 0)

    def test_never_logged_in_is_null(self, store: EventStore) -> None:
        frame = compute_event_features(store, D, CFG)

        assert frame["days_since_login"].dtype == "Int64"
        assert pd.isna(frame.loc["B", "days_since_login"])

    def test_configured_event_names(self, tmp_path: Path) -> None:
        store = make_store(tmp_path / "ev", [
            ("A", "session.start", at(2)), ("A", "it's; DROP TABLE events --", at(2)),
            ("A", "export", at(1)), ("A", "export", at(3)),
        ])  # fmt: skip
        cfg = FeaturesConfig(login_events=["session.start"], cancel_events=[],
                             core_features=["export", "it's; DROP TABLE events --", "x", "x"])  # fmt: skip
        a = compute_event_features(store, D, cfg).loc["A"]

        assert (a["days_since_login"], a["logins_7d"]) == (2, 1)
        assert (a["core_features_used_30d"], a["core_usage"]) == (2, 2 / 3)
        assert a["cancel_attempts_30d"] == 0

    def test_object_store_path_gives_the_same_features(
        self, store: EventStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        direct = compute_event_features(store, D, CFG)
        # Remote tables are read through pyarrow datasets instead of DuckDB's Parquet reader.
        monkeypatch.setattr("tenure.events.store._is_local", lambda uri: False)

        pd.testing.assert_frame_equal(compute_event_features(store, D, CFG), direct)

    def test_empty_store_has_no_accounts(self, tmp_path: Path) -> None:
        frame = compute_event_features(EventStore(tmp_path / "none"), D, CFG)

        assert frame.empty
        assert list(frame.columns) == list(EVENT_FEATURES)
        assert frame.index.name == "account_id"


class TestSql:
    @pytest.mark.parametrize("dialect", ["duckdb", "postgres", "spark"])
    def test_renders_for_each_dialect(self, dialect: str) -> None:
        sql = event_features_sql(dialect, D, CFG, events_table="ev", accounts_table="acc")

        assert "FROM ev" in sql and "FROM acc" in sql
        assert "'report.create'" in sql and "20634" in sql  # day number of 2026-06-30
        assert "DISTINCT" not in sql.upper()


def random_events(n: int, seed: int) -> list[tuple[str, str, dt.datetime]]:
    rng = np.random.default_rng(seed)
    names = ["login", *CFG.core_features, "account.cancel_attempt", "page.view", "search"]
    out = []
    for _ in range(n):
        account = f"acct-{rng.integers(0, 40)}"
        when = at(int(rng.integers(-5, 200)), int(rng.integers(0, 24)), int(rng.integers(0, 60)))
        out.append((account, names[int(rng.integers(0, len(names)))], when))
    return out


@pytest.mark.postgres
def test_postgres_gives_the_same_features(tmp_path: Path, pg_database_url: str) -> None:
    store = make_store(tmp_path / "events", EVENTS + random_events(3000, seed=1))
    events = store.dataset().to_table(columns=["message_id", "account_key", "event", "event_day"])
    engine = sa.create_engine(pg_database_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE tenure_events (message_id text PRIMARY KEY, "
                                 "account_key bigint, event text, event_day integer)"))  # fmt: skip
            conn.execute(sa.text("CREATE TABLE tenure_accounts (account_key bigint, "
                                 "account_id text)"))  # fmt: skip
            conn.execute(
                sa.text("INSERT INTO tenure_events VALUES (:message_id, :account_key, :event, "
                        ":event_day)"), events.to_pylist())  # fmt: skip
            conn.execute(sa.text("INSERT INTO tenure_accounts VALUES (:account_key, :account_id)"),
                         store.accounts().to_pylist())  # fmt: skip
        for as_of in (D, D - dt.timedelta(days=45)):
            sql = event_features_sql("postgres", as_of, CFG, events_table="tenure_events",
                                     accounts_table="tenure_accounts")  # fmt: skip
            with engine.connect() as conn:
                rows = [dict(r) for r in conn.execute(sa.text(sql)).mappings()]
            on_postgres = features_frame(pa.Table.from_pylist(rows))
            on_duckdb = compute_event_features(store, as_of, CFG)
            assert len(on_duckdb) == 43  # 40 random accounts, A, B and D
            pd.testing.assert_frame_equal(on_postgres, on_duckdb, check_exact=True)
    finally:
        engine.dispose()
