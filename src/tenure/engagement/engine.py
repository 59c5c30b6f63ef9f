"""The engagement job: enrol for schedules, then advance every due playbook run.

Runs in `tenure serve` and `tenure worker` (job `engagement`, every minute by default) or
once with `tenure playbooks tick`. Event, rule, stage and quadrant triggers enrol where
their cause happens (the inbox flush, the scoring run); this job moves runs along.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from tenure.engagement.outbox import utcnow
from tenure.engagement.steps import AdvanceResult, advance_runs
from tenure.engagement.triggers import run_schedules
from tenure.jobs import Job
from tenure.kit.runtime import Runtime

logger = logging.getLogger("tenure.engagement")


@dataclass
class TickResult:
    """What one tick of the engine did."""

    enrolled: int
    advanced: AdvanceResult


def tick(runtime: Runtime, *, now: dt.datetime | None = None, limit: int = 500) -> TickResult:
    """Enrol schedule playbooks for the current period and advance due runs (one commit)."""
    now = now or utcnow()
    config = runtime.config.engagement
    with runtime.sessions() as session:
        enrolled = run_schedules(session, now=now)
        advanced = advance_runs(
            session, config=config, home=runtime.settings.home, now=now, limit=limit
        )
        session.commit()
    if enrolled or advanced.runs:
        logger.info(
            "engagement tick",
            extra={"fields": {"enrolled": len(enrolled), "runs": advanced.runs,
                              "queued": advanced.queued, "blocked": advanced.blocked,
                              "failed": advanced.failed}},
        )  # fmt: skip
    return TickResult(enrolled=len(enrolled), advanced=advanced)


def engagement_job(every: float = 60.0) -> Job:
    """The scheduled engine tick (add it to `tenure.jobs.default_jobs`)."""
    return Job("engagement", every, lambda runtime: tick(runtime))
