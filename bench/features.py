"""Feature-build benchmark: event features for N accounts over M events, against baselines.

    .venv/bin/python bench/features.py [--accounts N --events N --days D --repeat R]

Synthetic events are generated once into bench/.cache/ as our Delta event table. Each
contender then runs in a fresh subprocess, so its peak memory (VmHWM) is its own:

- engine:  tenure.analytics.event_features.compute_event_features (timed R times, median);
- scan:    DuckDB reading the columns the engine needs, nothing else (the scan floor);
- duckdb:  plain DuckDB SQL over the raw columns, one GROUP BY with COUNT(DISTINCT);
- pandas:  pyarrow reads the raw columns file by file, pandas filters and groups.

All three results must be identical. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tenure.analytics.event_features import day_number
from tenure.config import load_config
from tenure.events.schema import EVENT_SCHEMA
from tenure.events.store import EventStore

CACHE = Path(__file__).resolve().parent / ".cache"
AS_OF = dt.date(2026, 6, 30)
BENCH_FEATURES = load_config(None).features  # the shipped defaults
CORE = BENCH_FEATURES.core_features
OTHER = [f"{area}.{verb}" for area in ("page", "search", "export", "project", "member")
         for verb in ("view", "create", "update", "delete")]  # fmt: skip


def _hex_ids(rng: np.random.Generator, n: int, piece: int = 1 << 22) -> pa.ChunkedArray:
    """`n` random 32-hex-digit message ids, built without a Python loop."""
    digits, chunks = np.frombuffer(b"0123456789abcdef", dtype=np.uint8), []
    for size in [piece] * (n // piece) + [n % piece]:
        raw = rng.integers(0, 256, size=(size, 16), dtype=np.uint8)
        text = np.empty((size, 32), dtype=np.uint8)
        text[:, 0::2], text[:, 1::2] = digits[raw >> 4], digits[raw & 15]
        offsets = pa.py_buffer(np.arange(0, 32 * size + 1, 32, dtype=np.int32))
        chunks.append(pa.StringArray.from_buffers(size, offsets, pa.py_buffer(text.tobytes())))
    return pa.chunked_array(chunks, pa.string())


class Population:
    """Accounts with skewed activity, an active span, and their own mix of event names."""

    def __init__(self, accounts: int, events: int, days: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.days = days
        self.ids = pa.array([f"acct-{i:07d}" for i in range(accounts)])
        self.contacts = pa.array([f"acct-{i // 3:07d}-c{i % 3}" for i in range(accounts * 3)])
        weight = rng.lognormal(0.0, 1.5, accounts)  # a few heavy accounts, a long light tail
        self.first = np.where(rng.random(accounts) < 0.15, rng.integers(0, days, accounts), 0)
        idle = rng.random(accounts) < 0.10  # stopped using the product at some point
        self.last = np.where(idle, rng.integers(self.first, days), days - 1)
        span = self.last - self.first + 1
        self.rate = events * weight / float(np.sum(weight * span))  # events per active day
        # Event mix: login share, core share over an adopted subset, rare cancel attempts.
        login = np.where(rng.random(accounts) < 0.03, 0.0, rng.uniform(0.03, 0.15, accounts))
        adopted = rng.random((accounts, len(CORE))) < 0.6
        core = rng.uniform(0.05, 0.4, accounts)[:, None] * adopted / len(CORE)
        cancel = np.where(rng.random(accounts) < 0.05, 0.002, 0.0)
        mix = np.column_stack([login, core, cancel])
        self.cum = np.cumsum(mix, axis=1).astype(np.float32)  # rest of the mass is "other"
        self.names = pa.array(["login", *CORE, "account.cancel_attempt", *OTHER])

    def month_chunks(self) -> list[tuple[int, int]]:
        """(first day, day count) of each calendar month in the span."""
        days = np.datetime64(AS_OF) - np.arange(self.days - 1, -1, -1)
        starts = [0, *(np.flatnonzero(np.diff(days.astype("datetime64[M]").astype(int))) + 1)]
        ends = [*starts[1:], self.days]
        return [(int(a), int(b) - int(a)) for a, b in zip(starts, ends, strict=True)]

    def events(self, first_day: int, n_days: int, seed: int) -> pa.Table:
        """Every event of days first_day .. first_day + n_days - 1 (0 = first generated day)."""
        rng = np.random.default_rng(seed)
        days = np.arange(first_day, first_day + n_days)
        active = (days[:, None] >= self.first) & (days[:, None] <= self.last)
        counts = rng.poisson(np.where(active, self.rate, 0.0))  # day x account
        n_acc = len(self.rate)
        account = np.repeat(np.tile(np.arange(n_acc, dtype=np.int32), n_days), counts.ravel())
        day = np.repeat(np.repeat(days.astype(np.int64), n_acc), counts.ravel())
        n = len(account)
        kind = np.empty(n, dtype=np.int32)
        for lo in range(0, n, 1 << 22):
            hi = min(lo + (1 << 22), n)
            u = rng.random(hi - lo, dtype=np.float32)
            kind[lo:hi] = (u[:, None] >= self.cum[account[lo:hi]]).sum(axis=1)
        other = kind == self.cum.shape[1]
        kind[other] += rng.integers(0, len(OTHER), int(other.sum()), dtype=np.int32)
        start_us = (AS_OF - dt.timedelta(days=self.days - 1) - dt.date(1970, 1, 1)).days
        micros = (start_us + day) * 86_400_000_000 + rng.integers(0, 86_400_000_000, n)
        props = np.where(rng.random(n) < 0.1, '{"source":"web"}', None)
        columns = {
            "message_id": _hex_ids(rng, n),
            "account_id": pa.DictionaryArray.from_arrays(pa.array(account), self.ids),
            "contact_id": pa.DictionaryArray.from_arrays(
                pa.array(account * 3 + rng.integers(0, 3, n, dtype=np.int32)), self.contacts
            ),
            "event": pa.DictionaryArray.from_arrays(pa.array(kind), self.names),
            "timestamp": pa.array(micros, pa.timestamp("us", tz="UTC")),
            "properties": pa.array(props, pa.string()),
        }
        return pa.table({f.name: columns[f.name].cast(f.type) for f in EVENT_SCHEMA})


def ensure_data(args: argparse.Namespace) -> Path:
    """The cached Delta table for these arguments, generated on first use."""
    folder = CACHE / f"events-a{args.accounts}-e{args.events}-d{args.days}-s{args.seed}"
    meta = folder / "meta.json"
    if meta.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    store = EventStore(folder / "events")
    people = Population(args.accounts, args.events, args.days, args.seed)
    started = time.perf_counter()
    for i, (first, n_days) in enumerate(people.month_chunks()):
        batch = people.events(first, n_days, seed=args.seed * 1000 + i)
        result = store.append(batch)
        print(f"  generated month {i + 1}: {result.added:,} events", file=sys.stderr)
    rows = store.count()
    meta.write_text(json.dumps({"rows": rows, "seconds": time.perf_counter() - started}))
    return folder


def _files(store: EventStore) -> list[str]:
    from deltalake import DeltaTable

    return DeltaTable(store.uri).file_uris()


def scan_floor(store: EventStore) -> pd.DataFrame:
    """Read the three columns the engine needs, for every row, and do nothing else."""
    import duckdb

    with duckdb.connect() as con:
        store.to_duckdb(con)
        return con.sql("SELECT count(*) AS n FROM events WHERE account_key <> 0 "
                       "AND event_day >= 0 AND event <> ''").df()  # fmt: skip


def duckdb_plain_features(store: EventStore, as_of: dt.date) -> pd.DataFrame:
    """The features as one plain DuckDB GROUP BY over the raw columns (no derived ones)."""
    import duckdb
    from sqlglot import exp

    def names(values: list[str]) -> str:
        return ", ".join(exp.Literal.string(v).sql("duckdb") for v in values)

    cfg, d = BENCH_FEATURES, day_number(as_of)
    login, cancel = names(cfg.login_events), names(cfg.cancel_events)
    core, n_core = names(cfg.core_features), len(set(cfg.core_features))
    files = names(_files(store))
    sql = f"""
    WITH e AS (SELECT account_id, event, epoch_us("timestamp") // 86400000000 AS day
               FROM read_parquet([{files}]))
    SELECT account_id,
      {d} - max(day) FILTER (event IN ({login})) AS days_since_login,
      count(*) FILTER (event IN ({login}) AND day > {d} - 7) AS logins_7d,
      count(*) FILTER (event IN ({login}) AND day > {d} - 30) AS logins_30d,
      count(*) FILTER (day > {d} - 7) AS events_7d,
      count(*) FILTER (day > {d} - 30) AS events_30d,
      count(*) FILTER (day > {d} - 90) AS events_90d,
      count(*) FILTER (day > {d} - 60 AND day <= {d} - 30) AS events_prev_30d,
      (events_30d - events_prev_30d) / greatest(events_prev_30d, 1) AS usage_change,
      {d} - max(day) AS days_since_last_event,
      count(DISTINCT event) FILTER (event IN ({core}) AND day > {d} - 30)
          AS core_features_used_30d,
      core_features_used_30d / {n_core} AS core_usage,
      count(*) FILTER (event IN ({cancel}) AND day > {d} - 30) AS cancel_attempts_30d
    FROM e WHERE day <= {d} GROUP BY account_id"""
    with duckdb.connect() as con:
        return normalise(con.sql(sql).df())


def _pandas_file(path: str, d: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Partial features of one data file, and its distinct (account, core feature) pairs."""
    cfg = BENCH_FEATURES
    raw = pq.read_table(path, columns=["account_id", "event", "timestamp"],
                        read_dictionary=["account_id", "event"])  # fmt: skip
    raw = raw.unify_dictionaries().combine_chunks()
    account, event = raw.column("account_id").chunk(0), raw.column("event").chunk(0)
    df = pd.DataFrame({
        "account": account.indices.to_numpy(),  # group on dictionary codes...
        "event": pd.Categorical.from_codes(event.indices.to_numpy(), event.dictionary),
        "day": raw.column("timestamp").cast(pa.int64()).to_numpy() // 86_400_000_000,
    })  # fmt: skip
    names = account.dictionary.to_numpy(zero_copy_only=False)  # ...named afterwards
    df = df[df["day"] <= d]
    age = d - df["day"]
    login, recent = df["event"].isin(cfg.login_events), age < 30

    def count(mask: pd.Series) -> pd.Series:
        return df[mask].groupby("account").size()

    part = pd.DataFrame({
        "last_event": df.groupby("account")["day"].max(),
        "last_login": df[login].groupby("account")["day"].max(),
        "logins_7d": count(login & (age < 7)), "logins_30d": count(login & recent),
        "events_7d": count(age < 7), "events_30d": count(recent),
        "events_90d": count(age < 90), "events_prev_30d": count((age >= 30) & (age < 60)),
        "cancel_attempts_30d": count(df["event"].isin(cfg.cancel_events) & recent),
    })  # fmt: skip
    part.index = names[part.index.to_numpy()]
    core = df[df["event"].isin(cfg.core_features) & recent][["account", "event"]]
    core = core.drop_duplicates()
    pairs = pd.DataFrame({"account": names[core["account"].to_numpy()],
                          "event": core["event"].astype(str).to_numpy()})  # fmt: skip
    return part, pairs


