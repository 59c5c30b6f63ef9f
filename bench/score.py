"""Full scoring-run benchmark: features, value, RFM, lifecycle, health, rules, alerts, snapshots.

    .venv/bin/python bench/score.py [--accounts N --events N --repeat R] [--database-url URL]

Builds (once, cached in bench/.cache/) an operational data set for N accounts (subscriptions,
orders, tickets, NPS responses, public comments) whose external ids match the synthetic event
table of bench/features.py, then times `tenure.scoring.service.score_accounts` for one as-of
date on a fresh copy of the database: the first run (no snapshots, every alert new) and a
re-run of the same date (snapshots replaced, alerts refreshed).

Baseline, in the same run: the operational features computed the way a per-account loop
would (one query per source table per account, through the ORM) for a sample of accounts,
checked equal to the set-based features and extrapolated to N accounts.

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
import features as feature_bench  # bench/features.py: the synthetic event table
from tenure.accounts.models import Account, User
from tenure.analytics.operational_features import compute_operational_features
from tenure.commerce.models import Order, Subscription
from tenure.config import load_config
from tenure.db import make_engine, make_sessionmaker, table_of, upgrade
from tenure.events.store import EventStore
from tenure.feedback.models import Interaction, NpsResponse, Ticket
from tenure.scoring.service import score_accounts

AS_OF = feature_bench.AS_OF
CHUNK = 20_000


def _day(offsets: np.ndarray) -> list[dt.date]:
    base = AS_OF.toordinal()
    return [dt.date.fromordinal(base - int(o)) for o in offsets]


def _when(offsets: np.ndarray, rng: np.random.Generator) -> list[dt.datetime]:
    hours = rng.integers(0, 24, len(offsets))
    return [
        dt.datetime.combine(d, dt.time(int(h))) for d, h in zip(_day(offsets), hours, strict=True)
    ]


def operational_rows(n: int, seed: int) -> dict[str, list[dict[str, Any]]]:
    """Synthetic rows for every operational table, ids 1..n matching acct-0000000 …"""
    rng = np.random.default_rng(seed)
    ids = np.arange(1, n + 1)
    since = rng.integers(10, 1500, n)
    churn = rng.random(n) < 0.05
    users = [
        {"id": u, "external_id": f"csm-{u}", "email": f"csm{u}@example.com", "name": f"CSM {u}"}
        for u in range(1, n // 100 + 2)
    ]
    accounts = [
        {
            "id": int(i), "external_id": f"acct-{i - 1:07d}", "name": f"Account {i}",
            "owner_id": int(1 + i % len(users)), "customer_since": d,
            "churn_date": AS_OF - dt.timedelta(days=int(rng.integers(1, 30))) if c else None,
            "status": "churned" if c else "active",
            "industry_influence": float(a), "innovation_synergy": float(b),
            "growth_potential": float(g), "attributes": {},
        }
        for i, d, c, a, b, g in zip(
            ids, _day(since), churn, *rng.uniform(0, 100, (3, n)), strict=True
        )
    ]  # fmt: skip
    arr = rng.lognormal(10, 1, n).round(2)
    end = rng.integers(-300, 120, n)  # contract end relative to as-of (negative = future)
    subscriptions = [
        {"external_id": f"sub-{i}", "account_id": int(i), "product": "Pro",
         "start_date": e_ - dt.timedelta(days=364), "end_date": e_, "arr": float(a)}
        for i, e_, a in zip(ids, _day(end), arr, strict=True)
    ]  # fmt: skip

    def spread(per_account: float, days: int) -> tuple[np.ndarray, np.ndarray]:
        counts = rng.poisson(per_account, n)
        return np.repeat(ids, counts), rng.integers(0, days, int(counts.sum()))

    acc, off = spread(4, 730)
    amounts = rng.lognormal(8, 1, len(acc)).round(2)
    orders = [
        {"external_id": f"ord-{k}", "account_id": int(a), "order_date": d,
         "amount": float(m), "margin": float(m) * 0.4}
        for k, (a, d, m) in enumerate(zip(acc, _day(off), amounts, strict=True))
    ]  # fmt: skip
    acc, off = spread(3, 120)
    complaint = rng.random(len(acc)) < 0.3
    tickets = [
        {"external_id": f"tkt-{k}", "account_id": int(a), "opened_at": w,
         "is_complaint": bool(c), "severity": "medium"}
        for k, (a, w, c) in enumerate(zip(acc, _when(off, rng), complaint, strict=True))
    ]  # fmt: skip
    acc, off = spread(1.5, 200)
    scores = rng.integers(0, 11, len(acc))
    nps = [
        {"external_id": f"nps-{k}", "account_id": int(a), "responded_at": w, "score": int(s)}
        for k, (a, w, s) in enumerate(zip(acc, _when(off, rng), scores, strict=True))
    ]  # fmt: skip
    acc, off = spread(0.5, 60)
    comments = [
        {"external_id": f"cmt-{k}", "account_id": int(a), "occurred_at": w, "channel": "social",
         "direction": "inbound", "type": "comment", "sentiment": "negative"}
        for k, (a, w) in enumerate(zip(acc, _when(off, rng), strict=True))
    ]  # fmt: skip
    return {
        "users": users, "accounts": accounts, "subscriptions": subscriptions,
        "orders": orders, "tickets": tickets, "nps_responses": nps, "interactions": comments,
    }  # fmt: skip


MODELS = {
    "users": User, "accounts": Account, "subscriptions": Subscription, "orders": Order,
    "tickets": Ticket, "nps_responses": NpsResponse, "interactions": Interaction,
}  # fmt: skip


def ensure_database(accounts: int, seed: int) -> Path:
    """The cached SQLite template with N accounts' operational data."""
    path = feature_bench.CACHE / f"score-a{accounts}-s{seed}.db"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{tmp}")
    upgrade(engine)
    started = time.perf_counter()
    with engine.begin() as conn:
        for name, rows in operational_rows(accounts, seed).items():
            for lo in range(0, len(rows), CHUNK):
                conn.execute(insert(table_of(MODELS[name])), rows[lo : lo + CHUNK])
            print(f"  {name}: {len(rows):,} rows", file=sys.stderr)
    engine.dispose()
    tmp.rename(path)
    print(f"  built in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return path


def per_account_features(sessions: Any, account_ids: list[int]) -> pd.DataFrame:
    """The baseline: a handful of ORM queries per account, features summed in Python."""
    year_ago = AS_OF.replace(year=AS_OF.year - 1)
    end = dt.datetime.combine(AS_OF + dt.timedelta(days=1), dt.time())
    d30 = end - dt.timedelta(days=30)
    d60 = end - dt.timedelta(days=60)
    rows = []
    with sessions() as s:
        for account_id in account_ids:
            orders = s.scalars(
                select(Order).where(Order.account_id == account_id, Order.order_date <= AS_OF)
            ).all()
            tickets = s.scalars(
                select(Ticket).where(Ticket.account_id == account_id, Ticket.opened_at < end)
            ).all()
            recent = [o for o in orders if o.order_date > year_ago]
            rows.append(
                {
                    "account_id": account_id,
                    "revenue_12m": float(sum(o.amount for o in recent)),
                    "orders_12m": float(len(recent)),
                    "complaints_30d": float(
                        sum(1 for t in tickets if t.is_complaint and t.opened_at >= d30)
                    ),
                    "complaints_prev_30d": float(
                        sum(1 for t in tickets if t.is_complaint and d60 <= t.opened_at < d30)
                    ),
                }
            )
    return pd.DataFrame(rows).set_index("account_id")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=100_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sample", type=int, default=2_000)
    args = parser.parse_args()

    events = EventStore(feature_bench.ensure_data(args) / "events")
    template = ensure_database(args.accounts, args.seed)
    migrated = make_engine(f"sqlite:///{template}")
    upgrade(migrated)  # a template cached by an older version gets the current schema
    migrated.dispose()
    config = load_config(None)
    work = feature_bench.CACHE / "score-run.db"
    first, rerun, parts = [], [], []
    for _ in range(args.repeat):
        shutil.copyfile(template, work)
        engine = make_engine(f"sqlite:///{work}")
        sessions = make_sessionmaker(engine)
        for bucket in (first, rerun):
            started = time.perf_counter()
            with sessions() as session, session.begin():
                run = score_accounts(session, store=events, config=config, as_of=AS_OF)
            bucket.append(time.perf_counter() - started)
            if bucket is first:
                parts.append(run.seconds)
        engine.dispose()

    engine = make_engine(f"sqlite:///{work}")
    sessions = make_sessionmaker(engine)
    with engine.connect() as conn:
        set_based = compute_operational_features(conn, AS_OF)
    sample = [int(i) for i in set_based.index[: args.sample]]
    started = time.perf_counter()
    loop = per_account_features(sessions, sample)
    loop_seconds = time.perf_counter() - started
    columns = list(loop.columns)
    pd.testing.assert_frame_equal(
        loop.sort_index(), set_based.loc[sample, columns].sort_index(), check_dtype=False
    )
    extrapolated = loop_seconds * len(set_based) / len(sample)
    engine.dispose()

    print(f"{run.accounts:,} accounts scored as of {AS_OF}; {events.count():,} events")
    print(f"first run   median {statistics.median(first):6.2f} s  runs {first}")
    print(f"re-run      median {statistics.median(rerun):6.2f} s  runs {rerun}")
    print(f"stages of the first run: {parts[len(parts) // 2]}")
    print(
        f"baseline per-account loop: {loop_seconds:.2f} s for {len(sample):,} accounts "
        f"(4 features only) -> {extrapolated:.0f} s for {len(set_based):,}; results identical"
    )
    summary = {
        "bench": "score", "accounts": run.accounts, "events": events.count(),
        "first_run_seconds_median": round(statistics.median(first), 3),
        "rerun_seconds_median": round(statistics.median(rerun), 3),
        "first_run_seconds": [round(s, 3) for s in first],
        "rerun_seconds": [round(s, 3) for s in rerun],
        "stages": parts[len(parts) // 2],
        "baseline_loop_seconds_sample": round(loop_seconds, 3), "baseline_sample": len(sample),
        "baseline_loop_seconds_extrapolated": round(extrapolated, 1),
        "machine": feature_bench.machine(),
    }  # fmt: skip
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
