"""Column-wise bulk writes that skip SQLAlchemy's per-value processing (the scoring hot path).

At 100k rows SQLAlchemy's per-value bind processing (JSON serialisation through the type
system, date formatting) costs seconds; here each column is converted in one pass, with the
same text formats SQLAlchemy would store, and handed to the driver's executemany. Columns
named in `json_text` hold JSON text already (built column-wise by `json_lines`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import JSON, Date, DateTime, Table, bindparam, insert, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine

CHUNK = 10_000
Columns = Mapping[str, Sequence[Any]]


def _converter(
    column_type: TypeEngine[Any], dialect: str, is_json_text: bool
) -> Callable[[Any], Any] | None:
    if isinstance(column_type, JSON):
        if is_json_text:
            return None
        return lambda v: None if v is None else json.dumps(v, ensure_ascii=False)
    if dialect == "sqlite" and isinstance(column_type, DateTime):
        return lambda v: None if v is None else v.isoformat(" ", "microseconds")
    if dialect == "sqlite" and isinstance(column_type, Date):
        return lambda v: None if v is None else v.isoformat()
    return None


def _execute(
    connection: Connection,
    compiled: SQLCompiler,
    columns: Columns,
    types: Mapping[str, TypeEngine[Any]],
    json_text: Collection[str],
) -> None:
    dialect = connection.dialect.name
    converted: dict[str, Sequence[Any]] = {}
    for name, values in columns.items():
        convert = _converter(types[name], dialect, name in json_text)
        converted[name] = values if convert is None else [convert(v) for v in values]
    sql = str(compiled)
    if compiled.positional:
        order = list(compiled.positiontup or [])
        batch: list[Any] = list(zip(*(converted[k] for k in order), strict=True))
    else:
        names = list(converted)
        rows = zip(*converted.values(), strict=True)
        batch = [dict(zip(names, row, strict=True)) for row in rows]
    for lo in range(0, len(batch), CHUNK):
        connection.exec_driver_sql(sql, batch[lo : lo + CHUNK])


def _length(columns: Columns) -> int:
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"columns of different lengths: {sorted(lengths)}")
    return lengths.pop() if lengths else 0


def insert_columns(
    connection: Connection, table: Table, columns: Columns, *, json_text: Collection[str] = ()
) -> int:
    """Insert one row per position of the equally long `columns`; returns the row count."""
    n = _length(columns)
    if n == 0:
        return 0
    compiled = insert(table).compile(dialect=connection.dialect, column_keys=list(columns))
    assert isinstance(compiled, SQLCompiler)
    _execute(connection, compiled, columns, {k: table.c[k].type for k in columns}, json_text)
    return n


def update_columns(
    connection: Connection,
    table: Table,
    columns: Columns,
    *,
    key: str = "id",
    json_text: Collection[str] = (),
) -> int:
    """Set the other `columns` on each row whose `key` column equals that position's key."""
    n = _length(columns)
    if n == 0:
        return 0
    params = {k: f"p_{k}" for k in columns}
    statement = (
        update(table)
        .where(table.c[key] == bindparam(params[key]))
        .values({c: bindparam(p) for c, p in params.items() if c != key})
    )
    compiled = statement.compile(dialect=connection.dialect)
    assert isinstance(compiled, SQLCompiler)
    renamed = {params[k]: v for k, v in columns.items()}
    types = {params[k]: table.c[k].type for k in columns}
    _execute(connection, compiled, renamed, types, {params[k] for k in json_text})
    return n


def json_lines(frame: pd.DataFrame, decimals: int = 4) -> list[str]:
    """Each row of `frame` as a JSON object (NaN as null), serialised by pandas in C."""
    if frame.empty:
        return ["{}"] * len(frame)
    text = frame.to_json(orient="records", lines=True, double_precision=decimals, force_ascii=False)
    return text.splitlines()
