"""Build the demo data set into a Tenure home: rows in one transaction, then the events."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
from faker import Faker
from sqlalchemy import MetaData, delete, func, insert, select
from sqlalchemy.engine import Connection

from tenure.accounts.models import Account, Contact, User
from tenure.commerce.models import Order, Subscription
from tenure.demo.commerce import contract_ends, make_commerce
from tenure.demo.feedback import Context, make_nps, make_tickets
from tenure.demo.interactions import make_interactions
from tenure.demo.people import Contacts, make_accounts, make_contacts, make_users
from tenure.demo.profiles import Plan, make_plan
from tenure.demo.texts import LocaleText, locale_text
from tenure.demo.truth import ground_truth, ground_truth_path, write_ground_truth
from tenure.demo.usage import make_events
from tenure.feedback.models import Interaction, NpsResponse, Ticket
from tenure.kit.runtime import Runtime

Progress = Callable[[str], None]
MIN_ACCOUNTS, MAX_ACCOUNTS = 10, 200_000
MIN_MONTHS, MAX_MONTHS = 3, 60
EVENT_CHUNK = 1_000_000
_STREAMS = ("plan", "people", "commerce", "feedback", "interactions", "usage")


@dataclass
class DemoSummary:
    """What `build_demo` wrote."""

    as_of: dt.date
    window_start: dt.date
    seed: int
    locale: str
    rows: dict[str, int]
    events: int
    event_types: dict[str, int]
    cohorts: dict[str, int]
    segments: dict[str, int]
    seconds: float
    ground_truth: str
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def account_count(runtime: Runtime) -> int:
    """How many accounts the home's database holds."""
    with runtime.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Account)).scalar_one())


def wipe(runtime: Runtime) -> None:
    """Delete every row of every table (not the migration state), the events and ground truth."""
    with runtime.engine.begin() as conn:
        meta = MetaData()
        meta.reflect(conn)
        for table in reversed(meta.sorted_tables):
            if table.name != "alembic_version":
                conn.execute(delete(table))
    events = runtime.settings.events_path
    if events.exists():
        shutil.rmtree(events)
    ground_truth_path(runtime.settings.home).unlink(missing_ok=True)


def _insert(conn: Connection, model: Any, rows: list[dict[str, Any]], chunk: int = 20_000) -> None:
    """Bulk insert (executemany) of `rows` into the table of `model`."""
    for start in range(0, len(rows), chunk):
        conn.execute(insert(model), rows[start : start + chunk])


def _ids(conn: Connection, model: Any, external_ids: list[str]) -> list[int]:
    """Database ids of `external_ids`, in that order."""
    rows = conn.execute(select(model.external_id, model.id)).all()
    found = {str(ext): int(pk) for ext, pk in rows}
    return [found[e] for e in external_ids]


def _check(accounts: int, months: int, locale: str) -> None:
    if not MIN_ACCOUNTS <= accounts <= MAX_ACCOUNTS:
        raise ValueError(f"accounts must be between {MIN_ACCOUNTS} and {MAX_ACCOUNTS}")
    if not MIN_MONTHS <= months <= MAX_MONTHS:
        raise ValueError(f"months must be between {MIN_MONTHS} and {MAX_MONTHS}")
    locale_text(locale)


def write_events(runtime: Runtime, table: pa.Table, chunk: int = EVENT_CHUNK) -> int:
    """Append the events to the home's event store; the number of rows added.

    In slices of `chunk` rows (the table is in time order, so each slice covers a few
    months): the same speed as one append at about half the peak memory.
    """
    from tenure.events.store import EventStore

    store = EventStore(runtime.settings.events_path)
    return sum(
        store.append(table.slice(start, chunk)).added for start in range(0, table.num_rows, chunk)
    )


@dataclass
class _Written:
    """Database ids the later generators need."""

    account_ids: list[int]
    owner_ids: list[int]
    contacts: Contacts
    contact_ids: list[int]


def _write_people(
    conn: Connection, plan: Plan, text: LocaleText, fake: Faker, rng: np.random.Generator,
    rows: dict[str, int],
) -> _Written:  # fmt: skip
    users = make_users(plan.n, text, fake)
    _insert(conn, User, users)
    user_ids = _ids(conn, User, [u["external_id"] for u in users])
    csm_ids = [uid for uid, u in zip(user_ids, users, strict=True) if u["role"] == "csm"]
    accounts = make_accounts(plan, text, fake, rng, csm_ids)
    _insert(conn, Account, accounts)
    account_ids = _ids(conn, Account, plan.external_id)
    contacts = make_contacts(plan, text, fake, rng, account_ids)
    _insert(conn, Contact, contacts.rows)
    contact_ids = _ids(conn, Contact, contacts.external_id)
    rows.update(users=len(users), accounts=len(accounts), contacts=len(contacts.rows))
    owners = [int(r["owner_id"]) for r in accounts]
    contacts.rows = []
    return _Written(account_ids, owners, contacts, contact_ids)


