"""The Arrow schema of the event table; every writer and reader agrees on it.

Writers hand over rows in `EVENT_SCHEMA`. The store adds derived columns that exist only to
make reads fast (`STORED_SCHEMA`): an integer account key, the UTC day number and the month
partition. They are a function of the row, so they are part of the storage format and must
never change meaning.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tenure.errors import TenureError

EVENT_SCHEMA = pa.schema(
    [
        pa.field("message_id", pa.string(), nullable=False),
        pa.field("account_id", pa.string(), nullable=False),  # account external id
        pa.field("contact_id", pa.string(), nullable=True),  # contact external id
        pa.field("event", pa.string(), nullable=False),
        pa.field("timestamp", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("properties", pa.string(), nullable=True),  # JSON object text
    ]
)

DERIVED_FIELDS = (
    # First 8 bytes of blake2b(account_id), signed little-endian: see `account_keys`.
    pa.field("account_key", pa.int64(), nullable=False),
    # Days since 1970-01-01 of the UTC timestamp; the unit of every feature window.
    pa.field("event_day", pa.int32(), nullable=False),
    # First day of the UTC month: the Delta partition column.
    pa.field("event_month", pa.date32(), nullable=False),
)
STORED_SCHEMA = pa.schema([*EVENT_SCHEMA, *DERIVED_FIELDS])
PARTITION_COLUMN = "event_month"
SORT_KEYS = (("account_key", "ascending"), ("event_day", "ascending"), ("timestamp", "ascending"))

# The key → external id dictionary the store keeps beside the events.
ACCOUNT_SCHEMA = pa.schema(
    [
        pa.field("account_key", pa.int64(), nullable=False),
        pa.field("account_id", pa.string(), nullable=False),
    ]
)

_NOT_EMPTY = ("message_id", "account_id", "event")


class EventSchemaError(TenureError):
    """A batch of events does not fit `EVENT_SCHEMA`; `problems` lists (column, reason)."""

    status_code = 422

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{col}: {msg}" for col, msg in problems))


def _first_row(mask: pa.ChunkedArray | pa.Array) -> int:
    return int(np.flatnonzero(np.asarray(mask.to_numpy(zero_copy_only=False)))[0])


def _conform_column(
    name: str, column: pa.ChunkedArray, field: pa.Field, problems: list[tuple[str, str]]
) -> pa.ChunkedArray | None:
    kind = column.type
    if pa.types.is_dictionary(kind):
        column, kind = column.cast(kind.value_type), kind.value_type
    if field.type == pa.string():
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)
                or pa.types.is_string_view(kind) or pa.types.is_null(kind)):  # fmt: skip
            problems.append((name, f"expected text (string), got {kind}"))
            return None
    elif not pa.types.is_timestamp(kind):
        problems.append((name, f"expected a UTC timestamp, got {kind}"))
        return None
    elif kind.tz is None:
        problems.append((name, "timestamp has no time zone; give UTC (or any explicit zone)"))
        return None
    column = column.cast(field.type)
    if not field.nullable and column.null_count:
        first = _first_row(pc.is_null(column))
        problems.append((name, f"{column.null_count} missing value(s), first at row {first}"))
    elif name in _NOT_EMPTY:
        empty = pc.fill_null(pc.equal(pc.utf8_length(column), 0), False)
        if pc.any(empty).as_py():
            problems.append((name, f"empty text at row {_first_row(empty)}"))
    return column


def conform_events(table: pa.Table) -> pa.Table:
    """`table` cast to `EVENT_SCHEMA`, or `EventSchemaError` naming every bad column.

    Row numbers in messages are 0-based positions in `table`. Derived columns, if present,
    are ignored (the store computes them); any other unknown column is an error.
    """
    problems: list[tuple[str, str]] = []
    derived = {f.name for f in DERIVED_FIELDS}
    for name in table.column_names:
        if name not in EVENT_SCHEMA.names and name not in derived:
            problems.append((name, "unknown column"))
    if len(set(table.column_names)) != len(table.column_names):
        problems.append(("(columns)", "a column name appears more than once"))
    columns: list[pa.ChunkedArray] = []
    for field in EVENT_SCHEMA:
        if field.name not in table.column_names:
            if not field.nullable:
                problems.append((field.name, "missing column"))
                continue
            columns.append(pa.chunked_array([pa.nulls(table.num_rows, field.type)]))
            continue
        conformed = _conform_column(field.name, table.column(field.name), field, problems)
        if conformed is not None:
            columns.append(conformed)
    if problems:
        raise EventSchemaError(problems)
    return pa.Table.from_arrays(columns, schema=EVENT_SCHEMA)


def account_key(account_id: str) -> int:
    """The stored integer key of one account external id (stable across versions)."""
    digest = hashlib.blake2b(account_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def account_keys(account_ids: pa.ChunkedArray | pa.Array) -> pa.Array:
    """`account_key` of every value, hashing each distinct id once."""
    distinct = pc.unique(account_ids)
    keys = np.fromiter(
        (account_key(v) for v in distinct.to_pylist()), dtype=np.int64, count=len(distinct)
    )
    positions = pc.index_in(account_ids, value_set=distinct)
    if isinstance(positions, pa.ChunkedArray):
        positions = positions.combine_chunks()
    return pa.array(keys[positions.to_numpy(zero_copy_only=False)], pa.int64())


def with_derived_columns(events: pa.Table) -> pa.Table:
    """Conformed events (`EVENT_SCHEMA`) plus the derived columns, as `STORED_SCHEMA`."""
    day = pc.cast(events.column("timestamp"), pa.date32())
    derived = [
        account_keys(events.column("account_id")),
        pc.cast(day, pa.int32()),
        pc.floor_temporal(day, unit="month"),
    ]
    return pa.Table.from_arrays([*events.columns, *derived], schema=STORED_SCHEMA)
