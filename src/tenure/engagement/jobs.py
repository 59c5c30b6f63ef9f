"""The scheduled outbox dispatch (a `tenure.jobs.Job`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tenure.engagement.dispatcher import DispatchResult, dispatch
from tenure.kit.runtime import Runtime

if TYPE_CHECKING:  # tenure.jobs imports this module to list its jobs
    from tenure.jobs import Job


def dispatch_job(every: float, *, limit: int = 100, lease_seconds: float = 60) -> Job:
    """Deliver due outbox messages every `every` seconds, up to `limit` a run."""
    from tenure.jobs import Job

    def run(runtime: Runtime) -> DispatchResult:
        return dispatch(runtime, limit=limit, lease_seconds=lease_seconds)

    return Job("dispatch", every, run)