def _write_activity(
    conn: Connection, plan: Plan, text: LocaleText, rng: dict[str, np.random.Generator],
    ids: _Written, rows: dict[str, int],
) -> None:  # fmt: skip
    subs, orders = make_commerce(plan, text, rng["commerce"], ids.account_ids)
    _insert(conn, Subscription, subs)
    _insert(conn, Order, orders)
    ctx = Context(plan, text, rng["feedback"], ids.contacts, ids.account_ids, ids.contact_ids)
    tickets, nps = make_tickets(ctx), make_nps(ctx)
    ctx.rng = rng["interactions"]
    timeline = make_interactions(ctx, ids.owner_ids, contract_ends(subs))
    _insert(conn, Ticket, tickets)
    _insert(conn, NpsResponse, nps)
    _insert(conn, Interaction, timeline)
    rows.update(subscriptions=len(subs), orders=len(orders), tickets=len(tickets),
                nps_responses=len(nps), interactions=len(timeline))  # fmt: skip


def _write_usage(
    runtime: Runtime, plan: Plan, contacts: Contacts, rng: np.random.Generator
) -> tuple[int, dict[str, int]]:
    features = runtime.config.features
    table = make_events(
        plan, contacts, rng, login=features.login_events[0], core=features.core_features,
        cancel=features.cancel_events[0],
    )  # fmt: skip
    counts = table.column("event").value_counts().to_pylist()
    kinds = dict(sorted(((c["values"], c["counts"]) for c in counts), key=lambda kv: -kv[1]))
    return write_events(runtime, table), kinds


def build_demo(
    runtime: Runtime,
    *,
    accounts: int,
    months: int,
    seed: int,
    locale: str,
    as_of: dt.date | None = None,
    progress: Progress | None = None,
    events: bool = True,
) -> DemoSummary:
    """Generate the demo customer base into an (empty) home; deterministic for a seed.

    Rows go in one transaction; the events are appended to the event store inside it, so a
    failure there leaves no rows behind. The ground truth is written last.
    """
    _check(accounts, months, locale)
    as_of = as_of or dt.date.today()
    say = progress or (lambda _msg: None)
    started = mark = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        timings[name] = round(now - mark, 3)
        mark = now

    text = locale_text(locale)
    rng = {name: np.random.default_rng([seed, k]) for k, name in enumerate(_STREAMS)}
    fake = Faker(text.faker_locale)
    fake.seed_instance(seed)
    say("planning accounts and cohorts")
    plan = make_plan(accounts, months, seed, as_of, text, rng["plan"])
    rows: dict[str, int] = {}
    n_events, kinds = 0, dict[str, int]()
    with runtime.engine.begin() as conn:
        say("writing users, accounts and contacts")
        ids = _write_people(conn, plan, text, fake, rng["people"], rows)
        lap("people")
        say("writing contracts, orders, tickets, NPS answers and interactions")
        _write_activity(conn, plan, text, rng, ids, rows)
        lap("activity")
        if events:
            say("generating and writing product events")
            n_events, kinds = _write_usage(runtime, plan, ids.contacts, rng["usage"])
            lap("events")
    truth = ground_truth(plan, locale)
    path = write_ground_truth(runtime.settings.home, truth)
    return DemoSummary(
        as_of=as_of, window_start=plan.window_start, seed=seed, locale=locale, rows=rows,
        events=n_events, event_types=kinds, cohorts=truth["cohorts"],
        segments=dict(sorted(Counter(str(s) for s in plan.segment).items())),
        seconds=round(time.perf_counter() - started, 2), ground_truth=str(path), timings=timings,
    )  # fmt: skip


def plan_only(accounts: int, months: int, seed: int, locale: str, as_of: dt.date) -> Plan:
    """The plan `build_demo` would use, without writing anything (for tests and tools)."""
    _check(accounts, months, locale)
    return make_plan(
        accounts, months, seed, as_of, locale_text(locale), np.random.default_rng([seed, 0])
    )
