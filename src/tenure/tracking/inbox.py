"""The inbox's SQL: write-key check, capacity, insert-or-skip by messageId, read and delete.

Inserts skip SQLAlchemy's per-value processing (like `tenure.kit.bulk`) and never build ORM
objects: on SQLite one executemany per request, on PostgreSQL one INSERT ... SELECT over
arrays. The API's hot path stores tens of thousands of calls a second.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from typing import Any

import pydantic_core
from sqlalchemy import bindparam, delete, func, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.sql.compiler import SQLCompiler

from tenure.auth.models import ApiToken
from tenure.db import table_of
from tenure.tracking.models import InboxMessage

WRITE_SCOPE = "events:write"
INBOX = table_of(InboxMessage)
TOKENS = table_of(ApiToken)
_COLUMNS = ("message_id", "kind", "received_at", "payload")


def utcnow() -> dt.datetime:
    """Now in UTC without a zone: how every DateTime column of Tenure stores time."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def is_write_key(conn: Connection, plain: str, now: dt.datetime | None = None) -> bool:
    """True when `plain` is a live API token (not revoked or expired) with `events:write`."""
    digest = hashlib.sha256(plain.encode()).hexdigest()
    row = conn.execute(
        select(TOKENS.c.scopes, TOKENS.c.expires_at, TOKENS.c.revoked_at).where(
            TOKENS.c.token_hash == digest
        )
    ).first()
    if row is None or row.revoked_at is not None:
        return False
    if row.expires_at is not None and row.expires_at <= (now or utcnow()):
        return False
    return isinstance(row.scopes, list) and WRITE_SCOPE in row.scopes


def inbox_held(conn: Connection, capacity: int) -> int:
    """Rows in the inbox: exact when `capacity` or more, else possibly an upper bound.

    The id span (two index look-ups) bounds the count from above, so the exact COUNT(*),
    a scan, only runs when the inbox may be near its capacity.
    """
    # Two scalar subqueries: SQLite answers a lone min() or max() from the index, but
    # scans the table for "SELECT min(id), max(id)".
    low, high = conn.execute(
        select(
            select(func.min(INBOX.c.id)).scalar_subquery(),
            select(func.max(INBOX.c.id)).scalar_subquery(),
        )
    ).one()
    if low is None:
        return 0
    span = int(high) - int(low) + 1
    if span < capacity:
        return span
    return int(conn.execute(select(func.count()).select_from(INBOX)).scalar_one())


def inbox_is_full(conn: Connection, capacity: int) -> bool:
    """True when the inbox holds `capacity` rows or more."""
    return inbox_held(conn, capacity) >= capacity


# The request's rows travel as one JSON text, [[message_id, kind, payload], ...]: psycopg
# adapts a Python list to an array at about 10 us a value, a string at once. The payloads
# are JSON already, and `(e->2)::text` gives back a json value's text exactly as sent.
# ORDER BY the position keeps the request's order in the ids the sequence hands out.
_PG_INSERT = text(
    "INSERT INTO tracking_inbox (message_id, kind, received_at, payload) "
    "SELECT e->>0, e->>1, :at, (e->2)::text "
    "FROM json_array_elements(CAST(:rows AS json)) WITH ORDINALITY AS t(e, n) ORDER BY n "
    "ON CONFLICT (message_id) DO NOTHING"
)


def _pg_rows(calls: Sequence[tuple[str, str, str]]) -> str:
    kinds: dict[str, str] = {}
    parts = []
    for message_id, kind, payload in calls:
        quoted = kinds.get(kind) or kinds.setdefault(kind, pydantic_core.to_json(kind).decode())
        parts.append(f"[{pydantic_core.to_json(message_id).decode()},{quoted},{payload}]")
    return "[" + ",".join(parts) + "]"


@lru_cache(maxsize=16)
def _insert_sql(dialect: Dialect) -> tuple[str, tuple[str, ...]]:
    """INSERT ... ON CONFLICT (message_id) DO NOTHING for SQLite, and its parameter order."""
    if dialect.name != "sqlite":
        raise NotImplementedError(f"the tracking inbox does not support {dialect.name}")
    statement = sqlite.insert(INBOX).on_conflict_do_nothing(index_elements=["message_id"])
    compiled = statement.compile(dialect=dialect, column_keys=list(_COLUMNS))
    assert isinstance(compiled, SQLCompiler) and compiled.positional
    return str(compiled), tuple(compiled.positiontup or ())


