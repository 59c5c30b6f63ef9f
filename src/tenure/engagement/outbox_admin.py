"""Operators' view of the outbox: list, read, retry, cancel (flush only; the caller commits)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from tenure.accounts.models import Account
from tenure.accounts.service import resolve_account_id
from tenure.auth import audit
from tenure.engagement.models import OutboxMessage, OutboxStatus
from tenure.engagement.outbox import utcnow
from tenure.engagement.outbox_claims import changed
from tenure.engagement.schemas_outbox import OUTBOX_STATUSES, OutboxDetail, OutboxRead
from tenure.errors import ResourceNotFound, TenureError
from tenure.kit.pagination import DEFAULT_LIMIT, Page, check_choice, check_paging

if TYPE_CHECKING:
    from tenure.auth.deps import Principal

PAST = {"retry": "retried", "cancel": "cancelled"}


class InvalidOutboxState(TenureError):
    """The message is not in a status the requested change applies to."""

    status_code = 409


def _read_select() -> Any:
    return select(
        OutboxMessage,
        Account.external_id.label("account_external_id"),
        Account.name.label("account_name"),
    ).outerjoin(Account, Account.id == OutboxMessage.account_id)


def _as_read(row: Any, model: type[OutboxRead]) -> Any:
    message, external_id, name = row
    fields = {
        name_: getattr(message, name_) for name_ in model.model_fields if hasattr(message, name_)
    }
    fields.update(account_external_id=external_id, account_name=name)
    return model.model_validate(fields)


def _owned_filter(owned_by: int | None) -> list[ColumnElement[bool]]:
    if owned_by is None:
        return []
    owned = select(Account.id).where(Account.owner_id == owned_by)
    return [OutboxMessage.account_id.in_(owned)]


def list_outbox(
    session: Session,
    *,
    status: str | None = None,
    account: int | str | None = None,
    channel: str | None = None,
    source: str | None = None,
    owned_by: int | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[OutboxRead]:
    """Outbox messages, newest first, filtered by status, account, channel and source.

    `source` matches exactly, or as a prefix when it ends with ":" (`playbook:` lists every
    playbook's messages); `owned_by` keeps the messages of accounts that user owns.
    """
    check_paging(limit, offset)
    where = _owned_filter(owned_by)
    if status is not None:
        where.append(OutboxMessage.status == check_choice("status", status, OUTBOX_STATUSES))
    if account is not None:
        where.append(OutboxMessage.account_id == resolve_account_id(session, account))
    if channel is not None:
        where.append(OutboxMessage.channel == channel)
    if source is not None:
        if source.endswith(":"):
            where.append(func.substr(OutboxMessage.source, 1, len(source)) == source)
        else:
            where.append(OutboxMessage.source == source)
    total = session.scalar(select(func.count()).select_from(OutboxMessage).where(*where))
    rows = session.execute(
        _read_select().where(*where).order_by(OutboxMessage.id.desc()).limit(limit).offset(offset)
    )
    return Page[OutboxRead](
        items=[_as_read(row, OutboxRead) for row in rows],
        total=total or 0,
        limit=limit,
        offset=offset,
    )


def status_counts(session: Session, *, owned_by: int | None = None) -> dict[str, int]:
    """How many messages are in each status (every status listed, zeros included)."""
    query = (
        select(OutboxMessage.status, func.count())
        .where(*_owned_filter(owned_by))
        .group_by(OutboxMessage.status)
    )
    found = {str(status): int(n) for status, n in session.execute(query)}
    return {status: found.get(status, 0) for status in OUTBOX_STATUSES}


def get_outbox(session: Session, message_id: int) -> OutboxDetail:
    """One outbox message with its content."""
    row = session.execute(_read_select().where(OutboxMessage.id == message_id)).first()
    if row is None:
        raise ResourceNotFound(f"no outbox message has id {message_id}")
    detail: OutboxDetail = _as_read(row, OutboxDetail)
    return detail


def account_owner(session: Session, account_id: int | None) -> int | None:
    """The id of the user owning `account_id` (None without an account or an owner)."""
    if account_id is None:
        return None
    owner: int | None = session.scalar(select(Account.owner_id).where(Account.id == account_id))
    return owner


def _transition(
    session: Session,
    message_id: int,
    *,
    allowed: tuple[str, ...],
    values: dict[str, Any],
    action: str,
    actor: Principal | str,
) -> OutboxDetail:
    """Apply `values` if the message is in one of `allowed` (checked in the UPDATE itself,
    so a dispatcher claiming it at the same moment cannot be overwritten), and audit it."""
    before = session.scalar(select(OutboxMessage.status).where(OutboxMessage.id == message_id))
    if before is None:
        raise ResourceNotFound(f"no outbox message has id {message_id}")
    stmt = (
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status.in_(allowed))
        .values(**values)
    )
    if not changed(session, stmt):
        current = session.scalar(select(OutboxMessage.status).where(OutboxMessage.id == message_id))
        raise InvalidOutboxState(
            f"outbox message {message_id} is {current}; only {' or '.join(allowed)} messages"
            f" can be {PAST[action]}"
        )
    audit.record(
        session, actor=actor, action=action, entity="outbox_message", entity_id=message_id,
        before={"status": before}, after=values,
    )  # fmt: skip
    session.expire_all()
    return get_outbox(session, message_id)


def retry(
    session: Session,
    message_id: int,
    *,
    actor: Principal | str = "system",
    now: dt.datetime | None = None,
) -> OutboxDetail:
    """Queue a dead or failed message again, due now, with its attempts reset."""
    values = {
        "status": OutboxStatus.QUEUED.value,
        "attempts": 0,
        "next_attempt_at": now or utcnow(),
        "lease_until": None,
    }
    allowed = (OutboxStatus.DEAD.value, OutboxStatus.FAILED.value)
    return _transition(
        session, message_id, allowed=allowed, values=values, action="retry", actor=actor
    )


def cancel(session: Session, message_id: int, *, actor: Principal | str = "system") -> OutboxDetail:
    """Cancel a queued or failed message: it will not be sent."""
    values = {"status": OutboxStatus.CANCELLED.value, "lease_until": None}
    allowed = (OutboxStatus.QUEUED.value, OutboxStatus.FAILED.value)
    return _transition(
        session, message_id, allowed=allowed, values=values, action="cancel", actor=actor
    )
