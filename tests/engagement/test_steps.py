"""Playbook steps: sends go through opt-outs, caps, quiet hours and channel preferences into
the outbox; tasks, waits, owner notifications and field updates do what they say, and a
broken run fails alone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from tenure.accounts.models import Account, Contact, User
from tenure.channels.models import ChannelEndpoint
from tenure.content.install import install_shipped as install_content
from tenure.engagement.enrol import Candidate, enrol
from tenure.engagement.models import (
    OutboxMessage,
    Playbook,
    PlaybookRun,
    PlaybookStepLog,
    Task,
)
from tenure.engagement.schemas import PlaybookDefinition, PlaybookWrite
from tenure.engagement.service import create_playbook
from tenure.engagement.steps import advance_runs
from tenure.kit.runtime import Runtime

# 12:00 in Shanghai: outside the default quiet hours (21:00-08:00).
NOON = dt.datetime(2026, 11, 27, 4, 0)
STEPS: list[dict[str, Any]] = [
    {"action": "send", "template": "onboarding_welcome"},
    {"action": "task", "title": "Train the key users of {{ account.name }}", "due_days": 5,
     "priority": "high"},
    {"action": "wait", "days": 2},
    {"action": "notify_owner", "template": "alert_notification"},
    {"action": "set_field", "field": "onboarding_done", "value": True},
]  # fmt: skip


@pytest.fixture
def book(runtime: Runtime) -> dict[str, int]:
    with runtime.sessions() as s, s.begin():
        install_content(s)
        owner = User(external_id="u-wang", email="wang@tenure.example", name="王芳", locale="zh-CN")
        s.add(owner)
        s.flush()
        account = Account(external_id="ACME", name="Acme 制造", owner_id=owner.id)
        s.add(account)
        s.flush()
        contacts = {
            "wecom": Contact(external_id="c1", account_id=account.id, name="李娜", role="key_user",
                             channel_preference="wecom", phone="13800000001", locale="zh-CN",
                             email="li@acme.example"),
            "email": Contact(external_id="c2", account_id=account.id, name="Tom Hall",
                             role="key_user", channel_preference="email", locale="en",
                             email="tom@acme.example", timezone="Europe/London"),
            "out": Contact(external_id="c3", account_id=account.id, name="Zhao", role="key_user",
                           email="zhao@acme.example", opted_out_all=True),
            "nobody": Contact(external_id="c4", account_id=account.id, name="No Address",
                              role="key_user"),
            "cfo": Contact(external_id="c5", account_id=account.id, name="CFO",
                           role="decision_maker", email="cfo@acme.example"),
        }  # fmt: skip
        s.add_all(contacts.values())
        s.add_all(
            [
                ChannelEndpoint(name="smtp", kind="email", is_default=True),
                ChannelEndpoint(name="acme-group", kind="wecom", account_id=account.id),
            ]
        )
        s.flush()
        return {"owner": owner.id, "account": account.id, **{k: c.id for k, c in contacts.items()}}


def _start(rt: Runtime, book: dict[str, int], steps: list[dict[str, Any]], **extra: Any) -> int:
    definition = {"trigger": {"type": "stage", "stage": "onboarding"},
                  "audience": {"target": "contacts", "roles": ["key_user"]}, "steps": steps,
                  **extra}  # fmt: skip
    with rt.sessions() as s, s.begin():
        playbook = create_playbook(
            s,
            "test",
            PlaybookWrite.model_validate({"key": "p", "name": "P", "definition": definition}),
        )
        (run,) = enrol(
            s, playbook, PlaybookDefinition.model_validate(definition),
            [Candidate(book["account"], "t1", {"trigger": "rule", "rule_id": "no_login_7d",
                                               "rule_name": "No login for 7 days",
                                               "severity": "high", "alert_id": None,
                                               "evidence": {"days_since_login": 9},
                                               "as_of": "2026-11-27"})],
            now=NOON,
        )  # fmt: skip
        return run.id


def _advance(rt: Runtime, now: dt.datetime) -> Any:
    with rt.sessions() as s, s.begin():
        return advance_runs(s, config=rt.config.engagement, home=rt.settings.home, now=now)


def _logs(rt: Runtime, run_id: int) -> list[tuple[int, str, str, int | None, dict[str, Any]]]:
    with rt.sessions() as s:
        rows = s.scalars(
            select(PlaybookStepLog)
            .where(PlaybookStepLog.run_id == run_id)
            .order_by(PlaybookStepLog.id)
        )
        return [(r.step_index, r.action, r.outcome, r.contact_id, r.detail) for r in rows]


def test_a_run_sends_by_preference_creates_the_task_waits_and_notifies_the_owner(
    runtime: Runtime, book: dict[str, int]
) -> None:
    run_id = _start(runtime, book, STEPS)
    first = _advance(runtime, NOON)
    assert (first.queued, first.blocked) == (2, 2)
    sends = {c: (o, d.get("reason") or d.get("channel")) for i, a, o, c, d in _logs(runtime, run_id)
             if a == "send"}  # fmt: skip
    assert sends == {
        book["wecom"]: ("queued", "wecom"),  # the account's WeCom group robot
        book["email"]: ("queued", "email"),
        book["out"]: ("blocked", "opted_out"),
        book["nobody"]: ("blocked", "no_channel"),
    }  # the decision maker is not in the audience
    with runtime.sessions() as s:
        messages = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [(m.channel, m.locale, m.contact_id) for m in messages] == [
            ("wecom", "zh-CN", book["wecom"]),
            ("email", "en", book["email"]),
        ]
        assert all(m.status == "queued" for m in messages)
        # 12:00 in Shanghai goes now; 04:00 in London waits for 08:00 there.
        assert [m.next_attempt_at for m in messages] == [NOON, dt.datetime(2026, 11, 27, 8, 0)]
        assert "李娜" in messages[0].text and "Tom" in messages[1].text
        assert messages[1].links["unsubscribe"].startswith("http://127.0.0.1:8000/u/")
        endpoint = s.scalar(select(ChannelEndpoint.id).where(ChannelEndpoint.name == "acme-group"))
        assert messages[0].endpoint_id == endpoint
        task = s.scalars(select(Task)).one()
        assert (task.title, task.owner_id, task.priority) == (
            "Train the key users of Acme 制造",
            book["owner"],
            "high",
        )
        assert task.due_date == dt.date(2026, 12, 2)
        run = s.get(PlaybookRun, run_id)
        assert (
            run is not None
            and run.step_index == 3
            and run.next_step_at == NOON + dt.timedelta(days=2)
        )

    assert _advance(runtime, NOON + dt.timedelta(days=1)).runs == 0  # still waiting
    second = _advance(runtime, NOON + dt.timedelta(days=2))
    assert second.completed == 1
    with runtime.sessions() as s:
        owner_msg = s.scalars(
            select(OutboxMessage).where(OutboxMessage.user_id == book["owner"])
        ).one()
        assert (
            owner_msg.channel == "email" and owner_msg.recipient["email"] == "wang@tenure.example"
        )
        assert "No login for 7 days" in owner_msg.subject + owner_msg.text
        account = s.get(Account, book["account"])
        assert account is not None and account.attributes["onboarding_done"] is True
        run = s.get(PlaybookRun, run_id)
        assert run is not None and run.status == "completed"


def test_quiet_hours_delay_instead_of_dropping(runtime: Runtime, book: dict[str, int]) -> None:
    late = dt.datetime(2026, 11, 27, 14, 30)  # 22:30 in Shanghai, 14:30 in London
    _start(runtime, book, [{"action": "send", "template": "onboarding_welcome"}])
    _advance(runtime, late)
    with runtime.sessions() as s:
        due = dict(s.execute(select(OutboxMessage.contact_id, OutboxMessage.next_attempt_at)).all())
    assert due[book["wecom"]] == dt.datetime(2026, 11, 28, 0, 0)  # 08:00 Shanghai
    assert due[book["email"]] == late  # London is awake


def test_frequency_cap_blocks_the_fourth_message(runtime: Runtime, book: dict[str, int]) -> None:
    with runtime.sessions() as s, s.begin():
        for n in range(3):
            s.add(OutboxMessage(idempotency_key=f"old-{n}", source="test", channel="email",
                                contact_id=book["email"], account_id=book["account"], subject="s",
                                text="t", next_attempt_at=NOON, status="sent",
                                created_at=NOON - dt.timedelta(days=1)))  # fmt: skip
    run_id = _start(runtime, book, [{"action": "send", "template": "onboarding_welcome"}])
    _advance(runtime, NOON + dt.timedelta(hours=1))
    outcome = {c: d.get("reason") for _, a, o, c, d in _logs(runtime, run_id) if o == "blocked"}
    assert outcome[book["email"]] == "frequency_cap"
    # A week later the window has moved on.
    run2 = _start_again(runtime, book)
    _advance(runtime, NOON + dt.timedelta(days=8))
    assert all(o == "queued" for _, _, o, c, _ in _logs(runtime, run2) if c == book["email"])


def _start_again(rt: Runtime, book: dict[str, int]) -> int:
    with rt.sessions() as s, s.begin():
        playbook = s.scalars(select(Playbook)).one()
        run = PlaybookRun(playbook_id=playbook.id, playbook_version=1, account_id=book["account"],
                          trigger_key="t2", reason={}, status="active", step_index=0,
                          next_step_at=NOON, started_at=NOON)  # fmt: skip
        s.add(run)
        s.flush()
        return run.id


def test_opting_out_of_a_channel_falls_back_to_email(
    runtime: Runtime, book: dict[str, int]
) -> None:
    with runtime.sessions() as s, s.begin():
        contact = s.get(Contact, book["wecom"])
        assert contact is not None
        contact.opt_out_channels = ["wecom"]
    _start(runtime, book, [{"action": "send", "template": "onboarding_welcome"}])
    _advance(runtime, NOON)
    with runtime.sessions() as s:
        channel = s.scalar(
            select(OutboxMessage.channel).where(OutboxMessage.contact_id == book["wecom"])
        )
    assert channel == "email"


def test_a_broken_step_fails_its_run_only(runtime: Runtime, book: dict[str, int]) -> None:
    good = _start(runtime, book, [{"action": "task", "title": "fine"}])
    with runtime.sessions() as s, s.begin():
        playbook = Playbook(key="broken", name="b", trigger_type="stage", definition={
            "trigger": {"type": "stage", "stage": "onboarding"},
            "steps": [{"action": "task", "title": "{{ account.__class__ }}"}]})  # fmt: skip
        s.add(playbook)
        s.flush()
        s.add(PlaybookRun(playbook_id=playbook.id, playbook_version=1, account_id=book["account"],
                          trigger_key="x", reason={}, status="active", step_index=0,
                          next_step_at=NOON, started_at=NOON))  # fmt: skip
    result = _advance(runtime, NOON)
    assert (result.failed, result.completed) == (1, 1)
    with runtime.sessions() as s:
        statuses = dict(s.execute(select(PlaybookRun.trigger_key, PlaybookRun.status)).all())
        assert statuses == {"t1": "completed", "x": "failed"}
        error = s.scalar(select(PlaybookStepLog.detail).where(PlaybookStepLog.outcome == "failed"))
        assert error is not None and "TemplateError" in error["error"]
        assert s.scalars(select(Task.title)).all() == ["fine"]
    assert good
