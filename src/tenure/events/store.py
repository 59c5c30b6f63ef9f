"""The event store: product-usage events in a Delta Lake table, read by DuckDB through Arrow.

Physical layout (see docs/benchmarks.md for why):

- partitioned by `event_month` (UTC), so deduplication and compaction touch one month;
- every file sorted by (account_key, event_day, timestamp), in row groups of about a million
  rows: an account's events sit together, which keeps DuckDB's grouping cache-friendly;
- `account_key` (int64) and `event_day` (int32) are derived columns, so features group on an
  integer and compare integers; event names stay text, Parquet dictionary-encodes them;
- `<table>/_accounts` is a small Delta table mapping account_key back to the external id.
  It is written before the events that use a new key, so every stored key resolves.

One writer at a time is assumed (the ingestion flusher): Delta appends do not conflict with
each other, so two concurrent writers could both store the same new message id.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
from deltalake import DeltaTable, WriterProperties, write_deltalake

from tenure.errors import TenureError
from tenure.events.schema import (
    ACCOUNT_SCHEMA,
    PARTITION_COLUMN,
    SORT_KEYS,
    STORED_SCHEMA,
    account_keys,
    conform_events,
    with_derived_columns,
)

ROW_GROUP_ROWS = 1 << 20
TARGET_FILE_BYTES = 512 << 20
_UNREADABLE_BY_PARQUET = {"deletionVectors", "columnMapping"}


class AccountKeyCollision(TenureError):
    """Two account ids hash to the same stored key (never seen; refuse rather than mix)."""

    status_code = 409


@dataclass(frozen=True)
class AppendResult:
    added: int
    duplicates: int


def _writer_properties() -> WriterProperties:
    return WriterProperties(
        compression="ZSTD", compression_level=1, max_row_group_size=ROW_GROUP_ROWS
    )


def _is_local(uri: str) -> bool:
    return "://" not in uri or uri.startswith("file://")


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _first_occurrences(events: pa.Table) -> pa.Table:
    """`events` without rows whose message_id repeats an earlier row of the batch."""
    ids = events.column("message_id")
    if len(pc.unique(ids)) == events.num_rows:  # much faster than pc.count_distinct
        return events
    rows = pa.table({"id": ids, "row": pa.array(np.arange(events.num_rows))})
    first = rows.group_by("id", use_threads=False).aggregate([("row", "min")])
    return events.take(np.sort(first.column("row_min").to_numpy()))


class EventStore:
    """Product-usage events in the Delta table at `path` (a local path or object-store URI)."""

    def __init__(self, path: Path | str, *, storage_options: dict[str, str] | None = None):
        self.uri = str(path)
        self.accounts_uri = self.uri.rstrip("/") + "/_accounts"
        self.storage_options = storage_options

    def __repr__(self) -> str:
        return f"EventStore({self.uri!r})"

    def _table(self) -> DeltaTable | None:
        if not DeltaTable.is_deltatable(self.uri, self.storage_options):
            return None
        return DeltaTable(self.uri, storage_options=self.storage_options)

    def exists(self) -> bool:
        """True once the first event has been stored."""
        return DeltaTable.is_deltatable(self.uri, self.storage_options)

    def count(self) -> int:
        """Number of stored events (from the Delta log; no data is read)."""
        table = self._table()
        if table is None:
            return 0
        records = pa.table(table.get_add_actions(flatten=True)).column("num_records")
        if records.null_count:
            return int(table.to_pyarrow_dataset().count_rows())
        return int(pc.sum(records).as_py() or 0)

    def dataset(self) -> ds.Dataset:
        """Every stored event (`STORED_SCHEMA`) as a pyarrow dataset; empty if none yet."""
        table = self._table()
        if table is None:
            return ds.dataset(STORED_SCHEMA.empty_table())
        return table.to_pyarrow_dataset()

    def accounts(self) -> pa.Table:
        """The account_key → account_id dictionary (`ACCOUNT_SCHEMA`)."""
        if not DeltaTable.is_deltatable(self.accounts_uri, self.storage_options):
            return ACCOUNT_SCHEMA.empty_table()
        raw = DeltaTable(self.accounts_uri, storage_options=self.storage_options)
        pairs = raw.to_pyarrow_table().group_by(["account_key", "account_id"]).aggregate([])
        return pairs.select(ACCOUNT_SCHEMA.names).cast(ACCOUNT_SCHEMA)

    def _parquet_files(self, uri: str, months: list[str] | None = None) -> list[str] | None:
        """Data files of the Delta table at `uri` (in `months`) DuckDB may read as Parquet.

        None when the table does not exist, is not local (DuckDB would need its httpfs
        extension), has no files, or uses features plain Parquet readers cannot honour.
        """
        if not _is_local(uri) or not DeltaTable.is_deltatable(uri, self.storage_options):
            return None
        table = DeltaTable(uri, storage_options=self.storage_options)
        if set(table.protocol().reader_features or ()) & _UNREADABLE_BY_PARQUET:
            return None
        where = None if months is None else [(PARTITION_COLUMN, "in", months)]
        files = table.file_uris(file_pruning_predicate=where)
        return [f.removeprefix("file://") for f in files] or None

    def to_duckdb(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        name: str = "events",
        accounts_name: str = "event_accounts",
    ) -> None:
        """Expose the current version as views `name` (events) and `accounts_name` in `con`.

        Local tables are scanned by DuckDB's Parquet reader over the files of this version
        (projection, filter and row-group pruning); others through pyarrow datasets.
        """
        files = self._parquet_files(self.uri)
        if files is None:
            con.register(name, self.dataset())
        else:
            # The partition value lives in the Delta log, not the file: derive it from the day.
            month = "CAST(date_trunc('month', DATE '1970-01-01' + event_day) AS DATE)"
            con.execute(
                f'CREATE OR REPLACE TEMP VIEW "{name}" AS SELECT *, {month} AS {PARTITION_COLUMN} '
                f"FROM read_parquet([{', '.join(map(_sql_text, files))}])"
            )
        # Keys may repeat in the raw dictionary (concurrent writers); readers group them.
        pairs = self._parquet_files(self.accounts_uri)
        if pairs is None:
            con.register(accounts_name, self.accounts())
        else:
            con.execute(
                f'CREATE OR REPLACE TEMP VIEW "{accounts_name}" AS SELECT account_key, '
                f"account_id FROM read_parquet([{', '.join(map(_sql_text, pairs))}])"
            )

    def append(self, table: pa.Table) -> AppendResult:
        """Store new events in one Delta commit, skipping message ids already seen.

        Raises `EventSchemaError` when `table` does not fit `EVENT_SCHEMA`. A message id
        counts as seen when it repeats earlier in the batch or is stored in a month the
        batch touches (a retried event carries its original timestamp).
        """
        events = conform_events(table)
        total = events.num_rows
        stored = with_derived_columns(_first_occurrences(events))
        current = self._table()
        if current is not None and stored.num_rows:
            stored = self._without_stored_ids(current, stored)
        if stored.num_rows:
            self._register_accounts(stored)
            write_deltalake(
                self.uri,
                stored.sort_by(list(SORT_KEYS)),
                mode="append",
                partition_by=[PARTITION_COLUMN],
                storage_options=self.storage_options,
                writer_properties=_writer_properties(),
                target_file_size=TARGET_FILE_BYTES,
            )
        return AppendResult(added=stored.num_rows, duplicates=total - stored.num_rows)

    def _without_stored_ids(self, current: DeltaTable, stored: pa.Table) -> pa.Table:
        months = [m.isoformat() for m in pc.unique(stored.column(PARTITION_COLUMN)).to_pylist()]
        ids = stored.column("message_id").combine_chunks()
        files = self._parquet_files(self.uri, months)
        if files is not None:  # DuckDB reads the month's ids about twice as fast as pyarrow
            with duckdb.connect() as con:
                con.register("batch", pa.table({"message_id": ids}))
                seen = con.sql(
                    f"SELECT message_id FROM read_parquet([{', '.join(map(_sql_text, files))}]) "
                    "WHERE message_id IN (SELECT message_id FROM batch)"
                ).to_arrow_table()
        else:
            where = [(PARTITION_COLUMN, "in", months)]
            touched = current.to_pyarrow_dataset(file_pruning_predicate=where)
            filter_ = pc.field("message_id").isin(ids)
            seen = touched.to_table(columns=["message_id"], filter=filter_)
        if seen.num_rows == 0:
            return stored
        return stored.filter(pc.invert(pc.is_in(ids, value_set=seen.column("message_id"))))

    def _register_accounts(self, stored: pa.Table) -> None:
        ids = pc.unique(stored.column("account_id"))
        pairs = pa.table([account_keys(ids), ids], schema=ACCOUNT_SCHEMA)
        known = self.accounts()
        both = pa.concat_tables([known, pairs])
        per_key = both.group_by("account_key").aggregate([("account_id", "count_distinct")])
        clash = per_key.filter(pc.greater(per_key.column("account_id_count_distinct"), 1))
        if clash.num_rows:
            key = clash.column("account_key")[0].as_py()
            same = both.filter(pc.equal(both.column("account_key"), key)).column("account_id")
            raise AccountKeyCollision(
                f"account ids {sorted(set(same.to_pylist()))} share the storage key {key}"
            )
        new = pairs.filter(pc.invert(pc.is_in(pairs.column("account_key"),
                                              value_set=known.column("account_key"))))  # fmt: skip
        if new.num_rows:
            write_deltalake(
                self.accounts_uri,
                new.cast(ACCOUNT_SCHEMA),
                mode="append",
                storage_options=self.storage_options,
            )

    def compact(self, *, memory_limit: str = "1GB") -> int:
        """Rewrite as sorted files every month held in more files than its size needs.

        Each month is replaced in its own commit (readers see the old or the new files, never
        both); DuckDB sorts it within `memory_limit`, spilling to a temporary folder. Returns
        how many months were rewritten.
        """
        table = self._table()
        if table is None:
            return 0
        actions = pa.table(table.get_add_actions(flatten=True))
        months = actions.group_by(f"partition.{PARTITION_COLUMN}").aggregate(
            [("path", "count"), ("size_bytes", "sum")]
        )
        needed = np.ceil(months.column("size_bytes_sum").to_numpy() / TARGET_FILE_BYTES)
        crowded = months.filter(months.column("path_count").to_numpy() > np.maximum(needed, 1))
        rewritten = 0
        for month in sorted(crowded.column(f"partition.{PARTITION_COLUMN}").to_pylist()):
            self._rewrite_month(month.isoformat(), memory_limit)
            rewritten += 1
        if DeltaTable.is_deltatable(self.accounts_uri, self.storage_options):
            DeltaTable(self.accounts_uri, storage_options=self.storage_options).optimize.compact()
        return rewritten

    def _rewrite_month(self, month: str, memory_limit: str) -> None:
        table = DeltaTable(self.uri, storage_options=self.storage_options)
        part = table.to_pyarrow_dataset(file_pruning_predicate=[(PARTITION_COLUMN, "=", month)])
        order = ", ".join(f'"{column}"' for column, _ in SORT_KEYS)
        with tempfile.TemporaryDirectory(prefix="tenure-compact-") as spill:
            con = duckdb.connect(config={"memory_limit": memory_limit, "temp_directory": spill})
            try:
                con.register("part", part)
                batches = con.sql(f"SELECT * FROM part ORDER BY {order}").to_arrow_reader(
                    ROW_GROUP_ROWS
                )
                reader = pa.RecordBatchReader.from_batches(
                    STORED_SCHEMA, (batch.cast(STORED_SCHEMA) for batch in batches)
                )
                write_deltalake(
                    table,
                    reader,
                    mode="overwrite",
                    predicate=f"{PARTITION_COLUMN} = '{month}'",
                    partition_by=[PARTITION_COLUMN],
                    writer_properties=_writer_properties(),
                    target_file_size=TARGET_FILE_BYTES,
                )
            finally:
                con.close()

    def vacuum(self, *, retention_hours: int | None = None, dry_run: bool = False) -> list[str]:
        """Delete files no version within `retention_hours` (table default: 7 days) uses."""
        removed: list[str] = []
        for uri in (self.uri, self.accounts_uri):
            if not DeltaTable.is_deltatable(uri, self.storage_options):
                continue
            table = DeltaTable(uri, storage_options=self.storage_options)
            options: dict[str, Any] = {"dry_run": dry_run}
            if retention_hours is not None:
                options.update(retention_hours=retention_hours, enforce_retention_duration=False)
            removed += table.vacuum(**options)
        return removed


__all__ = ["AccountKeyCollision", "AppendResult", "EventStore"]
