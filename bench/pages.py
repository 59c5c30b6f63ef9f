"""Web page and API latency with 100k accounts and a few weeks of score history.

    .venv/bin/python bench/pages.py [--accounts N --history W --requests R] [--empty-events]

Copies the cached operational template of bench/score.py (built once if missing), brings
its schema to head, scores W weekly as-of dates ending on the event table's last day (so
there is history: W snapshots per account, `latest_scores` kept by the run), creates an
admin user with a session cookie and a read-only API token, starts the app with uvicorn in
a subprocess on 127.0.0.1 (a free port), and requests every page sequentially from one
client, over a keep-alive connection opened afresh for each URL: one untimed first request
(reported as "first", connect included), warm-up, then R timed requests (fewer if the URL's
time budget runs out). A time runs from sending the request to reading the whole body.
Reports p50/p95/max per URL against the 200 ms design target (p95).

Baseline, in the same run and in-process: `list_accounts` timed directly through
SQLAlchemy twice, once as shipped (joins `latest_scores`) and once with the previous
approach (each account's latest snapshot found by a `max(as_of) ... GROUP BY account_id`
subquery over every snapshot).

Scoring uses the cached 100M-event table of bench/features.py when it exists (realistic
event features and alerts); `--empty-events` (or a missing table) scores with an empty
event store instead. `--profile PATH` runs that URL in-process under cProfile afterwards.
`--keep` keeps the scored database in bench/.cache/ and `--reuse` starts from it (the
figures then include every earlier request's writes, e.g. sessions touched).

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import http.client
import io
import json
import pstats
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
import features as feature_bench  # bench/features.py: the synthetic event table
import score as score_bench  # bench/score.py: the operational template
import tenure.accounts.service as account_service
from tenure.accounts.models import Account, Role
from tenure.accounts.summary import SummaryQuery
from tenure.auth.service import create_api_token, create_user, start_session
from tenure.config import load_config
from tenure.db import make_engine, make_sessionmaker, upgrade
from tenure.events.store import EventStore
from tenure.scoring.models import ScoreSnapshot
from tenure.scoring.service import score_accounts

TARGET_MS = 200.0
AS_OF = feature_bench.AS_OF
PASSWORD = "bench-Password-123!"

SERVER = """
import sys, uvicorn
from tenure.app import create_app
url, home, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
uvicorn.run(create_app(home=home, database_url=url), host="127.0.0.1", port=port,
            log_level="warning", access_log=False)
"""


class PreviousSummaryQuery(SummaryQuery):
    """The account summary before `latest_scores`: each account's latest snapshot found by
    grouping every snapshot, its list columns read from the wide snapshot row (the code of
    summary.py before commit 139eccd, with the list columns exposed as `latest_scores` now
    does, so `list_accounts` runs unchanged on it)."""

    def __init__(self, account_ids: Any = None) -> None:
        super().__init__(account_ids)
        newest = select(ScoreSnapshot.account_id, func.max(ScoreSnapshot.as_of).label("as_of"))
        if account_ids is not None:
            newest = newest.where(ScoreSnapshot.account_id.in_(account_ids))
        grouped = newest.group_by(ScoreSnapshot.account_id).subquery("newest")
        snap = ScoreSnapshot
        same = (grouped.c.account_id == snap.account_id) & (grouped.c.as_of == snap.as_of)
        self.latest = (
            select(
                snap.account_id, snap.as_of, snap.health_score, snap.value_score,
                snap.health_change, snap.quadrant, snap.lifecycle_stage,
            )
            .join(grouped, same)
            .subquery("latest")
        )  # fmt: skip


@contextlib.contextmanager
def previous_summary() -> Iterator[None]:
    """`list_accounts` reading the previous summary query, for the baseline."""
    shipped = account_service.SummaryQuery
    account_service.SummaryQuery = PreviousSummaryQuery
    try:
        yield
    finally:
        account_service.SummaryQuery = shipped


def percentile(values: list[float], q: float) -> float:
    """The q-quantile by linear interpolation (q=0.95 for p95)."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def stats(ms: list[float]) -> dict[str, float]:
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(percentile(ms, 0.95), 1),
        "max_ms": round(max(ms), 1),
    }


