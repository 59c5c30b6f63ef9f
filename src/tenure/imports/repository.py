"""All SQL of imports: bulk look-ups by external id and set-based inserts/updates (Core)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tenure.accounts.models import Account, Contact, User

LOOKUP_CHUNK = 1000  # ids per IN (...) list: far below SQLite's and PostgreSQL's limits
WRITE_CHUNK = 5000  # rows per executemany
SCAN_THRESHOLD = 5000  # above this many keys, consider one scan instead of IN lists
T = TypeVar("T")

_users: sa.Table = User.__table__  # type: ignore[assignment]
_accounts: sa.Table = Account.__table__  # type: ignore[assignment]
_contacts: sa.Table = Contact.__table__  # type: ignore[assignment]


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of `items` of at most `size` elements."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def select_by_keys(
    conn: Connection, query: sa.Select[Any], key: sa.ColumnElement[str], keys: Iterable[str]
) -> list[Any]:
    """Rows of `query` whose `key` is in `keys`: chunked IN lists, or one scan for many keys.

    One scan beats thousands of IN lists when the keys are a large share of the table, and it
    does not depend on the planner's statistics, which are stale right after a bulk load.
    """
    wanted = set(keys)
    if not wanted:
        return []
    if len(wanted) > SCAN_THRESHOLD:
        table_rows = conn.execute(sa.select(sa.func.count()).select_from(query.subquery()))
        if len(wanted) * 4 >= (table_rows.scalar_one() or 0):
            return [row for row in conn.execute(query) if row._mapping[key] in wanted]
    found: list[Any] = []
    for part in chunks(sorted(wanted), LOOKUP_CHUNK):
        found.extend(conn.execute(query.where(key.in_(part))))
    return found


def account_ids(conn: Connection, keys: Iterable[str]) -> dict[str, int]:
    """Database id of each account external id that exists."""
    query = sa.select(_accounts.c.external_id, _accounts.c.id)
    return {row[0]: row[1] for row in select_by_keys(conn, query, _accounts.c.external_id, keys)}


def contact_refs(conn: Connection, keys: Iterable[str]) -> dict[str, tuple[int, str]]:
    """Database id and account external id of each contact external id that exists."""
    query = sa.select(
        _contacts.c.external_id, _contacts.c.id, _accounts.c.external_id.label("account")
    ).select_from(_contacts.join(_accounts, _contacts.c.account_id == _accounts.c.id))
    rows = select_by_keys(conn, query, _contacts.c.external_id, keys)
    return {row[0]: (row[1], row[2]) for row in rows}


@dataclass
class UserIndex:
    """Users by external id and by (case-folded) email."""

    by_key: dict[str, int] = field(default_factory=dict)
    by_email: dict[str, tuple[int, str]] = field(default_factory=dict)

    def resolve(self, ref: str) -> int | None:
        """Id of the user named by external id, else by email."""
        if ref in self.by_key:
            return self.by_key[ref]
        hit = self.by_email.get(ref.casefold())
        return hit[0] if hit else None


def user_index(conn: Connection) -> UserIndex:
    """Every user (the CS team is small): id by external id and by email."""
    index = UserIndex()
    query = sa.select(_users.c.id, _users.c.external_id, _users.c.email)
    for id_, key, email in conn.execute(query):
        index.by_key[key] = id_
        index.by_email[email.casefold()] = (id_, key)
    return index


def existing_rows(
    conn: Connection, table: sa.Table, keys: Sequence[str], columns: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """Stored `columns` (plus id) of the rows whose external id is in `keys`."""
    query = sa.select(table.c.id, table.c.external_id, *(table.c[name] for name in columns))
    rows = select_by_keys(conn, query, table.c.external_id, keys)
    return {row.external_id: dict(row._mapping) for row in rows}


@dataclass
class WritePlan:
    """Rows to insert, changed columns to update, and how many rows are unchanged."""

    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    unchanged: int = 0


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, float) or isinstance(new, float):
        return old is not None and new is not None and abs(float(old) - float(new)) < 1e-9
    return bool(old == new)


def plan_writes(
    existing: dict[str, dict[str, Any]],
    records: Iterable[dict[str, Any]],
    insert_defaults: dict[str, Any],
    merge_field: str | None = None,
) -> WritePlan:
    """Classify each record (keyed by db column) as insert, update of what changed, or unchanged."""
    plan = WritePlan()
    mutable = [name for name, value in insert_defaults.items() if isinstance(value, dict | list)]
    for record in records:
        old = existing.get(record["external_id"])
        if old is None:
            row = dict(insert_defaults)
            row.update({name: _fresh(row[name]) for name in mutable})
            row.update(record)
            plan.inserts.append(row)
            continue
        changes = {}
        for name, value in record.items():
            if name == merge_field and isinstance(value, dict):
                value = {**(old[name] or {}), **value}
            if not _same(old[name], value):
                changes[name] = value
        if changes:
            plan.updates.append((old["id"], changes))
        else:
            plan.unchanged += 1
    return plan


def _fresh(value: Any) -> Any:
    return type(value)(value) if isinstance(value, dict | list) else value


def apply_writes(
    conn: Connection,
    table: sa.Table,
    plan: WritePlan,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Execute `plan` with batched executemany statements (the caller owns the transaction)."""
    total = len(plan.inserts) + len(plan.updates)
    done = 0
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for id_, changes in plan.updates:
        params = {f"v_{name}": value for name, value in changes.items()}
        params["k_id"] = id_
        groups[tuple(sorted(changes))].append(params)
    for names, params_list in groups.items():
        statement = (
            table.update()
            .where(table.c.id == sa.bindparam("k_id"))
            .values({name: sa.bindparam(f"v_{name}") for name in names})
        )
        for part in chunks(params_list, WRITE_CHUNK):
            conn.execute(statement, list(part))
            done += len(part)
            if progress is not None:
                progress(done, total)
    for part in chunks(plan.inserts, WRITE_CHUNK):
        conn.execute(table.insert(), list(part))
        done += len(part)
        if progress is not None:
            progress(done, total)
    if conn.dialect.name == "postgresql" and len(plan.inserts) > SCAN_THRESHOLD:
        # Fresh statistics, so the next look-ups by external id use the index.
        conn.execute(sa.text(f"ANALYZE {conn.dialect.identifier_preparer.format_table(table)}"))
