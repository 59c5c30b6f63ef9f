"""`tenure surveys send|remind|list|stats` as an operator runs them, and the reminder job."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner, Result

from tenure.auth.models import AuditEntry
from tenure.db import transaction
from tenure.engagement.outbox import utcnow
from tenure.jobs import Job, Scheduler
from tenure.kit.runtime import Runtime
from tenure.surveys.answers import record_answer
from tenure.surveys.cli import app
from tenure.surveys.jobs import reminder_job
from tenure.surveys.models import SurveyInvitation

from .conftest import SurveyBook, outbox, token_of


@pytest.fixture
def run(runtime: Runtime, survey_book: SurveyBook) -> Any:
    runner = CliRunner()
    home = str(runtime.settings.home)

    def invoke(*args: str) -> Result:
        return runner.invoke(app, [*args, "--home", home], env={"COLUMNS": "200"})

    return invoke


def as_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def age_invitations(runtime: Runtime, days: int) -> None:
    """Date every invitation `days` back (as if sent then)."""
    with transaction(runtime.sessions) as s:
        s.execute(update(SurveyInvitation).values(sent_at=utcnow() - dt.timedelta(days=days)))


def test_send_list_answer_stats(run: Any, runtime: Runtime) -> None:
    sent = as_json(run("send", "ACME", "--contact", "C-EN", "--contact", "C-OUT", "--json"))
    assert [i["contact_external_id"] for i in sent["invitations"]] == ["C-EN"]
    assert [(s["contact_external_id"], s["reason"]) for s in sent["skipped"]] == [
        ("C-OUT", "opted_out")
    ]
    table = run("send", "ACME")
    assert table.exit_code == 0, table.output
    assert "1 invitations queued" in table.stdout  # C-ZH; C-EN is pending
    assert "pending" in table.stdout and "opted_out" in table.stdout
    with runtime.sessions() as s:
        assert len(outbox(s)) == 2
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "survey.send")).all()
        assert [a.actor for a in audit] == ["cli", "cli"]
        link = outbox(s)[0].links["survey"]

    listed = as_json(run("list", "--account", "ACME", "--status", "pending", "--json"))
    assert listed["total"] == 2
    with transaction(runtime.sessions) as s:
        record_answer(s, token_of(link), 9, None, utcnow(), home=runtime.settings.home)
    stats = as_json(run("stats", "--account", "ACME", "--json"))
    assert (stats["sent"], stats["responded"], stats["nps"]) == (2, 1, 100.0)
    shown = run("stats")
    assert shown.exit_code == 0 and "+100.0" in shown.stdout and "50%" in shown.stdout
    rows = as_json(run("list", "--json"))["items"]
    assert [(i["contact_name"], i["status"], i["score"]) for i in rows] == [
        ("王芳", "pending", None),
        ("Emma Stone", "responded", 9),
    ]
    table = run("list")
    assert table.exit_code == 0 and "Survey invitations (2)" in table.stdout


def test_remind_sends_what_is_due_once(run: Any, runtime: Runtime) -> None:
    run("send", "ACME", "--json")
    assert as_json(run("remind", "--json")) == {"reminders": 0}
    age_invitations(runtime, 3)
    assert as_json(run("remind", "--json")) == {"reminders": 2}
    again = run("remind")
    assert again.exit_code == 0 and "0 reminders queued" in again.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("send", "NOPE"), "no account has external id 'NOPE'"),
        (("send", "ACME", "--contact", "C-OTHER"), "belongs to another account"),
        (("send", "ACME", "--channel", "pigeon"), "unknown channel 'pigeon'"),
        (("stats", "--account", "NOPE"), "no account has external id 'NOPE'"),
    ],
)
def test_errors_exit_1_and_say_why(run: Any, args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())


def test_a_bad_status_is_a_usage_error(run: Any) -> None:
    result = run("list", "--status", "lost")
    assert result.exit_code == 2
    assert "--status" in result.output


def test_the_reminder_job(run: Any, runtime: Runtime) -> None:
    job = reminder_job(every=3600)
    assert isinstance(job, Job)
    assert (job.name, job.every) == ("survey-reminders", 3600)
    run("send", "ACME", "--json")
    age_invitations(runtime, 4)
    scheduler = Scheduler(runtime, [job])
    assert scheduler.run_due(now=0.0) == ["survey-reminders"]
    assert job.last_error is None
    with runtime.sessions() as s:
        keys = [m.idempotency_key for m in outbox(s)]
        assert keys[2:] == [f"{keys[0]}:reminder:1", f"{keys[1]}:reminder:1"]