def prepare(args: argparse.Namespace, work: Path) -> tuple[str, dict[str, Any]]:
    """The scored database for the run, and what went into it."""
    template = score_bench.ensure_database(args.accounts, args.seed)
    db = work / "pages.db"
    shutil.copyfile(template, db)
    url = f"sqlite:///{db}"
    engine = make_engine(url)
    upgrade(engine)
    folder = feature_bench.CACHE / (
        f"events-a{args.accounts}-e{args.events}-d{args.days}-s{args.seed}"
    )
    if args.empty_events or not (folder / "meta.json").exists():
        events, source = EventStore(work / "no-events"), "empty event store"
    else:
        events, source = EventStore(folder / "events"), f"cached table {folder.name}"
    config = load_config(None)
    sessions = make_sessionmaker(engine)
    dates = [AS_OF - dt.timedelta(weeks=w) for w in range(args.history - 1, -1, -1)]
    seconds = []
    for day in dates:
        started = time.perf_counter()
        with sessions() as session, session.begin():
            run = score_accounts(session, store=events, config=config, as_of=day)
        seconds.append(round(time.perf_counter() - started, 2))
        print(f"  scored {run.accounts:,} accounts as of {day} in {seconds[-1]} s", file=sys.stderr)
    with sessions() as session, session.begin():
        admin = create_user(
            session, email="bench-admin@example.com", name="Bench Admin", password=PASSWORD,
            actor="bench", role=Role.ADMIN.value,
        )  # fmt: skip
        cookie, _ = start_session(session, user=admin, ip="127.0.0.1")
        token, _ = create_api_token(
            session, user=admin, name="bench", scopes=["read"], actor="bench"
        )
        snap = ScoreSnapshot
        quadrant, stage, _ = session.execute(
            select(snap.quadrant, snap.lifecycle_stage, func.count())
            .where(snap.as_of == dates[-1])
            .group_by(snap.quadrant, snap.lifecycle_stage)
            .order_by(func.count().desc())
        ).first()
        keys = list(
            session.scalars(
                select(Account.external_id)
                .join(snap, snap.account_id == Account.id)
                .where(snap.as_of == dates[-1])
                .order_by(Account.id)
            )
        )
        counts = {
            "snapshots": session.scalar(select(func.count()).select_from(snap)),
            "accounts": session.scalar(select(func.count()).select_from(Account)),
        }
    engine.dispose()
    step = max(1, len(keys) // 97)
    return url, {
        "events": source, "dates": [d.isoformat() for d in dates], "score_seconds": seconds,
        "cookie": cookie, "token": token, "quadrant": quadrant, "stage": stage,
        "keys": keys[::step], **counts,
    }  # fmt: skip


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, home: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SERVER, url, str(home), str(port)])
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        with contextlib.suppress(OSError):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return proc, port
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit("the server did not answer /healthz within 90 s")


