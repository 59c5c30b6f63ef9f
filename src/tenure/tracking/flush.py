"""Move inbox rows to their stores: events to Delta, traits to contacts and accounts.

Each batch, oldest rows first: (1) plan it from the calls and the current links; (2) append
its events to the event store (which skips message ids it holds); (3) write the calls it
cannot use to a rejects file; (4) in one database transaction, apply contact and account
changes and delete the rows it moved. A crash before (4) commits leaves the rows in the
inbox and the next flush repeats the batch: the store skips the events it already has and
the changes are set again to the same values, so no event is lost or stored twice.

Only one flush runs at a time (an advisory lock on PostgreSQL, a file lock beside the
SQLite database), because two writers could both append the same new message id.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pydantic_core
from sqlalchemy import String, func, select, text, type_coerce
from sqlalchemy.orm import Session

from tenure.accounts.models import Account, Contact
from tenure.engagement.triggers import on_events
from tenure.events.schema import EVENT_SCHEMA
from tenure.events.store import EventStore
from tenure.kit.runtime import Runtime
from tenure.tracking.inbox import INBOX, delete_rows, utcnow
from tenure.tracking.plan import Plan, plan_batch

if TYPE_CHECKING:  # tenure.jobs may import this module to list its jobs
    from tenure.jobs import Job

logger = logging.getLogger("tenure.tracking")

LINK_WAIT = 600.0  # seconds a call waits in the inbox for its user's group call
_IN_CHUNK = 1000


@dataclass
class FlushResult:
    """What one flush did."""

    batches: int = 0
    moved: int = 0  # inbox rows deleted (stored, applied or set aside)
    events_added: int = 0
    events_duplicate: int = 0  # already in the event store (a resend after a flush)
    contacts_created: int = 0
    contacts_updated: int = 0
    accounts_created: int = 0
    accounts_updated: int = 0
    rejected: int = 0  # written to `rejects_path`
    waiting: int = 0  # left in the inbox for their user's group call
    rejects_path: Path | None = None
    busy: bool = False  # another flush was running: this one did nothing


@contextlib.contextmanager
def _only_flush(runtime: Runtime) -> Iterator[bool]:
    """Yield True if this process holds the flush lock, False if another one does."""
    if runtime.engine.dialect.name == "postgresql":
        key = zlib.crc32(b"tenure.tracking.flush")
        with runtime.engine.connect() as conn:
            held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
            conn.commit()
            try:
                yield held
            finally:
                if held:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()
        return
    import fcntl  # SQLite homes are local; POSIX file locks die with their process

    runtime.settings.home.mkdir(parents=True, exist_ok=True)
    with open(runtime.settings.home / ".tracking-flush.lock", "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    items = sorted(set(values))
    for lo in range(0, len(items), _IN_CHUNK):
        yield items[lo : lo + _IN_CHUNK]


def _links(session: Session, users: set[str]) -> dict[str, str]:
    """Contact external id → its account's external id, for the contacts among `users`."""
    links: dict[str, str] = {}
    for chunk in _chunks(users):
        query = (
            select(Contact.external_id, Account.external_id)
            .join(Account, Account.id == Contact.account_id)
            .where(Contact.external_id.in_(chunk))
        )
        links.update({str(c): str(a) for c, a in session.execute(query)})
    return links


