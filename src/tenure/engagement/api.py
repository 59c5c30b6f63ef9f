"""REST endpoints of playbooks, their runs, tasks and cases, and the outbox.

Everyone signed in reads; admins build and edit playbooks; a run or a task is changed by
admins, managers and the csm who owns its account.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import Field

from tenure.accounts.api import Limit, Offset, WriterPrincipal
from tenure.accounts.service import MAX_ID
from tenure.accounts.writes import Forbidden
from tenure.api import WritePayload
from tenure.auth.deps import AdminPrincipal, CurrentPrincipal, Principal, require_principal
from tenure.engagement import service, tasks
from tenure.engagement.api_outbox import router as outbox_router
from tenure.engagement.schemas import (
    PlaybookPatch,
    PlaybookRead,
    PlaybookWrite,
    RunRead,
    TaskRead,
)
from tenure.kit.deps import SessionDep
from tenure.kit.pagination import DEFAULT_LIMIT, Page

router = APIRouter(tags=["playbooks"], dependencies=[Depends(require_principal)])
router.include_router(outbox_router)

PlaybookKey = Annotated[str, Path(min_length=1, max_length=100, description="the playbook key")]
RunId = Annotated[int, Path(ge=1, le=MAX_ID, description="the run's id")]
TaskId = Annotated[int, Path(ge=1, le=MAX_ID, description="the task's id")]


class TaskStatusBody(WritePayload):
    """The new status of a task."""

    status: str = Field(pattern="^(open|done|cancelled)$")


class _Owned:
    def __init__(self, owner_id: int | None) -> None:
        self.owner_id = owner_id


def _check_account(principal: Principal, owner_id: int | None, what: str) -> None:
    if not principal.can_write_account(_Owned(owner_id)):
        raise Forbidden(f"role {principal.role} may not change {what} of another csm's account")


@router.get("/playbooks", response_model=list[PlaybookRead])
def list_playbooks(session: SessionDep) -> list[PlaybookRead]:
    """Every playbook with its trigger, steps and run counts."""
    return service.list_playbooks(session)


@router.post("/playbooks", response_model=PlaybookRead, status_code=201)
def create_playbook(
    session: SessionDep, principal: AdminPrincipal, body: PlaybookWrite
) -> PlaybookRead:
    """Create a playbook (admins; 409 when the key is taken)."""
    playbook = service.create_playbook(session, principal, body)
    return service.read_playbook(session, playbook.id)


@router.post("/playbooks/install-shipped")
def install_shipped(session: SessionDep, principal: AdminPrincipal) -> dict[str, str]:
    """Add or refresh the playbooks shipped from the strategy guide (admins)."""
    return service.install_shipped(session, principal)


@router.get("/playbooks/{key}", response_model=PlaybookRead)
def get_playbook(session: SessionDep, key: PlaybookKey) -> PlaybookRead:
    """One playbook."""
    return service.read_playbook(session, key)


@router.patch("/playbooks/{key}", response_model=PlaybookRead)
def update_playbook(
    session: SessionDep, principal: AdminPrincipal, key: PlaybookKey, body: PlaybookPatch
) -> PlaybookRead:
    """Change a playbook (admins); a new definition bumps its version."""
    playbook = service.update_playbook(session, principal, key, body)
    return service.read_playbook(session, playbook.id)


@router.delete("/playbooks/{key}", status_code=204)
def delete_playbook(session: SessionDep, principal: AdminPrincipal, key: PlaybookKey) -> None:
    """Delete a playbook and its runs (admins)."""
    service.delete_playbook(session, principal, key)


@router.get("/playbook-runs", response_model=Page[RunRead])
def list_runs(
    session: SessionDep,
    account: Annotated[str | None, Query(description="account id or external id")] = None,
    playbook: Annotated[str | None, Query(description="playbook key")] = None,
    status: Annotated[str | None, Query(description="active, completed, cancelled, failed")] = None,
    steps: Annotated[bool, Query(description="include each run's step log")] = False,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[RunRead]:
    """Playbook runs, newest first: what fired, why, and (with steps) what was sent."""
    return service.list_runs(
        session, account=account, playbook=playbook, status=status, with_steps=steps,
        limit=limit, offset=offset,
    )  # fmt: skip


@router.get("/playbook-runs/{run_id}", response_model=RunRead)
def get_run(session: SessionDep, run_id: RunId) -> RunRead:
    """One run with every step it logged."""
    return service.get_run(session, run_id)


@router.post("/playbook-runs/{run_id}/cancel", response_model=RunRead)
def cancel_run(session: SessionDep, principal: WriterPrincipal, run_id: RunId) -> RunRead:
    """Stop an active run (admins, managers, the account's csm)."""
    run = service.get_run(session, run_id)
    _check_account(principal, service.account_owner(session, run.account_id), "a run")
    return service.cancel_run(session, principal, run_id)


@router.get("/tasks", response_model=Page[TaskRead])
def list_tasks(
    session: SessionDep,
    principal: CurrentPrincipal,
    mine: Annotated[bool, Query(description="only tasks owned by the caller")] = False,
    account: Annotated[str | None, Query(description="account id or external id")] = None,
    status: Annotated[str | None, Query(description="open (default), done, cancelled")] = "open",
    kind: Annotated[str | None, Query(description="task or case")] = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[TaskRead]:
    """Tasks and cases, most urgent first."""
    return tasks.list_tasks(
        session, owner_id=principal.user.id if mine else None, account=account, status=status,
        kind=kind, limit=limit, offset=offset,
    )  # fmt: skip


@router.get("/tasks/{task_id}", response_model=TaskRead)
def get_task(session: SessionDep, task_id: TaskId) -> TaskRead:
    """One task or case."""
    return tasks.read_task(session, task_id)


@router.post("/tasks/{task_id}/status", response_model=TaskRead)
def set_task_status(
    session: SessionDep, principal: WriterPrincipal, task_id: TaskId, body: TaskStatusBody
) -> TaskRead:
    """Complete, cancel or reopen a task (admins, managers, its owner or the account's csm)."""
    task = tasks.get_task(session, task_id)
    if task.owner_id != principal.user.id:
        _check_account(principal, service.account_owner(session, task.account_id), "a task")
    return tasks.set_task_status(session, principal, task_id, body.status)