class Client:
    """Sequential GETs over one keep-alive connection; the time includes reading the body."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.port, self.headers = port, headers
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def reconnect(self) -> None:
        """A fresh connection (uvicorn closes keep-alive connections idle for 5 s)."""
        self.conn.close()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

    def get(self, path: str) -> tuple[float, int, int]:
        started = time.perf_counter()
        self.conn.request("GET", path, headers=self.headers)
        response = self.conn.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise SystemExit(f"GET {path} answered {response.status}: {body[:300]!r}")
        return elapsed, response.status, len(body)


def pages(info: dict[str, Any]) -> list[tuple[str, str, str | Callable[[int], str]]]:
    """(label, client, path) of every URL timed; a callable path varies with the request."""
    keys = info["keys"]
    deep = (info["accounts"] // 25) * 3 // 4  # three quarters of the way through the list
    return [
        ("dashboard", "web", "/"),
        ("accounts", "web", "/accounts"),
        ("accounts deep page", "web", f"/accounts?page={deep}"),
        ("accounts filter", "web", f"/accounts?quadrant={info['quadrant']}&stage={info['stage']}"),
        ("accounts search", "web", "/accounts?q=account+4242"),
        ("accounts sort value", "web", "/accounts?sort=-value_score"),
        ("accounts sort arr", "web", "/accounts?sort=-arr"),
        ("accounts htmx", "htmx", "/accounts?sort=-value_score&page=2"),
        ("account 360", "web", lambda i: f"/accounts/{keys[i % len(keys)]}"),
        ("alerts", "web", "/alerts"),
        ("api accounts", "api", "/api/v1/accounts"),
        ("api accounts filter", "api",
         f"/api/v1/accounts?quadrant={info['quadrant']}&stage={info['stage']}&sort=-value_score"),
    ]  # fmt: skip


def time_pages(port: int, info: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    cookie = {"Cookie": f"tenure_session={info['cookie']}"}
    clients = {
        "web": Client(port, cookie),
        "htmx": Client(port, {**cookie, "HX-Request": "true"}),
        "api": Client(port, {"Authorization": f"Bearer {info['token']}"}),
    }
    results: dict[str, Any] = {}
    for label, kind, path in pages(info):
        client = clients[kind]
        client.reconnect()

        def at(i: int, path: str | Callable[[int], str] = path) -> str:
            return path(i) if callable(path) else path

        cold, _, size = client.get(at(0))
        for i in range(args.warmup):
            client.get(at(i + 1))
        ms: list[float] = []
        budget = time.perf_counter() + args.budget
        for i in range(args.requests):
            ms.append(client.get(at(i + 7))[0])
            if time.perf_counter() > budget and len(ms) >= 5:
                break
        results[label] = {
            "path": at(0), **stats(ms), "first_ms": round(cold, 1), "bytes": size,
        }  # fmt: skip
        r = results[label]
        print(
            f"  {label:22} p50 {r['p50_ms']:7.1f}  p95 {r['p95_ms']:7.1f}  max {r['max_ms']:7.1f}"
            f"  first {r['first_ms']:7.1f} ms  n={r['n']}",
            file=sys.stderr,
        )
    return results


def time_baseline(url: str, info: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """`list_accounts` in-process: as shipped vs the previous max(as_of) GROUP BY join."""
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    deep = (info["accounts"] // 25) * 3 // 4
    cases: dict[str, dict[str, Any]] = {
        "default page 1": {},
        "deep page": {"offset": (deep - 1) * 25},
        "quadrant+stage": {"quadrant": info["quadrant"], "stage": info["stage"]},
        "sort -value_score": {"sort": "-value_score"},
    }
    results: dict[str, Any] = {}
    for name, kwargs in cases.items():
        row: dict[str, Any] = {}
        for variant in ("latest_scores", "max_group_by"):
            use = previous_summary() if variant == "max_group_by" else contextlib.nullcontext()
            ms: list[float] = []
            with use, sessions() as session:
                first = account_service.list_accounts(session, limit=25, **kwargs)
                budget = time.perf_counter() + args.budget
                for _ in range(args.baseline_repeat):
                    started = time.perf_counter()
                    page = account_service.list_accounts(session, limit=25, **kwargs)
                    ms.append((time.perf_counter() - started) * 1000)
                    if time.perf_counter() > budget and len(ms) >= 3:
                        break
            row[variant] = {**stats(ms), "ids": [a.id for a in page.items]}
            row[variant + "_total"] = page.total
            assert first.total == page.total
        if row["latest_scores"]["ids"] != row["max_group_by"]["ids"]:
            raise SystemExit(f"baseline {name}: the two queries return different pages")
        for variant in ("latest_scores", "max_group_by"):
            del row[variant]["ids"]
        results[name] = row
        print(
            f"  list_accounts {name:18} latest_scores p50 {row['latest_scores']['p50_ms']:7.1f}"
            f"  max/GROUP BY p50 {row['max_group_by']['p50_ms']:8.1f} ms (same page)",
            file=sys.stderr,
        )
    engine.dispose()
    return results


def profile(url: str, home: Path, info: dict[str, Any], path: str, repeat: int) -> str:
    """cProfile of `path` served in-process, top functions by cumulative time.

    The app runs on an asyncio loop in this thread (httpx's ASGI transport) and the sync
    endpoints and dependencies are called inline instead of in anyio's thread pool, so the
    profiler sees the whole request: routing, auth, queries, templates.
    """
    import asyncio

    import anyio.to_thread
    import httpx

    from tenure.app import create_app
    from tenure.kit.runtime import open_runtime

    async def inline(func: Callable[..., Any], *args: Any, **_: Any) -> Any:
        return func(*args)

    anyio.to_thread.run_sync = inline  # type: ignore[assignment]
    runtime = open_runtime(home, url, migrate=False)
    app = create_app(runtime)
    headers = {"Cookie": f"tenure_session={info['cookie']}"}
    if path.startswith("/api/"):
        headers = {"Authorization": f"Bearer {info['token']}"}
    profiler = cProfile.Profile()

    async def run() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            assert (await client.get(path, headers=headers)).status_code == 200
            profiler.enable()
            for _ in range(repeat):
                assert (await client.get(path, headers=headers)).status_code == 200
            profiler.disable()

    asyncio.run(run())
    runtime.close()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(60)
    stats.sort_stats("tottime").print_stats(25)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=100_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--history", type=int, default=4, help="weekly as-of dates scored")
    parser.add_argument("--requests", type=int, default=40, help="timed requests per URL")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--budget", type=float, default=15.0, help="seconds per URL at most")
    parser.add_argument("--baseline-repeat", type=int, default=10)
    parser.add_argument("--empty-events", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the scored database")
    parser.add_argument("--reuse", action="store_true", help="reuse the kept database")
    parser.add_argument("--profile", action="append", default=[], metavar="PATH")
    parser.add_argument("--profile-repeat", type=int, default=10)
    parser.add_argument("--profile-only", action="store_true", help="profile, time nothing")
    args = parser.parse_args()

    started = time.perf_counter()
    kept = feature_bench.CACHE / f"pages-a{args.accounts}-h{args.history}"
    if args.reuse and (kept / "info.json").exists():
        work, url, info = (
            kept,
            f"sqlite:///{kept / 'pages.db'}",
            json.loads((kept / "info.json").read_text()),
        )
    else:
        work = Path(tempfile.mkdtemp(prefix="pages-", dir=feature_bench.CACHE))
    try:
        if work != kept:
            url, info = prepare(args, work)
        prepared = time.perf_counter() - started
        profiles = {
            p: profile(url, work / "home", info, p, args.profile_repeat) for p in args.profile
        }
        if args.profile_only:
            for path, text in profiles.items():
                print(f"\ncProfile of {path} ({args.profile_repeat} requests in-process):\n{text}")
            return
        server, port = start_server(url, work / "home")
        try:
            results = time_pages(port, info, args)
        finally:
            server.terminate()
            server.wait(timeout=30)
        baseline = time_baseline(url, info, args)
    finally:
        if args.keep and work != kept and (work / "pages.db").exists():
            shutil.rmtree(kept, ignore_errors=True)
            (work / "info.json").write_text(json.dumps(info))
            work.rename(kept)
        elif work != kept:
            shutil.rmtree(work, ignore_errors=True)

    print(
        f"{info['accounts']:,} accounts, {info['snapshots']:,} snapshots over "
        f"{len(info['dates'])} weekly dates ({info['dates'][0]} .. {info['dates'][-1]}); "
        f"scored with the {info['events']} ({info['score_seconds']} s per date)"
    )
    print(f"\n{'page':22} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'first':>8} {'n':>4}  path")
    for label, r in results.items():
        flag = "  OVER TARGET" if r["p95_ms"] > TARGET_MS else ""
        print(
            f"{label:22} {r['p50_ms']:8.1f} {r['p95_ms']:8.1f} {r['max_ms']:8.1f} "
            f"{r['first_ms']:8.1f} {r['n']:4}  {r['path']}{flag}"
        )
    print("\nbaseline: list_accounts in-process, p50 (p95) ms")
    for name, row in baseline.items():
        new, old = row["latest_scores"], row["max_group_by"]
        print(
            f"{name:22} latest_scores {new['p50_ms']:8.1f} ({new['p95_ms']:.1f})   "
            f"max(as_of) GROUP BY {old['p50_ms']:8.1f} ({old['p95_ms']:.1f})   "
            f"x{old['p50_ms'] / max(new['p50_ms'], 0.001):.1f}"
        )
    for path, text in profiles.items():
        print(f"\ncProfile of {path} ({args.profile_repeat} requests in-process):\n{text}")
    over = [label for label, r in results.items() if r["p95_ms"] > TARGET_MS]
    summary = {
        "bench": "pages", "accounts": info["accounts"], "snapshots": info["snapshots"],
        "dates": info["dates"], "events": info["events"], "score_seconds": info["score_seconds"],
        "target_p95_ms": TARGET_MS, "over_target": over, "pages": results,
        "baseline_list_accounts": baseline, "prepare_seconds": round(prepared, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
        "machine": feature_bench.machine(),
    }  # fmt: skip
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