def pandas_features(store: EventStore, as_of: dt.date) -> pd.DataFrame:
    """The features in plain pandas, file by file: read, filter, group, then combine."""
    d = day_number(as_of)
    parts, core_pairs = zip(*(_pandas_file(path, d) for path in _files(store)), strict=True)
    both = pd.concat(parts)
    out = both.groupby(level=0).agg({c: ("max" if c.startswith("last") else "sum")
                                     for c in both.columns})  # fmt: skip
    pairs = pd.concat(core_pairs).drop_duplicates()
    out["core_features_used_30d"] = pairs.groupby("account").size().reindex(out.index).fillna(0)
    out["days_since_login"] = d - out["last_login"]
    out["days_since_last_event"] = d - out["last_event"]
    prev = np.maximum(out["events_prev_30d"], 1)
    out["usage_change"] = (out["events_30d"] - out["events_prev_30d"]) / prev
    out["core_usage"] = out["core_features_used_30d"] / len(set(BENCH_FEATURES.core_features))
    out.index.name = "account_id"
    return normalise(out.reset_index())


def normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Index by account id, catalogue columns, the engine's dtypes, sorted."""
    from tenure.analytics.catalog import EVENT_FEATURES

    frame = frame.set_index("account_id")[list(EVENT_FEATURES)].sort_index()
    frame.index = frame.index.astype(str)
    for col in EVENT_FEATURES:
        kind = "float64" if col in ("usage_change", "core_usage") else "int64"
        frame[col] = frame[col].astype("Int64" if col == "days_since_login" else kind)
    return frame