def insert_calls(
    conn: Connection, calls: Sequence[tuple[str, str, str]], received_at: dt.datetime
) -> int:
    """Insert (message_id, kind, payload) rows, skipping stored message ids; returns how many.

    The caller commits. Message ids must be distinct within `calls`.
    """
    if not calls:
        return 0
    if conn.dialect.name == "postgresql":
        # One statement for the request: an executemany is one INSERT per row there.
        values = {"rows": _pg_rows(calls), "at": received_at}
        return max(int(conn.execute(_PG_INSERT, values).rowcount), 0)
    sql, order = _insert_sql(conn.dialect)
    stamp = received_at.isoformat(" ", "microseconds")  # the text SQLAlchemy stores
    rows: list[tuple[Any, ...]] = [(m, k, stamp, p) for m, k, p in calls]
    if order != _COLUMNS:
        pick = itemgetter(*(_COLUMNS.index(name) for name in order))
        rows = [pick(row) for row in rows]
    result = conn.exec_driver_sql(sql, rows)
    return max(int(result.rowcount), 0)


@dataclass(eq=False)
class _Pending:
    calls: Sequence[tuple[str, str, str]]
    received_at: dt.datetime
    done: bool = False
    error: BaseException | None = None


class InboxWriter:
    """Inserts calls and commits them durably; on SQLite, concurrent requests share a commit.

    SQLite commits one writer at a time, and a commit that survives power loss waits for
    the disk (an fsync: 1-4 ms on the benchmark machine). So each request queues its calls,
    and whichever thread holds the writer lock inserts everything queued so far in one
    transaction with one commit (group commit): N requests arriving together cost one
    fsync. On return the caller's calls are committed; an error reaches every request of
    the failed group. PostgreSQL groups concurrent commits itself: one transaction each.
    """

    def __init__(self) -> None:
        self._writer = threading.Lock()
        self._queued = threading.Lock()
        self._queue: list[_Pending] = []

    def write(
        self, engine: Engine, calls: Sequence[tuple[str, str, str]], received_at: dt.datetime
    ) -> None:
        """Insert (message_id, kind, payload) rows, skipping stored ids, and commit them."""
        if engine.dialect.name != "sqlite":
            with engine.connect() as conn:
                insert_calls(conn, calls, received_at)
                conn.commit()
            return
        mine = _Pending(calls, received_at)
        with self._queued:
            self._queue.append(mine)
        with self._writer:
            if not mine.done:  # else an earlier writer committed it with its own
                with self._queued:
                    group, self._queue = self._queue, []
                self._commit_group(engine, group)
        if mine.error is not None:
            raise mine.error

    @staticmethod
    def _commit_group(engine: Engine, group: list[_Pending]) -> None:
        try:
            with engine.connect() as conn:
                # The engine's NORMAL may lose the last commits on power loss; an
                # acknowledged call must not be lost, so these commits are FULL.
                conn.exec_driver_sql("PRAGMA synchronous=FULL")
                try:
                    for pending in group:
                        insert_calls(conn, pending.calls, pending.received_at)
                    conn.commit()
                finally:
                    conn.rollback()
                    conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
        except BaseException as exc:  # every request of the group learns it failed
            for pending in group:
                pending.error = exc
        finally:
            for pending in group:
                pending.done = True


def oldest_rows(conn: Connection, limit: int) -> list[tuple[int, str, str]]:
    """Up to `limit` inbox rows, oldest first, as (id, kind, payload)."""
    query = select(INBOX.c.id, INBOX.c.kind, INBOX.c.payload).order_by(INBOX.c.id).limit(limit)
    return [(int(r[0]), r[1], r[2]) for r in conn.execute(query)]


def id_runs(ids: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted `ids` as runs of consecutive integers, (first, last) each."""
    runs: list[tuple[int, int]] = []
    for i in sorted(ids):
        if runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def delete_rows(conn: Connection, ids: Sequence[int]) -> int:
    """Delete exactly the rows with `ids`; returns how many were deleted.

    Deleting a range is only safe over ids that were all read: on PostgreSQL a row with a
    lower id may commit after higher ones, so "id <= last read" could drop an unread row.
    Runs of consecutive read ids are such ranges, and keep the statement count small.
    """
    runs = [{"first": first, "last": last} for first, last in id_runs(ids)]
    if not runs:
        return 0
    statement = delete(INBOX).where(INBOX.c.id.between(bindparam("first"), bindparam("last")))
    result = conn.execute(statement, runs)
    return max(int(result.rowcount), 0)


def inbox_count(conn: Connection) -> int:
    """Rows waiting in the inbox."""
    return int(conn.execute(select(func.count()).select_from(INBOX)).scalar_one())
