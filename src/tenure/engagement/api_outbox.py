"""REST endpoints of the outbox: list and read messages, retry a dead one, cancel a queued one.

Everyone signed in reads, except that a csm sees only the messages of accounts they own;
retry and cancel need the admin or manager role.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from tenure.accounts.api import Limit, Offset
from tenure.accounts.models import Role
from tenure.accounts.service import MAX_ID
from tenure.accounts.writes import Forbidden
from tenure.auth.deps import CurrentPrincipal, Principal, require_principal, require_role
from tenure.engagement import outbox_admin
from tenure.engagement.schemas_outbox import OutboxDetail, OutboxRead
from tenure.kit.deps import SessionDep
from tenure.kit.pagination import DEFAULT_LIMIT, Page

MessageId = Annotated[int, Path(ge=1, le=MAX_ID, description="the outbox message's id")]
OutboxOperator = Annotated[
    Principal,
    Depends(require_role(Role.ADMIN, Role.MANAGER, action="retry or cancel outbox messages")),
]

router = APIRouter(tags=["outbox"], dependencies=[Depends(require_principal)])


def owned_by(principal: Principal) -> int | None:
    """The user whose accounts' messages `principal` is limited to (csm), else None."""
    return principal.user.id if principal.role == Role.CSM.value else None


def readable(principal: Principal, message: OutboxRead, owner_id: int | None) -> bool:
    """Whether `principal` may read `message`, whose account is owned by `owner_id`."""
    limit = owned_by(principal)
    return limit is None or (message.account_id is not None and owner_id == limit)


@router.get("/outbox", response_model=Page[OutboxRead])
def list_outbox_endpoint(
    session: SessionDep,
    principal: CurrentPrincipal,
    status: Annotated[
        str | None, Query(description="queued, sending, sent, failed, dead or cancelled")
    ] = None,
    account: Annotated[str | None, Query(description="account id or external id")] = None,
    channel: Annotated[str | None, Query(description="channel kind, e.g. email")] = None,
    source: Annotated[
        str | None, Query(description="exact source, or a prefix ending in ':' (playbook:)")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[OutboxRead]:
    """List outbox messages, newest first (a csm sees those of accounts they own)."""
    return outbox_admin.list_outbox(
        session, status=status, account=account, channel=channel, source=source,
        owned_by=owned_by(principal), limit=limit, offset=offset,
    )  # fmt: skip


@router.get("/outbox/{message_id}", response_model=OutboxDetail)
def get_outbox_endpoint(
    session: SessionDep, principal: CurrentPrincipal, message_id: MessageId
) -> OutboxDetail:
    """Read one outbox message with its content, status and last error."""
    message = outbox_admin.get_outbox(session, message_id)
    if not readable(principal, message, outbox_admin.account_owner(session, message.account_id)):
        raise Forbidden(
            f"a csm may read only the messages of accounts they own; message {message_id} is not"
        )
    return message


@router.post("/outbox/{message_id}/retry", response_model=OutboxDetail)
def retry_outbox_endpoint(
    session: SessionDep, principal: OutboxOperator, message_id: MessageId
) -> OutboxDetail:
    """Queue a dead or failed message again, due now, with its attempts reset."""
    return outbox_admin.retry(session, message_id, actor=principal)


@router.post("/outbox/{message_id}/cancel", response_model=OutboxDetail)
def cancel_outbox_endpoint(
    session: SessionDep, principal: OutboxOperator, message_id: MessageId
) -> OutboxDetail:
    """Cancel a queued or failed message so it is never sent."""
    return outbox_admin.cancel(session, message_id, actor=principal)
