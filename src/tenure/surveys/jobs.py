"""The scheduled survey reminders (add `reminder_job(...)` to `tenure.jobs.default_jobs`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tenure.db import transaction
from tenure.engagement.outbox import utcnow
from tenure.kit.runtime import Runtime
from tenure.surveys.invitations import send_reminders

if TYPE_CHECKING:
    from tenure.jobs import Job

JOB_NAME = "survey-reminders"


def remind_due(runtime: Runtime) -> int:
    """Queue the reminders due now, in one transaction; returns how many."""
    with transaction(runtime.sessions) as session:
        return send_reminders(
            session, runtime.config.engagement, utcnow(), home=runtime.settings.home
        )


def reminder_job(every: float) -> Job:
    """The reminder job, every `every` seconds (reminders are due in days: hourly is plenty)."""
    from tenure.jobs import Job

    return Job(JOB_NAME, every, remind_due)
