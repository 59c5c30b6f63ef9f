"""REST endpoints of alerts: list, read, and the workflow actions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import Field

from tenure.accounts.api import Limit, Offset, WriterPrincipal
from tenure.accounts.service import MAX_ID, resolve_account_id
from tenure.api import WritePayload
from tenure.auth.deps import require_principal
from tenure.kit.deps import SessionDep
from tenure.kit.pagination import DEFAULT_LIMIT, Page
from tenure.risk import workflow
from tenure.risk.queries import list_alerts
from tenure.risk.schemas import AlertRead
from tenure.risk.workflow import AlertDetail

AlertId = Annotated[int, Path(ge=1, le=MAX_ID, description="the alert's id")]


class AssignBody(WritePayload):
    """Who works the alert: a user's external id or e-mail; null unassigns it."""

    assignee: str | None = Field(max_length=255)


class ResolveBody(WritePayload):
    """What was done about the alert."""

    note: str | None = Field(None, max_length=10_000)


class DismissBody(WritePayload):
    """Why the alert needs no action."""

    reason: str = Field(min_length=1, max_length=10_000)


router = APIRouter(tags=["alerts"], dependencies=[Depends(require_principal)])


@router.get("/alerts", response_model=Page[AlertRead])
def list_alerts_endpoint(
    session: SessionDep,
    status: Annotated[
        str, Query(description="open (open or acknowledged), all, or one status")
    ] = "open",
    severity: str | None = None,
    rule: str | None = None,
    owner: Annotated[str | None, Query(description="assignee, else account owner")] = None,
    account: Annotated[str | None, Query(description="account id or external id")] = None,
    sort: str = "-severity",
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[AlertRead]:
    """List alerts, open ones by default, most severe and newest first."""
    account_id = resolve_account_id(session, account) if account is not None else None
    return list_alerts(
        session, status=status, severity=severity, rule=rule, owner=owner, account=account_id,
        sort=sort, limit=limit, offset=offset,
    )  # fmt: skip


@router.get("/alerts/{alert_id}", response_model=AlertDetail)
def get_alert_endpoint(session: SessionDep, alert_id: AlertId) -> AlertDetail:
    """Read one alert with its evidence, assignee and note."""
    return workflow.get_alert_detail(session, alert_id)


@router.post("/alerts/{alert_id}/assign", response_model=AlertDetail)
def assign_alert(
    session: SessionDep, principal: WriterPrincipal, alert_id: AlertId, body: AssignBody
) -> AlertDetail:
    """Assign an open or acknowledged alert to a user (null unassigns)."""
    return workflow.assign_alert(session, principal, alert_id, body.assignee)


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertDetail)
def acknowledge_alert(
    session: SessionDep, principal: WriterPrincipal, alert_id: AlertId
) -> AlertDetail:
    """Acknowledge an open alert."""
    return workflow.acknowledge_alert(session, principal, alert_id)


@router.post("/alerts/{alert_id}/resolve", response_model=AlertDetail)
def resolve_alert(
    session: SessionDep,
    principal: WriterPrincipal,
    alert_id: AlertId,
    body: ResolveBody | None = None,
) -> AlertDetail:
    """Resolve an acknowledged alert, with a note on what was done."""
    note = body.note if body is not None else None
    return workflow.resolve_alert(session, principal, alert_id, note)


@router.post("/alerts/{alert_id}/dismiss", response_model=AlertDetail)
def dismiss_alert(
    session: SessionDep, principal: WriterPrincipal, alert_id: AlertId, body: DismissBody
) -> AlertDetail:
    """Dismiss an open or acknowledged alert; a reason is required."""
    return workflow.dismiss_alert(session, principal, alert_id, body.reason)
