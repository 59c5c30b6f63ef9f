"""Claiming due outbox messages under a lease, renewing it, and checking a claim still holds."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Update, and_, or_, select, update
from sqlalchemy.orm import Session

from tenure.db import transaction
from tenure.engagement.models import OutboxMessage, OutboxStatus
from tenure.kit.runtime import Runtime

SENDING = OutboxStatus.SENDING.value


@dataclass(frozen=True)
class Claim:
    """What the dispatcher needs of a claimed message, read inside the claim."""

    id: int
    attempts: int
    lease_until: dt.datetime
    idempotency_key: str
    source: str
    channel: str
    endpoint_id: int | None
    account_id: int | None
    contact_id: int | None
    user_id: int | None
    recipient: dict[str, Any]
    subject: str
    text: str
    html: str | None
    links: dict[str, Any]
    locale: str | None
    template_key: str | None

    @classmethod
    def of(cls, row: OutboxMessage) -> Claim:
        names = cls.__dataclass_fields__
        return cls(**{name: getattr(row, name) for name in names})


def _due(now: dt.datetime) -> ColumnElement[bool]:
    return or_(
        and_(
            OutboxMessage.status.in_([OutboxStatus.QUEUED.value, OutboxStatus.FAILED.value]),
            OutboxMessage.next_attempt_at <= now,
        ),
        and_(OutboxMessage.status == SENDING, OutboxMessage.lease_until < now),
    )


def claim_due(
    runtime: Runtime, *, limit: int, now: dt.datetime, lease: dt.timedelta
) -> list[Claim]:
    """Take up to `limit` due messages for this dispatcher (committed before returning)."""
    order = (OutboxMessage.next_attempt_at, OutboxMessage.id)
    with transaction(runtime.sessions) as session:
        if runtime.engine.dialect.name == "postgresql":
            due = select(OutboxMessage).where(_due(now)).order_by(*order).limit(limit)
            rows = list(session.scalars(due.with_for_update(skip_locked=True)))
            for row in rows:
                row.status = SENDING
                row.lease_until = now + lease
                row.attempts += 1
            session.flush()
            return [Claim.of(row) for row in rows]
        # One statement: SQLite runs it under its single write lock, so the rows it picks
        # are due when it changes them, and two dispatchers never pick the same row.
        due_ids = select(OutboxMessage.id).where(_due(now)).order_by(*order).limit(limit)
        guarded = (
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(due_ids.scalar_subquery()), _due(now))
            .values(status=SENDING, lease_until=now + lease, attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
        mine = list(session.scalars(guarded))
        if not mine:
            return []
        rows = list(
            session.scalars(
                select(OutboxMessage).where(OutboxMessage.id.in_(mine)).order_by(*order)
            )
        )
        return [Claim.of(row) for row in rows]


def changed(session: Session, stmt: Update) -> bool:
    """Run a guarded UPDATE; True when it changed exactly one row."""
    result = cast(
        "CursorResult[Any]", session.execute(stmt.execution_options(synchronize_session=False))
    )
    return result.rowcount == 1


def still_held(claim: Claim) -> ColumnElement[bool]:
    """The message is still claimed by this attempt (not taken over, not recorded)."""
    return and_(
        OutboxMessage.id == claim.id,
        OutboxMessage.status == SENDING,
        OutboxMessage.attempts == claim.attempts,
    )


def renew(runtime: Runtime, claim: Claim, now: dt.datetime, lease: dt.timedelta) -> Claim | None:
    """The claim with a fresh lease when less than half is left; None when it was lost."""
    if claim.lease_until - now >= lease / 2:
        return claim
    until = now + lease
    with transaction(runtime.sessions) as session:
        if not changed(
            session, update(OutboxMessage).where(still_held(claim)).values(lease_until=until)
        ):
            return None
    return dataclasses.replace(claim, lease_until=until)
