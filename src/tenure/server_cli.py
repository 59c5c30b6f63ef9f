"""`tenure serve` (the web app, with the scheduled jobs) and `tenure worker` (jobs alone)."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from tenure.jobs import Scheduler, default_jobs
from tenure.kit.cli import DatabaseUrlOpt, HomeOpt, console
from tenure.kit.runtime import open_runtime
from tenure.observability import configure_logging

ScoreEveryOpt = Annotated[
    float,
    typer.Option("--score-every", help="Seconds between scheduled scoring runs; 0 turns it off."),
]


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    score_every: ScoreEveryOpt = 300.0,
    jobs: Annotated[bool, typer.Option("--jobs/--no-jobs", help="Run scheduled jobs here.")] = True,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Serve the web app and APIs; also runs the scheduled jobs unless --no-jobs."""
    import uvicorn

    from tenure.app import create_app

    configure_logging()
    runtime = open_runtime(home, database_url)
    scheduler = Scheduler(runtime, default_jobs(score_every)) if jobs else None
    app = create_app(runtime, freeze_gc=True)
    console.print(f"Tenure on http://{host}:{port} (data in {runtime.settings.home})")
    if scheduler is not None:
        scheduler.start()
    try:
        uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
    finally:
        if scheduler is not None:
            scheduler.stop()
        runtime.close()


def worker(
    score_every: ScoreEveryOpt = 300.0,
    home: HomeOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Run the scheduled jobs without the web app (stop with Ctrl-C or SIGTERM)."""
    configure_logging()
    runtime = open_runtime(home, database_url)
    scheduler = Scheduler(runtime, default_jobs(score_every))
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    console.print(f"worker running {', '.join(j.name for j in scheduler.jobs) or 'no jobs'}")
    try:
        while not stopped.is_set():
            scheduler.run_due()
            stopped.wait(1.0)
    finally:
        runtime.close()
