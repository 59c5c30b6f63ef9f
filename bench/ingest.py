"""Event-ingestion benchmark: Segment batches over HTTP into the tracking inbox, then a flush.

    .venv/bin/python bench/ingest.py [--events N --batch B --concurrency C --workers W]
                                     [--flush-every S] [--database-url postgresql://...]

Starts `uvicorn` serving the app with the tracking API (W worker processes, 127.0.0.1 only,
a fresh home in bench/.cache/), then, from this process, POSTs N track events to /v1/batch
in batches of B with C requests in flight (httpx + asyncio; bodies are encoded before the
clock starts, so the client's JSON work is not timed). A share of the batches (--resend) is
sent twice, as a client retrying after a lost answer would. Measured:

- batches: acknowledged unique events per second, from the first request to the last answer;
- baseline, in the same run and on the same server: one event per request (POST /v1/track);
- flush: `flush_inbox` moving everything to the Delta event store, events per second;
  with --flush-every S, another process also flushes every S seconds while the batches are
  sent (as `tenure worker` would), so the rate is sustained end to end, inbox kept small.

Then it checks that nothing was lost or doubled: the inbox (before the flush) and the event
store (after it) each hold every unique message id exactly once. The last line printed is
one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import httpx
from fastapi import FastAPI
from sqlalchemy import text

from tenure.accounts.models import Account, User
from tenure.app import create_app
from tenure.auth.models import ApiToken
from tenure.db import transaction
from tenure.events.store import EventStore
from tenure.kit.runtime import open_runtime
from tenure.tracking.api import install_tracking
from tenure.tracking.flush import flush_inbox

WRITE_KEY = "tnr_bench-write-key"
CACHE = Path(__file__).resolve().parent / ".cache"
EVENT_NAMES = ["login", "report.view", "report.create", "dashboard.view", "export.csv",
               "search", "invite.sent", "settings.update", "api.call", "alert.ack"]  # fmt: skip


def server_app() -> FastAPI:
    """The app uvicorn serves (a factory: each worker builds its own from TENURE_HOME)."""
    app = create_app()
    if not any(getattr(route, "path", None) == "/v1/batch" for route in app.routes):
        install_tracking(app)
    return app


def prepare_home(home: Path, database_url: str | None, accounts: int) -> None:
    runtime = open_runtime(home, database_url)
    try:
        with transaction(runtime.sessions) as session:
            owner = User(external_id="bench", email="bench@example.com", name="Bench")
            session.add(owner)
            session.flush()
            digest = hashlib.sha256(WRITE_KEY.encode()).hexdigest()
            session.add(ApiToken(user_id=owner.id, name="bench", prefix=WRITE_KEY[:8],
                                 token_hash=digest, scopes=["events:write"]))  # fmt: skip
            session.add_all(
                Account(external_id=f"acct-{i:05d}", name=f"Account {i}", attributes={})
                for i in range(accounts)
            )
    finally:
        runtime.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    home: Path, database_url: str | None, port: int, workers: int
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TENURE_HOME": str(home)}
    if database_url:
        env["TENURE_DATABASE_URL"] = database_url
    args = [sys.executable, "-m", "uvicorn", "ingest:server_app", "--factory",
            "--app-dir", str(Path(__file__).resolve().parent),
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
            "--log-level", "warning", "--no-access-log"]  # fmt: skip
    server = subprocess.Popen(args, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not start")


FLUSHER = """
import json, signal, sys, threading, time
from tenure.kit.runtime import open_runtime
from tenure.tracking.flush import flush_inbox

stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
runtime = open_runtime(sys.argv[1], sys.argv[2] or None, migrate=False)
every, added, runs, busy = float(sys.argv[3]), 0, 0, 0.0
while not stop.wait(every):
    started = time.perf_counter()
    added += flush_inbox(runtime).events_added
    runs += 1
    busy += time.perf_counter() - started
