"""The Delta event store: appends, deduplication, schema errors, the empty store, upkeep."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from tenure.events.schema import (
    EVENT_SCHEMA,
    STORED_SCHEMA,
    EventSchemaError,
    account_key,
)
from tenure.events.store import AppendResult, EventStore

UTC = dt.UTC


def ev(message_id: str, account: str = "A", event: str = "login", **kw: Any) -> dict[str, Any]:
    when = kw.pop("when", dt.datetime(2026, 6, 1, 12, tzinfo=UTC))
    return {"message_id": message_id, "account_id": account, "contact_id": None,
            "event": event, "timestamp": when, "properties": None, **kw}  # fmt: skip


def batch(*rows: dict[str, Any]) -> pa.Table:
    return pa.Table.from_pylist(list(rows), schema=EVENT_SCHEMA)


@pytest.fixture
def store(tmp_path: Path) -> EventStore:
    return EventStore(tmp_path / "events")


def stored(store: EventStore) -> list[dict[str, Any]]:
    rows = store.dataset().to_table().to_pylist()
    return sorted(rows, key=lambda r: r["message_id"])


class TestAppend:
    def test_stores_rows_with_derived_columns(self, store: EventStore) -> None:
        late = dt.datetime(2026, 5, 31, 23, 59, 59, tzinfo=UTC)
        result = store.append(batch(ev("m1", when=late), ev("m2", "B", "report.create")))

        assert result == AppendResult(added=2, duplicates=0)
        assert store.exists() and store.count() == 2
        first, second = stored(store)
        assert first["event_day"] == (dt.date(2026, 5, 31) - dt.date(1970, 1, 1)).days
        assert first["event_month"] == dt.date(2026, 5, 1)
        assert second["event_month"] == dt.date(2026, 6, 1)
        assert first["account_key"] == account_key("A")
        assert store.dataset().schema.names == STORED_SCHEMA.names

    def test_keeps_the_first_of_repeated_ids_in_a_batch(self, store: EventStore) -> None:
        result = store.append(batch(ev("m1", event="first"), ev("m1", event="second"), ev("m2")))

        assert result == AppendResult(added=2, duplicates=1)
        assert [r["event"] for r in stored(store)] == ["first", "login"]

    @pytest.mark.parametrize("local", [True, False], ids=["duckdb", "pyarrow"])
    def test_skips_ids_stored_by_earlier_batches(
        self, store: EventStore, local: bool, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Local tables are checked with DuckDB, object stores through pyarrow datasets.
        monkeypatch.setattr("tenure.events.store._is_local", lambda uri: local)
        store.append(batch(ev("m1"), ev("m2")))
        result = store.append(batch(ev("m2"), ev("m3"), ev("m1"), ev("m3")))

        assert result == AppendResult(added=1, duplicates=3)
        assert [r["message_id"] for r in stored(store)] == ["m1", "m2", "m3"]

    def test_a_batch_of_only_known_ids_changes_nothing(self, store: EventStore) -> None:
        store.append(batch(ev("m1")))
        result = store.append(batch(ev("m1")))

        assert result == AppendResult(added=0, duplicates=1)
        assert store.count() == 1

    def test_an_empty_batch_creates_nothing(self, store: EventStore) -> None:
        assert store.append(EVENT_SCHEMA.empty_table()) == AppendResult(0, 0)
        assert not store.exists()

    def test_accepts_other_zones_and_encodings(self, store: EventStore) -> None:
        shanghai = dt.timezone(dt.timedelta(hours=8))
        table = pa.table({
            "message_id": pa.array(["m1"], pa.large_string()),
            "account_id": pa.array(["A"]).dictionary_encode(),
            "event": ["login"],
            "timestamp": pa.array([dt.datetime(2026, 6, 1, 1, tzinfo=shanghai)],
                                  pa.timestamp("ms", tz="+08:00")),
        })  # fmt: skip
        store.append(table)

        (row,) = stored(store)
        assert row["timestamp"] == dt.datetime(2026, 5, 31, 17, tzinfo=UTC)
        assert row["event_month"] == dt.date(2026, 5, 1)  # the UTC day decides
        assert row["contact_id"] is None and row["properties"] is None

    def test_maps_account_keys_back_to_ids(self, store: EventStore) -> None:
        store.append(batch(ev("m1", "A"), ev("m2", "B")))
        store.append(batch(ev("m3", "B"), ev("m4", "C")))

        pairs = sorted(store.accounts().to_pylist(), key=lambda r: r["account_id"])
        assert pairs == [{"account_key": account_key(a), "account_id": a} for a in "ABC"]


class TestSchemaErrors:
    def problems(self, store: EventStore, table: pa.Table) -> list[tuple[str, str]]:
        with pytest.raises(EventSchemaError) as caught:
            store.append(table)
        assert not store.exists()  # nothing is written
        return caught.value.problems

    def test_missing_and_unknown_columns(self, store: EventStore) -> None:
        table = batch(ev("m1")).drop_columns(["account_id"]).append_column("acount_id", [["A"]])

        assert self.problems(store, table) == [
            ("acount_id", "unknown column"),
            ("account_id", "missing column"),
        ]

    def test_wrong_types(self, store: EventStore) -> None:
        table = batch(ev("m1")).set_column(4, "timestamp", pa.array(["2026-06-01"]))
        table = table.set_column(3, "event", pa.array([7]))

        assert self.problems(store, table) == [
            ("event", "expected text (string), got int64"),
            ("timestamp", "expected a UTC timestamp, got string"),
        ]

    def test_timestamps_need_a_zone(self, store: EventStore) -> None:
        naive = pa.array([dt.datetime(2026, 6, 1)], pa.timestamp("us"))
        table = batch(ev("m1")).set_column(4, "timestamp", naive)

        assert self.problems(store, table) == [
            ("timestamp", "timestamp has no time zone; give UTC (or any explicit zone)")
        ]

    def test_missing_and_empty_values_name_the_row(self, store: EventStore) -> None:
        table = pa.table({
            "message_id": ["m1", "", "m3"],
            "account_id": ["A", "A", None],
            "event": ["login", "login", "login"],
            "timestamp": pa.array([dt.datetime(2026, 6, 1, tzinfo=UTC)] * 3,
                                  pa.timestamp("us", tz="UTC")),
        })  # fmt: skip

        assert self.problems(store, table) == [
            ("message_id", "empty text at row 1"),
            ("account_id", "1 missing value(s), first at row 2"),
        ]


class TestEmptyStore:
    def test_reads_as_no_events(self, store: EventStore) -> None:
        assert not store.exists()
        assert store.count() == 0
        assert store.dataset().to_table().num_rows == 0
        assert store.dataset().schema == STORED_SCHEMA
        assert store.accounts().num_rows == 0
        con = duckdb.connect()
        store.to_duckdb(con)
        assert con.execute("SELECT count(*) FROM events").fetchall() == [(0,)]
        assert con.execute("SELECT count(*) FROM event_accounts").fetchall() == [(0,)]

    def test_upkeep_does_nothing(self, store: EventStore) -> None:
        assert store.compact() == 0
        assert store.vacuum() == []


class TestDuckdb:
    def test_reads_the_current_version(self, store: EventStore) -> None:
        store.append(batch(ev("m1", "A"), ev("m2", "B", when=dt.datetime(2026, 1, 5, tzinfo=UTC))))
        con = duckdb.connect()
        store.to_duckdb(con)
        store.append(batch(ev("m3", "C")))  # after the views were made

        rows = con.sql(
            "SELECT e.message_id, a.account_id, e.event_month FROM events e "
            "JOIN event_accounts a USING (account_key) ORDER BY 1"
        ).fetchall()
        assert rows == [("m1", "A", dt.date(2026, 6, 1)), ("m2", "B", dt.date(2026, 1, 1))]


class TestUpkeep:
    def test_compact_sorts_each_month_into_one_file(self, store: EventStore) -> None:
        for i, account in enumerate("CBA"):
            store.append(batch(ev(f"m{i}", account), ev(f"x{i}", account, when=dt.datetime(
                2026, 5, 2, tzinfo=UTC))))  # fmt: skip
        before = stored(store)

        assert store.compact() == 2
        assert store.compact() == 0  # nothing left to do
        assert stored(store) == before
        con = duckdb.connect()
        store.to_duckdb(con)
        for month in (dt.date(2026, 5, 1), dt.date(2026, 6, 1)):
            keys = [
                k
                for (k,) in con.execute(
                    "SELECT account_key FROM events WHERE event_month = ?", [month]
                ).fetchall()
            ]
            assert len(keys) == 3 and keys == sorted(keys)  # fmt: skip
        removed = store.vacuum(retention_hours=0)
        old_events = [f for f in removed if f.startswith("event_month=")]
        assert len(old_events) == 6  # the three appended files of each month
        assert stored(store) == before
