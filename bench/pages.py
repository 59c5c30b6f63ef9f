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

Baseline, in the same run and in-process, each checked to give the same result:
- dashboard figures: read as shipped (the stored `portfolio_days` row) against aggregating
  the date's snapshots and open alerts on every view, as the dashboard did before
  `portfolio_days` (`summarise_day`, the same SQL);
- alert queue page: `list_alerts` as shipped (partial index on `severity_rank`) against the
  previous query (every open alert joined to accounts and users, ordered by a CASE on the
  severity name).

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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
import features as feature_bench  # bench/features.py: the synthetic event table
import score as score_bench  # bench/score.py: the operational template
from tenure.accounts.models import Account, Role
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
uvicorn.run(create_app(home=home, database_url=url, freeze_gc=True), host="127.0.0.1", port=port,
            log_level="warning", access_log=False)
"""


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


def _previous_alert_ids(session: Any, limit: int) -> list[int]:
    """The alert queue's first page as it was read before `severity_rank`: every open alert
    joined to its account and owner, ordered by a CASE on the severity name."""
    from sqlalchemy import case
    from sqlalchemy.orm import aliased

    from tenure.accounts.models import User
    from tenure.risk.models import OPEN_STATUSES, SEVERITY_RANK, Alert

    owner = aliased(User)
    rank = case(SEVERITY_RANK, value=Alert.severity, else_=0)
    stmt = (
        select(Alert.id)
        .join(Account, Account.id == Alert.account_id)
        .outerjoin(owner, owner.id == func.coalesce(Alert.assignee_id, Account.owner_id))
        .where(Alert.status.in_(OPEN_STATUSES))
        .order_by(rank.desc(), Alert.opened_as_of.desc(), Alert.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def time_baseline(url: str, info: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """The work this version stores or indexes, timed against doing it per view (as the
    previous version did), in-process on the same database; both must agree."""
    from tenure.risk.queries import list_alerts
    from tenure.scoring.portfolio import portfolio_days, summarise_day

    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    day = dt.date.fromisoformat(info["dates"][-1])

    def timed(fn: Callable[[Any], Any], session: Any) -> tuple[dict[str, float], Any]:
        result = fn(session)
        ms: list[float] = []
        budget = time.perf_counter() + args.budget
        for _ in range(args.baseline_repeat):
            started = time.perf_counter()
            result = fn(session)
            ms.append((time.perf_counter() - started) * 1000)
            if time.perf_counter() > budget and len(ms) >= 3:
                break
        return stats(ms), result

    def stored(session: Any) -> Any:
        return dict(portfolio_days(session, [day])[day])

    def per_view(session: Any) -> Any:
        return summarise_day(session.connection(), day)

    cases: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
        "dashboard figures": (stored, per_view),
        "alert queue page": (
            lambda s: [a.id for a in list_alerts(s, limit=25).items],
            lambda s: _previous_alert_ids(s, 25),
        ),
    }
    results: dict[str, Any] = {}
    with sessions() as session:
        session.commit()
        for name, (shipped_fn, previous_fn) in cases.items():
            new, new_result = timed(shipped_fn, session)
            old, old_result = timed(previous_fn, session)
            if name == "dashboard figures":
                new_result = {k: v for k, v in new_result.items() if k != "computed_at"}
            if new_result != old_result:
                raise SystemExit(f"baseline {name}: shipped and previous results differ")
            results[name] = {"shipped": new, "previous": old}
            print(
                f"  {name:20} shipped p50 {new['p50_ms']:8.1f} ms   per view p50 "
                f"{old['p50_ms']:8.1f} ms (same result)",
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
    print("\nbaseline in-process, p50 (p95) ms: shipped / done per view as before")
    for name, row in baseline.items():
        new, old = row["shipped"], row["previous"]
        print(
            f"{name:22} shipped {new['p50_ms']:8.1f} ({new['p95_ms']:.1f})   "
            f"per view {old['p50_ms']:8.1f} ({old['p95_ms']:.1f})   "
            f"x{old['p50_ms'] / max(new['p50_ms'], 0.001):.1f}"
        )
    for path, text in profiles.items():
        print(f"\ncProfile of {path} ({args.profile_repeat} requests in-process):\n{text}")
    over = [label for label, r in results.items() if r["p95_ms"] > TARGET_MS]
    summary = {
        "bench": "pages", "accounts": info["accounts"], "snapshots": info["snapshots"],
        "dates": info["dates"], "events": info["events"], "score_seconds": info["score_seconds"],
        "target_p95_ms": TARGET_MS, "over_target": over, "pages": results,
        "baseline": baseline, "prepare_seconds": round(prepared, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
        "machine": feature_bench.machine(),
    }  # fmt: skip
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