print(json.dumps({"added": added, "runs": runs, "busy_s": round(busy, 2)}))
"""


def start_flusher(home: Path, database_url: str | None, every: float) -> subprocess.Popen[str]:
    """A process flushing the inbox every `every` seconds, as `tenure worker` would."""
    args = [sys.executable, "-c", FLUSHER, str(home), database_url or "", str(every)]
    return subprocess.Popen(args, stdout=subprocess.PIPE, text=True)


def make_calls(n: int, accounts: int, prefix: str, seed: int) -> list[dict[str, Any]]:
    """n track calls with unique message ids, spread over accounts, users and a day."""
    rng = random.Random(seed)
    calls = []
    for i in range(n):
        account = rng.randrange(accounts)
        calls.append({
            "type": "track",
            "messageId": f"{prefix}-{i:09d}-{rng.getrandbits(64):016x}",
            "userId": f"user-{account:05d}-{rng.randrange(20)}",
            "event": EVENT_NAMES[rng.randrange(len(EVENT_NAMES))],
            "timestamp": f"2026-11-{1 + rng.randrange(27):02d}T{rng.randrange(24):02d}:"
                         f"{rng.randrange(60):02d}:{rng.randrange(60):02d}.{rng.randrange(1000):03d}Z",
            "properties": {"plan": "pro", "duration_ms": rng.randrange(5000)},
            "context": {"groupId": f"acct-{account:05d}",
                        "library": {"name": "analytics-python", "version": "2.3.2"}},
        })  # fmt: skip
    return calls


async def post_all(
    port: int, path: str, bodies: list[bytes], concurrency: int
) -> tuple[float, list[float], int]:
    """POST every body (retrying 429/503/transport errors); (seconds, latencies, retries)."""
    auth = "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()
    headers = {"Authorization": auth, "Content-Type": "application/json"}
    latencies: list[float] = []
    retries = 0
    next_body = iter(range(len(bodies)))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60
    ) as client:

        async def worker() -> None:
            nonlocal retries
            for i in next_body:
                while True:
                    sent = time.perf_counter()
                    try:
                        response = await client.post(path, content=bodies[i], headers=headers)
                    except httpx.TransportError:
                        retries += 1
                        await asyncio.sleep(0.1)
                        continue
                    if response.status_code == 200:
                        latencies.append(time.perf_counter() - sent)
                        break
                    if response.status_code in (429, 503):
                        retries += 1
                        await asyncio.sleep(float(response.headers.get("retry-after", 1)))
                        continue
                    raise SystemExit(f"{path}: {response.status_code} {response.text[:300]}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started, latencies, retries


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) so far of process `pid` and its direct children."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == pid or int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def inbox_counts(home: Path, database_url: str | None) -> tuple[int, int]:
    runtime = open_runtime(home, database_url, migrate=False)
    try:
        with runtime.engine.connect() as conn:
            row = conn.execute(
                text("SELECT COUNT(*), COUNT(DISTINCT message_id) FROM tracking_inbox")
            ).one()
        return int(row[0]), int(row[1])
    finally:
        runtime.close()


def store_counts(store: EventStore) -> tuple[int, int]:
    with duckdb.connect() as con:
        store.to_duckdb(con)
        row = con.execute("SELECT COUNT(*), COUNT(DISTINCT message_id) FROM events").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--baseline-events", type=int, default=5_000)
    parser.add_argument("--resend", type=float, default=0.02, help="share of batches sent twice")
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL instead of SQLite")
    parser.add_argument(
        "--flush-every",
        type=float,
        default=0.0,
        help="also flush from another process every S seconds while sending",
    )
    parser.add_argument("--keep", action="store_true", help="keep the home in bench/.cache/")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    CACHE.mkdir(exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="ingest-", dir=CACHE))
    prepare_home(home, args.database_url, args.accounts)
    calls = make_calls(args.events, args.accounts, "b", args.seed)
    batches = [calls[lo : lo + args.batch] for lo in range(0, len(calls), args.batch)]
    rng = random.Random(args.seed)
    resent = rng.sample(range(len(batches)), int(len(batches) * args.resend))
    order = list(range(len(batches))) + resent
    rng.shuffle(order)  # a resend may come before or after its first copy
    bodies = [json.dumps({"batch": batches[i]}).encode() for i in order]
    singles = make_calls(args.baseline_events, args.accounts, "s", args.seed + 1)
    single_bodies = [json.dumps(call).encode() for call in singles]
    body_bytes = sum(map(len, bodies)) / sum(len(batches[i]) for i in order)

    port = free_port()
    server = start_server(home, args.database_url, port, args.workers)
    flusher = None
    if args.flush_every > 0:
        flusher = start_flusher(home, args.database_url, args.flush_every)
    try:
        cpu_before = tree_cpu(server.pid)
        seconds, latencies, retries = asyncio.run(
            post_all(port, "/v1/batch", bodies, args.concurrency)
        )
        batch_cpu = tree_cpu(server.pid) - cpu_before
        during: dict[str, Any] = {}
        if flusher is not None:
            flusher.send_signal(signal.SIGTERM)
            during = json.loads(flusher.communicate(timeout=600)[0].strip().splitlines()[-1])
        cpu_before = tree_cpu(server.pid)
        base_seconds, base_latencies, base_retries = asyncio.run(
            post_all(port, "/v1/track", single_bodies, args.concurrency)
        )
        base_cpu = tree_cpu(server.pid) - cpu_before
    finally:
        if flusher is not None and flusher.poll() is None:
            flusher.kill()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)

    unique = args.events + args.baseline_events
    in_inbox = inbox_counts(home, args.database_url)
    runtime = open_runtime(home, args.database_url, migrate=False)
    try:
        started = time.perf_counter()
        flushed = flush_inbox(runtime)
        flush_seconds = time.perf_counter() - started
        in_store = store_counts(EventStore(runtime.settings.events_path))
        left = inbox_counts(home, args.database_url)[0]
    finally:
        runtime.close()
    lost = unique - in_store[1]
    duplicates = in_store[0] - in_store[1] + in_inbox[0] - in_inbox[1]

    rate = args.events / seconds
    base_rate = args.baseline_events / base_seconds
    flush_rate = flushed.events_added / flush_seconds if flushed.events_added else 0.0
    calls_sent = sum(len(batches[i]) for i in order)
    print(f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{'PostgreSQL' if args.database_url else 'SQLite'}, {args.workers} worker(s), "
          f"{args.concurrency} requests in flight, {body_bytes:.0f} bytes per event")  # fmt: skip
    print(f"{'phase':<28}{'events':>10}{'requests':>10}{'s':>8}{'events/s':>11}"
          f"{'p50 ms':>9}{'p99 ms':>9}{'server CPU':>14}")  # fmt: skip
    rows = [
        (f"batches of {args.batch}", args.events, len(bodies), seconds, rate,
         pct(latencies, 0.5), pct(latencies, 0.99), f"{batch_cpu / args.events * 1e6:.1f} us/ev"),
        ("baseline: 1 event/request", args.baseline_events, len(single_bodies), base_seconds,
         base_rate, pct(base_latencies, 0.5), pct(base_latencies, 0.99),
         f"{base_cpu / args.baseline_events * 1e3:.2f} ms/req"),
    ]  # fmt: skip
    for name, n, requests, s, r, p50, p99, used in rows:
        print(f"{name:<28}{n:>10,}{requests:>10,}{s:>8.2f}{r:>11,.0f}{p50:>9.1f}{p99:>9.1f}"
              f"{used:>14}")  # fmt: skip
    if during:
        print(f"{'flushed while sending':<28}{during['added']:>10,}{during['runs']:>10}"
              f"{during['busy_s']:>8.2f}  (flush runs every {args.flush_every:g} s)")  # fmt: skip
    print(f"{'flush to Delta (after)':<28}{flushed.events_added:>10,}{flushed.batches:>10}"
          f"{flush_seconds:>8.2f}{flush_rate:>11,.0f}")  # fmt: skip
    print(f"calls sent {calls_sent + args.baseline_events:,} ({len(resent)} batches twice), "
          f"retries {retries + base_retries}; inbox held {in_inbox[0]:,} rows "
          f"({in_inbox[1]:,} distinct); store holds {in_store[0]:,} events "
          f"({in_store[1]:,} distinct), inbox left {left}; "
          f"lost {lost}, duplicates {duplicates}")  # fmt: skip
    if not args.keep:
        shutil.rmtree(home, ignore_errors=True)
    summary = {
        "events": args.events, "batch": args.batch, "concurrency": args.concurrency,
        "workers": args.workers, "database": "postgresql" if args.database_url else "sqlite",
        "events_per_s": round(rate), "seconds": round(seconds, 2),
        "p50_ms": round(pct(latencies, 0.5), 1), "p99_ms": round(pct(latencies, 0.99), 1),
        "server_cpu_us_per_event": round(batch_cpu / args.events * 1e6, 1),
        "baseline_events_per_s": round(base_rate),
        "baseline_server_cpu_ms_per_request": round(base_cpu / args.baseline_events * 1e3, 2),
        "speedup": round(rate / base_rate, 1),
        "flush_events_per_s": round(flush_rate), "flush_seconds": round(flush_seconds, 2),
        "flushed_while_sending": during.get("added", 0), "flush_every": args.flush_every,
        "resent_batches": len(resent), "retries": retries + base_retries,
        "lost": lost, "duplicates": duplicates, "cpus": os.cpu_count(),
    }  # fmt: skip
    print(json.dumps(summary))
    if lost or duplicates:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