def compare_frames(engine: pd.DataFrame, other: pd.DataFrame, name: str) -> None:
    """Fail loudly unless `other` has the same accounts and exactly the same values."""
    mine = normalise(engine.reset_index())
    if not mine.index.equals(other.index):
        extra, missing = other.index.difference(mine.index), mine.index.difference(other.index)
        raise SystemExit(f"{name}: accounts differ (+{list(extra[:5])} -{list(missing[:5])})")
    pd.testing.assert_frame_equal(mine, other, check_exact=True, obj=name)


def vm_hwm_mb() -> float:
    """Peak resident memory (VmHWM) of this process so far, in MB."""
    status = Path("/proc/self/status").read_text().splitlines()
    return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:"))


def worker(kind: str, folder: Path, repeat: int) -> dict[str, Any]:
    """Run one contender `repeat` times in this fresh process; keep its last frame."""
    from tenure.analytics.event_features import compute_event_features

    contenders = {
        "engine": lambda store: compute_event_features(store, AS_OF, BENCH_FEATURES),
        "scan": scan_floor,
        "duckdb": lambda store: duckdb_plain_features(store, AS_OF),
        "pandas": lambda store: pandas_features(store, AS_OF),
    }
    import_mb, seconds, cpu, frame = vm_hwm_mb(), [], [], pd.DataFrame()
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        frame = contenders[kind](EventStore(folder / "events"))  # reads storage every time
        seconds.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)  # all threads; steadier under load
    frame.to_parquet(folder / f"result-{kind}.parquet")
    return {"seconds": seconds, "cpu": cpu, "peak_mb": vm_hwm_mb(), "import_mb": import_mb}


