"""Playbooks, their runs and tasks: create, edit, install the shipped ones, read.

Services flush and never commit; every change is audit-logged with its actor.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from tenure.accounts.models import Account
from tenure.accounts.service import resolve_account_id
from tenure.auth import audit
from tenure.auth.deps import Principal
from tenure.engagement.models import (
    Playbook,
    PlaybookRun,
    PlaybookStepLog,
    RunStatus,
    Task,
    TaskStatus,
)
from tenure.engagement.outbox import utcnow
from tenure.engagement.schemas import (
    PlaybookDefinition,
    PlaybookPatch,
    PlaybookRead,
    PlaybookWrite,
    RunRead,
    StepLogRead,
)
from tenure.engagement.shipped import SHIPPED
from tenure.errors import ResourceAlreadyExists, ResourceNotFound, TenureError
from tenure.kit.pagination import DEFAULT_LIMIT, Page, check_choice, check_paging

_FIELDS = ("key", "name", "description", "enabled", "definition", "version")
RUN_STATUSES = tuple(s.value for s in RunStatus)


def _counts(session: Session, ids: list[int]) -> dict[int, tuple[int, int]]:
    if not ids:
        return {}
    rows = session.execute(
        select(
            PlaybookRun.playbook_id,
            func.sum(case((PlaybookRun.status == RunStatus.ACTIVE.value, 1), else_=0)),
            func.count(),
        )
        .where(PlaybookRun.playbook_id.in_(ids))
        .group_by(PlaybookRun.playbook_id)
    ).all()
    return {int(p): (int(a or 0), int(n)) for p, a, n in rows}


def _read(playbook: Playbook, counts: tuple[int, int] = (0, 0)) -> PlaybookRead:
    read = PlaybookRead.model_validate(playbook)
    read.runs_active, read.runs_total = counts
    return read


def list_playbooks(session: Session) -> list[PlaybookRead]:
    """Every playbook with its active and total run counts."""
    playbooks = list(session.scalars(select(Playbook).order_by(Playbook.key)))
    counts = _counts(session, [p.id for p in playbooks])
    return [_read(p, counts.get(p.id, (0, 0))) for p in playbooks]


def get_playbook(session: Session, key: str | int) -> Playbook:
    """A playbook by key or id."""
    column = Playbook.id if isinstance(key, int) else Playbook.key
    playbook = session.scalar(select(Playbook).where(column == key))
    if playbook is None:
        raise ResourceNotFound(f"no playbook has {'id' if isinstance(key, int) else 'key'} {key!r}")
    return playbook


def exists(key: object) -> Any:
    """A statement selecting the id of the playbook with `key` (None when there is none)."""
    return select(Playbook.id).where(Playbook.key == str(key))


def read_playbook(session: Session, key: str | int) -> PlaybookRead:
    """A playbook with its run counts."""
    playbook = get_playbook(session, key)
    return _read(playbook, _counts(session, [playbook.id]).get(playbook.id, (0, 0)))


def _check_templates(session: Session, definition: PlaybookDefinition) -> None:
    """Refuse steps naming a template key that has no variant at all."""
    from tenure.content.models import MessageTemplate

    keys = {s.template for s in definition.steps if hasattr(s, "template")}
    if not keys:
        return
    known = set(session.scalars(select(MessageTemplate.key).where(MessageTemplate.key.in_(keys))))
    for index, step in enumerate(definition.steps):
        template = getattr(step, "template", None)
        if template is not None and template not in known:
            raise TenureError(
                f"definition.steps[{index}].template: no template has key {template!r}"
            )


def create_playbook(session: Session, actor: Principal | str, body: PlaybookWrite) -> Playbook:
    """Add a playbook; its key must be new."""
    if session.scalar(select(Playbook.id).where(Playbook.key == body.key)) is not None:
        raise ResourceAlreadyExists(f"a playbook with key {body.key!r} exists already")
    _check_templates(session, body.definition)
    playbook = Playbook(
        key=body.key,
        name=body.name,
        description=body.description,
        enabled=body.enabled,
        shipped=False,
        trigger_type=body.definition.trigger.type,
        definition=body.definition.model_dump(mode="json"),
        version=1,
        updated_by_id=None if isinstance(actor, str) else actor.user.id,
    )
    session.add(playbook)
    session.flush()
    audit.record(session, actor=actor, action="create", entity="playbook", entity_id=playbook.key,
                 after=audit.snapshot(playbook, _FIELDS))  # fmt: skip
    return playbook


def update_playbook(
    session: Session, actor: Principal | str, key: str | int, patch: PlaybookPatch
) -> Playbook:
    """Change a playbook; a new definition bumps its version (running runs keep going on
    the new steps from their current position)."""
    playbook = get_playbook(session, key)
    before = audit.snapshot(playbook, _FIELDS)
    changes = patch.model_dump(exclude_unset=True)
    if "definition" in changes and patch.definition is not None:
        _check_templates(session, patch.definition)
        playbook.definition = patch.definition.model_dump(mode="json")
        playbook.trigger_type = patch.definition.trigger.type
        playbook.version += 1
    for name in ("name", "description", "enabled"):
        if name in changes:
            setattr(playbook, name, changes[name])
    playbook.shipped = False
    if not isinstance(actor, str):
        playbook.updated_by_id = actor.user.id
    session.flush()
    audit.record(session, actor=actor, action="update", entity="playbook", entity_id=playbook.key,
                 before=before, after=audit.snapshot(playbook, _FIELDS))  # fmt: skip
    return playbook


def delete_playbook(session: Session, actor: Principal | str, key: str | int) -> None:
    """Remove a playbook with its runs (their messages stay in the outbox)."""
    playbook = get_playbook(session, key)
    before = audit.snapshot(playbook, _FIELDS)
    session.delete(playbook)
    session.flush()
    audit.record(session, actor=actor, action="delete", entity="playbook",
                 entity_id=before["key"], before=before)  # fmt: skip


def install_shipped(session: Session, actor: Principal | str = "system") -> dict[str, str]:
    """Add or refresh the shipped playbooks and the templates they send; a playbook or
    template an admin edited is left alone."""
    from tenure.content.install import install_shipped as install_content

    install_content(session, actor)
    outcome: dict[str, str] = {}
    for spec in SHIPPED:
        definition = PlaybookDefinition.model_validate(spec["definition"])
        existing = session.scalar(select(Playbook).where(Playbook.key == spec["key"]))
        if existing is None:
            playbook = Playbook(
                key=spec["key"], name=spec["name"], description=spec["description"],
                enabled=True, shipped=True, trigger_type=definition.trigger.type,
                definition=definition.model_dump(mode="json"), version=1,
            )  # fmt: skip
            session.add(playbook)
            outcome[spec["key"]] = "added"
        elif not existing.shipped:
            outcome[spec["key"]] = "kept (edited)"
        elif existing.definition != definition.model_dump(mode="json") or (
            existing.name != spec["name"]
        ):
            existing.definition = definition.model_dump(mode="json")
            existing.trigger_type = definition.trigger.type
            existing.name, existing.description = spec["name"], spec["description"]
            existing.version += 1
            outcome[spec["key"]] = "updated"
        else:
            outcome[spec["key"]] = "unchanged"
    session.flush()
    if any(v in ("added", "updated") for v in outcome.values()):
        audit.record(session, actor=actor, action="install", entity="playbook", entity_id=None,
                     after=outcome)  # fmt: skip
    return outcome


def _run_select() -> Any:
    return (
        select(
            PlaybookRun,
            Playbook.key.label("playbook_key"),
            Playbook.name.label("playbook_name"),
            Account.external_id.label("account_external_id"),
            Account.name.label("account_name"),
        )
        .join(Playbook, Playbook.id == PlaybookRun.playbook_id)
        .join(Account, Account.id == PlaybookRun.account_id)
    )


def _run_read(row: Any, steps: list[PlaybookStepLog] | None = None) -> RunRead:
    run: PlaybookRun = row[0]
    return RunRead(
        id=run.id,
        playbook_key=row.playbook_key,
        playbook_name=row.playbook_name,
        playbook_version=run.playbook_version,
        account_id=run.account_id,
        account_external_id=row.account_external_id,
        account_name=row.account_name,
        trigger_key=run.trigger_key,
        reason=run.reason or {},
        status=run.status,
        step_index=run.step_index,
        next_step_at=run.next_step_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        steps=[StepLogRead.model_validate(s) for s in steps or []],
    )


def list_runs(
    session: Session,
    *,
    account: int | str | None = None,
    playbook: str | None = None,
    status: str | None = None,
    with_steps: bool = False,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[RunRead]:
    """Runs, newest first, filtered by account, playbook key and status."""
    check_paging(limit, offset)
    stmt = _run_select()
    if account is not None:
        stmt = stmt.where(PlaybookRun.account_id == resolve_account_id(session, account))
    if playbook is not None:
        stmt = stmt.where(Playbook.key == playbook)
    if status is not None:
        stmt = stmt.where(PlaybookRun.status == check_choice("status", status, RUN_STATUSES))
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.execute(
        stmt.order_by(PlaybookRun.started_at.desc(), PlaybookRun.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    logs: dict[int, list[PlaybookStepLog]] = {}
    if with_steps and rows:
        for log in session.scalars(
            select(PlaybookStepLog)
            .where(PlaybookStepLog.run_id.in_([r[0].id for r in rows]))
            .order_by(PlaybookStepLog.id)
        ):
            logs.setdefault(log.run_id, []).append(log)
    items = [_run_read(r, logs.get(r[0].id)) for r in rows]
    return Page[RunRead](items=items, total=total or 0, limit=limit, offset=offset)


def get_run(session: Session, run_id: int) -> RunRead:
    """One run with every step it logged."""
    row = session.execute(_run_select().where(PlaybookRun.id == run_id)).first()
    if row is None:
        raise ResourceNotFound(f"no playbook run has id {run_id}")
    steps = list(
        session.scalars(
            select(PlaybookStepLog)
            .where(PlaybookStepLog.run_id == run_id)
            .order_by(PlaybookStepLog.id)
        )
    )
    return _run_read(row, steps)


def cancel_run(session: Session, actor: Principal | str, run_id: int) -> RunRead:
    """Stop an active run (its queued messages stay queued; cancel them in the outbox)."""
    run = session.get(PlaybookRun, run_id)
    if run is None:
        raise ResourceNotFound(f"no playbook run has id {run_id}")
    if run.status == RunStatus.ACTIVE.value:
        run.status = RunStatus.CANCELLED.value
        run.finished_at = utcnow()
        run.next_step_at = None
        session.flush()
        audit.record(session, actor=actor, action="cancel", entity="playbook_run", entity_id=run.id)
    return get_run(session, run_id)


def account_owner(session: Session, account_id: int) -> int | None:
    """The owner user id of an account (for permission checks on runs and tasks)."""
    owner: int | None = session.scalar(select(Account.owner_id).where(Account.id == account_id))
    return owner


def due_summary(session: Session, now: dt.datetime | None = None) -> dict[str, int]:
    """Active runs, runs due now, open tasks: for the engine's log line and the UI."""
    now = now or utcnow()
    active = session.scalar(
        select(func.count()).where(PlaybookRun.status == RunStatus.ACTIVE.value)
    )
    due = session.scalar(
        select(func.count()).where(
            PlaybookRun.status == RunStatus.ACTIVE.value, PlaybookRun.next_step_at <= now
        )
    )
    tasks = session.scalar(select(func.count()).where(Task.status == TaskStatus.OPEN.value))
    return {
        "active_runs": int(active or 0),
        "due_runs": int(due or 0),
        "open_tasks": int(tasks or 0),
    }
