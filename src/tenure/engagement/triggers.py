"""Where playbooks are triggered: tracked events, the scoring run, and the schedule.

Each function is called inside the transaction of what it reacts to (the inbox flush, the
scoring run, the engagement job), so an enrolment commits with its cause or not at all,
and costs one indexed query when no enabled playbook has its trigger type.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from tenure.accounts.models import Account, AccountStatus
from tenure.engagement.enrol import Candidate, enabled_playbooks, enrol
from tenure.engagement.models import PlaybookRun
from tenure.engagement.schemas import (
    EventTrigger,
    QuadrantTrigger,
    RuleTrigger,
    ScheduleTrigger,
    StageTrigger,
)
from tenure.risk.models import Alert, AlertStatus
from tenure.scoring.models import LatestScore, ScoreSnapshot

_CHUNK = 500


def _properties(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _matches(trigger: EventTrigger, event: dict[str, Any]) -> bool:
    if event.get("event") != trigger.event:
        return False
    props = _properties(event.get("properties"))
    return all(props.get(k) == v for k, v in trigger.where.items())


def on_events(
    session: Session, events: Sequence[dict[str, Any]], *, now: dt.datetime
) -> list[PlaybookRun]:
    """Enrol the accounts of tracked `events` (rows of the event schema: message_id,
    account_id = the account's external id, event, properties) in event playbooks."""
    playbooks = enabled_playbooks(session, "event")
    if not playbooks or not events:
        return []
    names = {d.trigger.event for _, d in playbooks if isinstance(d.trigger, EventTrigger)}
    relevant = [e for e in events if e.get("event") in names]
    if not relevant:
        return []
    keys = sorted({str(e["account_id"]) for e in relevant})
    ids: dict[str, int] = {}
    for start in range(0, len(keys), _CHUNK):
        rows = session.execute(
            select(Account.external_id, Account.id).where(
                Account.external_id.in_(keys[start : start + _CHUNK])
            )
        )
        ids.update((str(k), int(v)) for k, v in rows)
    started: list[PlaybookRun] = []
    for playbook, definition in playbooks:
        trigger = definition.trigger
        assert isinstance(trigger, EventTrigger)
        candidates = [
            Candidate(
                ids[str(e["account_id"])],
                f"event:{e['message_id']}",
                {
                    "trigger": "event",
                    "event": e["event"],
                    "message_id": e["message_id"],
                    "properties": _properties(e.get("properties")),
                    "timestamp": str(e.get("timestamp")),
                },
            )
            for e in relevant
            if _matches(trigger, e) and str(e["account_id"]) in ids
        ]
        started += enrol(session, playbook, definition, candidates, now=now)
    return started


def _rule_candidates(session: Session, as_of: dt.date, trigger: RuleTrigger) -> list[Candidate]:
    """Alert episodes of `as_of` that opened (fired) or closed because the signal cleared."""
    if trigger.on == "fired":
        where = [Alert.opened_as_of == as_of, Alert.closed_as_of.is_(None)]
    else:
        where = [Alert.closed_as_of == as_of, Alert.status == AlertStatus.CLOSED.value]
    if trigger.rule != "*":
        where.append(Alert.rule_id == trigger.rule)
    rows = session.execute(
        select(
            Alert.id, Alert.account_id, Alert.rule_id, Alert.rule_name, Alert.severity,
            Alert.evidence,
        ).where(*where).order_by(Alert.id)
    ).all()  # fmt: skip
    return [
        Candidate(
            r.account_id,
            f"alert:{r.id}:{trigger.on}",
            {
                "trigger": "rule",
                "on": trigger.on,
                "alert_id": r.id,
                "rule_id": r.rule_id,
                "rule_name": r.rule_name,
                "severity": r.severity,
                "evidence": r.evidence,
                "as_of": as_of.isoformat(),
            },
        )
        for r in rows
    ]


def _previous(session: Session, as_of: dt.date, column: str) -> dict[int, str]:
    """Each account's `column` on the last scored date before `as_of`."""
    day = session.scalar(select(func.max(ScoreSnapshot.as_of)).where(ScoreSnapshot.as_of < as_of))
    if day is None:
        return {}
    rows = session.execute(
        select(ScoreSnapshot.account_id, getattr(ScoreSnapshot, column)).where(
            ScoreSnapshot.as_of == day
        )
    )
    return {int(a): str(v) for a, v in rows}


def _entry_candidates(
    session: Session,
    as_of: dt.date,
    scores: pd.DataFrame,
    column: str,
    value: str,
    new_customer_days: int,
) -> list[Candidate]:
    """Accounts whose `column` is `value` on `as_of` and was something else on the previous
    scored date; accounts first scored now count if they became customers recently."""
    now_in = scores.index[scores[column] == value].tolist()
    if not now_in:
        return []
    before = _previous(session, as_of, column)
    first_seen = [int(a) for a in now_in if int(a) not in before]
    recent: set[int] = set()
    since = as_of - dt.timedelta(days=new_customer_days)
    for start in range(0, len(first_seen), _CHUNK):
        recent.update(
            session.scalars(
                select(Account.id).where(
                    Account.id.in_(first_seen[start : start + _CHUNK]),
                    Account.customer_since >= since,
                )
            )
        )
    kind = "stage" if column == "lifecycle_stage" else "quadrant"
    return [
        Candidate(
            int(a),
            f"{kind}:{value}:{as_of.isoformat()}",
            {
                "trigger": kind,
                kind: value,
                "previous": before.get(int(a)),
                "as_of": as_of.isoformat(),
            },
        )
        for a in now_in
        if (int(a) in before and before[int(a)] != value) or int(a) in recent
    ]


def on_scored(
    session: Session, *, as_of: dt.date, scores: pd.DataFrame, now: dt.datetime
) -> list[PlaybookRun]:
    """After a scoring run wrote snapshots and reconciled alerts: enrol for rules that fired
    or cleared on `as_of`, and for stages and quadrants entered (`scores`: the run's
    scores, indexed by account id, with lifecycle_stage and quadrant)."""
    started: list[PlaybookRun] = []
    for playbook, definition in enabled_playbooks(session, "rule"):
        assert isinstance(definition.trigger, RuleTrigger)
        candidates = _rule_candidates(session, as_of, definition.trigger)
        started += enrol(session, playbook, definition, candidates, now=now)
    for kind, column in (("stage", "lifecycle_stage"), ("quadrant", "quadrant")):
        for playbook, definition in enabled_playbooks(session, kind):
            trigger = definition.trigger
            assert isinstance(trigger, StageTrigger | QuadrantTrigger)
            value = trigger.stage if isinstance(trigger, StageTrigger) else trigger.quadrant
            candidates = _entry_candidates(
                session, as_of, scores, column, value, trigger.new_customer_days
            )
            started += enrol(session, playbook, definition, candidates, now=now)
    return started


def period_key(trigger: ScheduleTrigger, today: dt.date) -> str | None:
    """The schedule period `today` falls in, once its day has come; None before that."""
    if trigger.every == "day":
        return today.isoformat()
    if trigger.every == "week":
        if today.isoweekday() < trigger.weekday:
            return None
        year, week, _ = today.isocalendar()
        return f"{year}-W{week:02d}"
    if today.day < trigger.day:
        return None
    return f"{today.year}-{today.month:02d}"


def run_schedules(
    session: Session, *, now: dt.datetime, today: dt.date | None = None
) -> list[PlaybookRun]:
    """Enrol the accounts each schedule playbook covers for the current period (once)."""
    today = today or now.date()
    started: list[PlaybookRun] = []
    for playbook, definition in enabled_playbooks(session, "schedule"):
        trigger = definition.trigger
        assert isinstance(trigger, ScheduleTrigger)
        period = period_key(trigger, today)
        if period is None:
            continue
        where = [Account.status == AccountStatus.ACTIVE.value]
        if trigger.stages:
            where.append(LatestScore.lifecycle_stage.in_(trigger.stages))
        if trigger.quadrants:
            where.append(LatestScore.quadrant.in_(trigger.quadrants))
        rows = session.execute(
            select(Account.id, LatestScore.lifecycle_stage, LatestScore.quadrant)
            .join(LatestScore, and_(LatestScore.account_id == Account.id))
            .where(*where)
            .order_by(Account.id)
        ).all()
        candidates = [
            Candidate(
                r.id,
                f"schedule:{period}",
                {"trigger": "schedule", "period": period, "stage": r.lifecycle_stage,
                 "quadrant": r.quadrant},
            )
            for r in rows
        ]  # fmt: skip
        started += enrol(session, playbook, definition, candidates, now=now)
    return started