def _existing_accounts(session: Session, ids: set[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(ids):
        found.update(
            session.scalars(select(Account.external_id).where(Account.external_id.in_(chunk)))
        )
    return found


def _plan(
    runtime: Runtime,
    calls: list[dict[str, Any]],
    may_wait: list[bool],
    waiting_users: set[str],
    create_accounts: bool,
) -> Plan:
    # Links matter for identify calls and for track calls that name no account; accounts
    # must exist for group calls and the accounts identify calls name.
    users: set[str] = set()
    named: set[str] = set()
    for call in calls:
        kind, user = call.get("type"), call.get("userId")
        context = call.get("context") or {}
        needs_link = kind == "identify" or (kind == "track" and not context.get("groupId"))
        if needs_link and isinstance(user, str):
            users.add(user)
        if kind == "group" and isinstance(call.get("groupId"), str):
            named.add(call["groupId"])
        if kind == "identify" and isinstance(context.get("groupId"), str):
            named.add(context["groupId"])
    with runtime.sessions() as session:
        links = _links(session, users)
        known = _existing_accounts(session, named)
    return plan_batch(calls, may_wait, links, known, waiting_users, create_accounts=create_accounts)


def _load(payloads: list[str]) -> list[dict[str, Any]]:
    """The rows' calls; an unreadable row becomes a call the plan sets aside."""
    try:  # one parse for the whole batch is several times faster than one per row
        calls = pydantic_core.from_json("[" + ",".join(payloads) + "]")
        if len(calls) == len(payloads) and all(isinstance(c, dict) for c in calls):
            return list(calls)
    except ValueError:
        pass
    loaded = []
    for payload in payloads:
        try:
            call = pydantic_core.from_json(payload)
        except ValueError:
            call = None
        loaded.append(call if isinstance(call, dict) else {"type": None, "_payload": payload})
    return loaded


def _as_time(value: dt.datetime | str) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)


def _write_rejects(
    directory: Path, rejected: list[tuple[dict[str, Any], str]], now: dt.datetime
) -> Path:
    """Append the calls with their reason to <rejects>/tracking-<day>.jsonl, synced to disk.

    Each line is a call that /v1/batch accepts as it is (`_error` and `_rejected_at` are
    ignored), once its account or group call exists.
    """
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"tracking-{now:%Y%m%d}.jsonl"
    stamp = now.isoformat(timespec="seconds") + "Z"
    lines = [
        pydantic_core.to_json({**call, "_error": reason, "_rejected_at": stamp}).decode() + "\n"
        for call, reason in rejected
    ]
    with open(path, "a", encoding="utf-8") as handle:
        handle.writelines(lines)
        handle.flush()
        os.fsync(handle.fileno())
    return path


def _changes(row: Account | Contact, fields: dict[str, Any]) -> bool:
    return any(getattr(row, key) != value for key, value in fields.items())


def _apply(session: Session, plan: Plan, result: FlushResult) -> None:
    """Create or update the planned accounts, then the contacts (linking them)."""
    wanted = set(plan.accounts) | {c.account for c in plan.contacts.values() if c.account}
    accounts: dict[str, Account] = {}
    for chunk in _chunks(wanted):
        found = session.scalars(select(Account).where(Account.external_id.in_(chunk)))
        accounts.update({a.external_id: a for a in found})
    for external_id, change in plan.accounts.items():
        account = accounts.get(external_id)
        if account is None:
            if not change.create:
                continue  # deleted since the plan was made
            name = change.fields.get("name") or external_id
            account = Account(external_id=external_id, name=name, attributes={})
            session.add(account)
            accounts[external_id] = account
            result.accounts_created += 1
        merged = {**(account.attributes or {}), **change.attributes}
        if account.id is not None and (
            _changes(account, change.fields) or merged != account.attributes
        ):
            result.accounts_updated += 1
        for key, value in change.fields.items():
            setattr(account, key, value)
        if merged != account.attributes:
            account.attributes = merged
    session.flush()  # ids of new accounts, for the contacts below
    contacts: dict[str, Contact] = {}
    for chunk in _chunks(plan.contacts):
        people = session.scalars(select(Contact).where(Contact.external_id.in_(chunk)))
        contacts.update({c.external_id: c for c in people})
    for external_id, person in plan.contacts.items():
        contact = contacts.get(external_id)
        linked = accounts.get(person.account) if person.account else None
        if contact is None:
            if linked is None:
                continue  # its account was deleted since the plan was made
            name = person.fields.get("name") or person.fields.get("email") or external_id
            contact = Contact(external_id=external_id, account_id=linked.id, name=name)
            session.add(contact)
            result.contacts_created += 1
        else:
            moves = linked is not None and contact.account_id != linked.id
            result.contacts_updated += moves or _changes(contact, person.fields)
            if linked is not None:
                contact.account_id = linked.id
        for key, value in person.fields.items():
            setattr(contact, key, value)


def _flush_batch(
    runtime: Runtime,
    store: EventStore,
    rows: list[tuple[int, str, dt.datetime | str, str]],
    waiting_users: set[str],
    *,
    link_wait: float,
    create_accounts: bool,
    result: FlushResult,
) -> None:
    """Flush one batch of rows (see the module docstring for the order of the steps)."""
    now = utcnow()
    oldest_waiting = now - dt.timedelta(seconds=link_wait)
    calls = _load([payload for _, _, _, payload in rows])
    may_wait = [_as_time(received_at) >= oldest_waiting for _, _, received_at, _ in rows]
    plan = _plan(runtime, calls, may_wait, waiting_users, create_accounts)
    if plan.events:
        added = store.append(pa.Table.from_pylist(plan.events, schema=EVENT_SCHEMA))
        result.events_added += added.added
        result.events_duplicate += added.duplicates
    if plan.rejected:
        rejected = [(calls[i], reason) for i, reason in plan.rejected]
        result.rejects_path = _write_rejects(runtime.settings.rejects_dir, rejected, now)
        result.rejected += len(rejected)
    waiting = set(plan.waiting)
    moved = [row[0] for i, row in enumerate(rows) if i not in waiting]
    with runtime.sessions() as session:
        _apply(session, plan, result)
        session.flush()
        if plan.events:
            on_events(session, plan.events, now=now)
        result.moved += delete_rows(session.connection(), moved)
        session.commit()
    result.waiting += len(waiting)
    result.batches += 1


def _read(
    runtime: Runtime, after: int, upto: int, limit: int
) -> list[tuple[int, str, dt.datetime | str, str]]:
    """Up to `limit` rows with after < id <= upto, oldest first (received_at may be text)."""
    # received_at as the driver gives it: SQLAlchemy's datetime parsing of every row on
    # SQLite costs more than the comparison it serves (`_as_time`).
    received_at = type_coerce(INBOX.c.received_at, String)
    query = (
        select(INBOX.c.id, INBOX.c.kind, received_at, INBOX.c.payload)
        .where(INBOX.c.id > after, INBOX.c.id <= upto)
        .order_by(INBOX.c.id)
        .limit(limit)
    )
    with runtime.engine.connect() as conn:
        return [(int(r[0]), r[1], r[2], r[3]) for r in conn.execute(query)]


def flush_inbox(
    runtime: Runtime,
    *,
    batch: int = 50_000,
    create_accounts: bool = False,
    link_wait: float = LINK_WAIT,
    store: EventStore | None = None,
) -> FlushResult:
    """Move the inbox's rows, oldest first and `batch` at a time, to their stores.

    Rows that arrive during the flush wait for the next one, so a flush always ends.
    `create_accounts` lets group calls create unknown accounts (default: set them aside).
    """
    result = FlushResult()
    store = store or EventStore(runtime.settings.events_path)
    with _only_flush(runtime) as mine:
        if not mine:
            result.busy = True
            return result
        with runtime.engine.connect() as conn:
            upto = conn.execute(select(func.max(INBOX.c.id))).scalar()
        if upto is None:
            return result
        after = 0
        waiting_users: set[str] = set()
        while True:
            rows = _read(runtime, after, int(upto), batch)
            if not rows:
                break
            after = rows[-1][0]
            _flush_batch(
                runtime, store, rows, waiting_users,
                link_wait=link_wait, create_accounts=create_accounts, result=result,
            )  # fmt: skip
            if len(rows) < batch:
                break
    if result.batches:
        logger.info(
            "tracking flush",
            extra={"fields": {k: v for k, v in vars(result).items() if isinstance(v, int)}},
        )
    return result


def flush_job(every: float, *, batch: int = 50_000, create_accounts: bool = False) -> Job:
    """The scheduled inbox flush, every `every` seconds (add it to `tenure.jobs`)."""
    from tenure.jobs import Job

    def run(runtime: Runtime) -> FlushResult:
        return flush_inbox(runtime, batch=batch, create_accounts=create_accounts)

    return Job("tracking-flush", every, run)


__all__ = ["FlushResult", "flush_inbox", "flush_job"]
