"""Scheduled jobs (inbox flush, scoring, playbooks, outbox, survey reminders), run in the web
process or a worker."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tenure.kit.runtime import Runtime

logger = logging.getLogger("tenure.jobs")


@dataclass
class Job:
    """A function of the runtime run every `every` seconds."""

    name: str
    every: float
    run: Callable[[Runtime], object]
    next_at: float = 0.0
    runs: int = 0
    failures: int = 0
    last_error: str | None = None


@dataclass
class Scheduler:
    """Runs its jobs one at a time on a background thread until stopped."""

    runtime: Runtime
    jobs: list[Job] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def run_due(self, now: float | None = None) -> list[str]:
        """Run every job that is due; returns the names run (for tests and the worker)."""
        now = time.monotonic() if now is None else now
        ran = []
        for job in self.jobs:
            if now < job.next_at:
                continue
            started = time.perf_counter()
            try:
                job.run(self.runtime)
                job.last_error = None
            except Exception as exc:  # a failing job must not stop the others
                job.failures += 1
                job.last_error = f"{type(exc).__name__}: {exc}"
                logger.exception("job failed", extra={"fields": {"job": job.name}})
            job.runs += 1
            job.next_at = now + job.every
            ran.append(job.name)
            logger.info(
                "job",
                extra={"fields": {"job": job.name, "s": round(time.perf_counter() - started, 3)}},
            )
        return ran

    def start(self) -> None:
        """Start the background thread."""
        self._thread = threading.Thread(target=self._loop, name="tenure-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the thread to stop after the job it is running, and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_due()
            self._stop.wait(1.0)


def score_today(runtime: Runtime) -> object:
    """The scheduled scoring run: everything as of today."""
    from tenure.scoring.cli import run_score

    return run_score(runtime, dt.date.today())


def default_jobs(
    score_every: float,
    flush_every: float = 5.0,
    *,
    engage_every: float = 60.0,
    dispatch_every: float = 5.0,
    remind_every: float = 3600.0,
) -> list[Job]:
    """The jobs `tenure serve` and `tenure worker` run (an interval of 0 leaves one out):
    the tracking inbox flush, scoring, the playbook engine, the outbox dispatcher and the
    survey reminders."""
    from tenure.engagement.engine import engagement_job
    from tenure.engagement.jobs import dispatch_job
    from tenure.surveys.jobs import reminder_job
    from tenure.tracking.flush import flush_job

    jobs = []
    if flush_every > 0:
        jobs.append(flush_job(every=flush_every))
    if score_every > 0:
        jobs.append(Job("score", score_every, score_today))
    if engage_every > 0:
        jobs.append(engagement_job(engage_every))
    if dispatch_every > 0:
        jobs.append(dispatch_job(every=dispatch_every))
    if remind_every > 0:
        jobs.append(reminder_job(every=remind_every))
    return jobs