def run_worker(kind: str, folder: Path, repeat: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", kind, "--data", str(folder), "--repeat",
           str(repeat)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{kind} worker failed:\n{done.stderr}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def machine() -> dict[str, Any]:
    import deltalake
    import duckdb

    info = {k.strip(): v for k, v in (line.split(":", 1) for line in
            Path("/proc/cpuinfo").read_text().splitlines() if ":" in line)}  # fmt: skip
    mem = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    return {"nproc": os.cpu_count(), "cpu": info.get("model name", "").strip(),
            "ram_gb": round(int(mem["MemTotal"].split()[0]) / 1024**2, 1),
            "load_avg_1m": os.getloadavg()[0], "python": platform.python_version(),
            "duckdb": duckdb.__version__, "pyarrow": pa.__version__,
            "deltalake": deltalake.__version__, "pandas": pd.__version__}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for flag, default in (("accounts", 100_000), ("events", 100_000_000), ("days", 365),
                          ("repeat", 5), ("seed", 7)):  # fmt: skip
        parser.add_argument(f"--{flag}", type=int, default=default)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.data, args.repeat)))
        return

    folder = ensure_data(args)
    rows = json.loads((folder / "meta.json").read_text())["rows"]
    print(f"{rows:,} events, {args.accounts:,} accounts, {args.days} days, as of {AS_OF}")
    load = os.getloadavg()[0]
    repeats = {"engine": args.repeat, "scan": args.repeat, "duckdb": 1, "pandas": 1}
    runs = {kind: run_worker(kind, folder, n) for kind, n in repeats.items()}
    engine = pd.read_parquet(folder / "result-engine.parquet")
    for kind in ("duckdb", "pandas"):
        compare_frames(engine, pd.read_parquet(folder / f"result-{kind}.parquet"), kind)
    median = {kind: statistics.median(run["seconds"]) for kind, run in runs.items()}
    cpu = {kind: statistics.median(run["cpu"]) for kind, run in runs.items()}
    print(f"{'contender':<10} {'median s':>9} {'CPU s':>7} {'runs s':<34} {'peak MB':>8}")
    for kind, run in runs.items():
        shown = " ".join(f"{s:.2f}" for s in run["seconds"])
        print(f"{kind:<10} {median[kind]:>9.2f} {cpu[kind]:>7.2f} {shown:<34} "
              f"{run['peak_mb']:>8.0f}")  # fmt: skip
    print(f"results identical: engine = plain duckdb = pandas ({len(engine):,} accounts)")
    summary = {
        "bench": "features", "rows": rows, "accounts": args.accounts,
        "accounts_with_events": len(engine), "days": args.days, "as_of": str(AS_OF),
        "engine_seconds_median": round(median["engine"], 3),
        "engine_seconds": [round(s, 3) for s in runs["engine"]["seconds"]],
        "engine_cpu_seconds_median": round(cpu["engine"], 3),
        "engine_peak_mb": round(runs["engine"]["peak_mb"]),
        "engine_import_mb": round(runs["engine"]["import_mb"]),
        "scan_floor_seconds_median": round(median["scan"], 3),
        "scan_floor_cpu_seconds_median": round(cpu["scan"], 3),
        "duckdb_plain_seconds": round(median["duckdb"], 3),
        "duckdb_plain_cpu_seconds": round(cpu["duckdb"], 3),
        "duckdb_plain_peak_mb": round(runs["duckdb"]["peak_mb"]),
        "pandas_seconds": round(median["pandas"], 3),
        "pandas_cpu_seconds": round(cpu["pandas"], 3),
        "pandas_peak_mb": round(runs["pandas"]["peak_mb"]),
        "identical": True, "machine": machine() | {"load_avg_1m_at_start": load},
    }  # fmt: skip
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
