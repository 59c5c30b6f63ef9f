"""Tasks and cases for CSMs: list them, read one, complete, cancel or reopen it.

Services flush and never commit; every change is audit-logged with its actor.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from tenure.accounts.models import Account, User
from tenure.accounts.service import resolve_account_id
from tenure.auth import audit
from tenure.auth.deps import Principal
from tenure.engagement.models import Task, TaskStatus
from tenure.engagement.outbox import utcnow
from tenure.engagement.schemas import TaskRead
from tenure.errors import ResourceNotFound
from tenure.kit.pagination import DEFAULT_LIMIT, Page, check_choice, check_paging

TASK_STATUSES = tuple(s.value for s in TaskStatus)


def _task_select() -> Any:
    return (
        select(
            Task,
            Account.external_id.label("account_external_id"),
            Account.name.label("account_name"),
            User.name.label("owner_name"),
        )
        .join(Account, Account.id == Task.account_id)
        .outerjoin(User, User.id == Task.owner_id)
    )


def _task_read(row: Any) -> TaskRead:
    task: Task = row[0]
    return TaskRead(
        id=task.id, kind=task.kind, account_id=task.account_id,
        account_external_id=row.account_external_id, account_name=row.account_name,
        owner_id=task.owner_id, owner_name=row.owner_name, title=task.title, detail=task.detail,
        priority=task.priority, due_date=task.due_date, status=task.status, run_id=task.run_id,
        alert_id=task.alert_id, created_at=task.created_at, completed_at=task.completed_at,
    )  # fmt: skip


def list_tasks(
    session: Session,
    *,
    owner_id: int | None = None,
    account: int | str | None = None,
    status: str | None = "open",
    kind: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[TaskRead]:
    """Tasks and cases, the most urgent first (due date, then priority)."""
    check_paging(limit, offset)
    stmt = _task_select()
    if owner_id is not None:
        stmt = stmt.where(Task.owner_id == owner_id)
    if account is not None:
        stmt = stmt.where(Task.account_id == resolve_account_id(session, account))
    if status is not None:
        stmt = stmt.where(Task.status == check_choice("status", status, TASK_STATUSES))
    if kind is not None:
        stmt = stmt.where(Task.kind == check_choice("kind", kind, ("task", "case")))
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    priority = case({"high": 0, "normal": 1, "low": 2}, value=Task.priority, else_=3)
    rows = session.execute(
        stmt.order_by(Task.due_date.is_(None), Task.due_date, priority, Task.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return Page[TaskRead](items=[_task_read(r) for r in rows], total=total or 0, limit=limit,
                          offset=offset)  # fmt: skip


def get_task(session: Session, task_id: int) -> Task:
    """A task by id."""
    task = session.get(Task, task_id)
    if task is None:
        raise ResourceNotFound(f"no task has id {task_id}")
    return task


def read_task(session: Session, task_id: int) -> TaskRead:
    """A task with its account and owner names."""
    row = session.execute(_task_select().where(Task.id == task_id)).first()
    if row is None:
        raise ResourceNotFound(f"no task has id {task_id}")
    return _task_read(row)


def set_task_status(
    session: Session, actor: Principal | str, task_id: int, status: str
) -> TaskRead:
    """Complete, cancel or reopen a task."""
    task = get_task(session, task_id)
    check_choice("status", status, TASK_STATUSES)
    before = {"status": task.status}
    task.status = status
    task.completed_at = utcnow() if status == TaskStatus.DONE.value else None
    session.flush()
    audit.record(session, actor=actor, action="update", entity="task", entity_id=task.id,
                 before=before, after={"status": status})  # fmt: skip
    return read_task(session, task_id)
