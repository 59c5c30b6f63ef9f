"""Enrolling accounts in playbooks: conditions, re-enrolment and cooldown, once per trigger.

Every trigger (events, rules, stages, quadrants, schedules; see `triggers.py`) ends here
with candidates `(account id, trigger key, reason)`. Enrolment is set-based: one query for
the candidates' latest scores (conditions), one for their earlier runs, one insert.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from tenure.db import table_of
from tenure.engagement.models import Playbook, PlaybookRun, RunStatus
from tenure.engagement.schemas import SCORE_NAMES, PlaybookDefinition, condition_rule
from tenure.scoring.models import LatestScore, ScoreSnapshot

_CHUNK = 500


@dataclass(frozen=True)
class Candidate:
    """An account a trigger wants to enrol, the key that makes it once, and why."""

    account_id: int
    trigger_key: str
    reason: dict[str, Any] = field(default_factory=dict)


def enabled_playbooks(
    session: Session, trigger_type: str
) -> list[tuple[Playbook, PlaybookDefinition]]:
    """Enabled playbooks of one trigger type with their parsed definitions."""
    rows = session.scalars(
        select(Playbook)
        .where(Playbook.trigger_type == trigger_type, Playbook.enabled)
        .order_by(Playbook.id)
    ).all()
    return [(p, PlaybookDefinition.model_validate(p.definition)) for p in rows]


def _chunks(ids: Sequence[int]) -> list[list[int]]:
    return [list(ids[i : i + _CHUNK]) for i in range(0, len(ids), _CHUNK)]


def latest_frame(session: Session, account_ids: Sequence[int]) -> pd.DataFrame:
    """Features and score columns of each account's latest snapshot, indexed by account."""
    snap = ScoreSnapshot
    records: list[dict[str, Any]] = []
    for chunk in _chunks(sorted(set(account_ids))):
        rows = session.execute(
            select(snap.account_id, snap.features, *(getattr(snap, n) for n in SCORE_NAMES))
            .join(
                LatestScore,
                (LatestScore.account_id == snap.account_id) & (LatestScore.as_of == snap.as_of),
            )
            .where(snap.account_id.in_(chunk))
        ).all()
        for row in rows:
            record = dict(row.features or {})
            record.update({n: getattr(row, n) for n in SCORE_NAMES})
            record["account_id"] = row.account_id
            records.append(record)
    if not records:
        return pd.DataFrame(index=pd.Index([], name="account_id"))
    return pd.DataFrame.from_records(records).set_index("account_id")


def matching(
    session: Session, definition: PlaybookDefinition, account_ids: Sequence[int]
) -> set[int]:
    """The accounts of `account_ids` meeting the playbook's conditions (all, if none)."""
    if not definition.conditions:
        return set(account_ids)
    rule = condition_rule(definition.conditions)
    frame = latest_frame(session, account_ids)
    if frame.empty:
        return set()
    for name in rule.features:
        if name not in frame.columns:
            frame[name] = None
    mask = rule.evaluate(frame)
    return {int(i) for i in frame.index[mask]}


def enrol(
    session: Session,
    playbook: Playbook,
    definition: PlaybookDefinition,
    candidates: Sequence[Candidate],
    *,
    now: dt.datetime,
) -> list[PlaybookRun]:
    """Start a run for each candidate allowed by conditions and re-enrolment; returns them.

    Schedules enrol once per period (each period is a new trigger key) whatever `reenrol`
    says; `cooldown_days` still applies to them.
    """
    if not candidates:
        return []
    ids = sorted({c.account_id for c in candidates})
    allowed = matching(session, definition, ids)
    runs = table_of(PlaybookRun)
    history: dict[int, tuple[int, dt.datetime | None]] = {}
    keys: set[tuple[int, str]] = set()
    for chunk in _chunks(ids):
        for account_id, active, last in session.execute(
            select(
                runs.c.account_id,
                func.sum(case((runs.c.status == RunStatus.ACTIVE.value, 1), else_=0)),
                func.max(runs.c.started_at),
            )
            .where(runs.c.playbook_id == playbook.id, runs.c.account_id.in_(chunk))
            .group_by(runs.c.account_id)
        ):
            history[int(account_id)] = (int(active or 0), last)
        wanted = [c.trigger_key for c in candidates if c.account_id in set(chunk)]
        for account_id, key in session.execute(
            select(runs.c.account_id, runs.c.trigger_key).where(
                runs.c.playbook_id == playbook.id,
                runs.c.account_id.in_(chunk),
                runs.c.trigger_key.in_(sorted(set(wanted))),
            )
        ):
            keys.add((int(account_id), key))

    policy = "always" if definition.trigger.type == "schedule" else definition.reenrol
    cooldown = dt.timedelta(days=definition.cooldown_days)
    started: list[PlaybookRun] = []
    seen: set[int] = set()
    for c in candidates:
        if c.account_id not in allowed or (policy != "always" and c.account_id in seen):
            continue
        if (c.account_id, c.trigger_key) in keys:
            continue
        active, last = history.get(c.account_id, (0, None))
        if policy == "never" and last is not None:
            continue
        if policy == "after_cooldown" and (active or (last is not None and now - last < cooldown)):
            continue
        recent = last is not None and now - last < cooldown
        if policy == "always" and definition.cooldown_days and recent:
            continue
        run = PlaybookRun(
            playbook_id=playbook.id,
            playbook_version=playbook.version,
            account_id=c.account_id,
            trigger_key=c.trigger_key,
            reason=c.reason,
            status=RunStatus.ACTIVE.value,
            step_index=0,
            next_step_at=now,
            started_at=now,
        )
        session.add(run)
        started.append(run)
        seen.add(c.account_id)
    session.flush()
    return started
