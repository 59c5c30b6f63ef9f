"""Queueing a message: the write half of the transactional outbox.

`enqueue` adds the rendered message to the caller's session, so it commits or rolls back
with the decision that produced it (a playbook step, a survey invitation, an alert push).
Nothing is sent here; the dispatcher (`tenure.engagement.dispatcher`) delivers committed
messages. A message whose idempotency key already exists is not queued again: re-running
a decision queues nothing new.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tenure.channels.models import ChannelEndpoint
from tenure.engagement.models import OutboxMessage, OutboxStatus


@dataclass
class Draft:
    """A rendered message and where it goes."""

    source: str  # playbook:<key> | survey:<invitation id> | alert:<id> | test | …
    channel: str  # a channel kind: email, webhook, slack, wecom, dingtalk, feishu
    subject: str
    text: str
    html: str | None = None
    recipient: dict[str, Any] = field(default_factory=dict)  # name, email, mobile, user_id
    account_id: int | None = None
    contact_id: int | None = None
    user_id: int | None = None
    endpoint_id: int | None = None  # default: the account's endpoint of the kind, else the team's
    locale: str | None = None
    template_key: str | None = None
    links: dict[str, Any] = field(default_factory=dict)
    run_id: int | None = None
    idempotency_key: str | None = None  # default: a random key
    not_before: dt.datetime | None = None  # naive UTC; e.g. the end of quiet hours


def utcnow() -> dt.datetime:
    """Naive UTC now, as the tables keep time."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def default_endpoint(session: Session, kind: str, account_id: int | None) -> int | None:
    """The endpoint a message of `kind` uses: the account's own enabled endpoint of that
    kind (its group chat), else the team's default one, else any enabled team endpoint."""
    stmt = (
        select(ChannelEndpoint.id)
        .where(
            ChannelEndpoint.kind == kind,
            ChannelEndpoint.enabled,
            or_(ChannelEndpoint.account_id == account_id, ChannelEndpoint.account_id.is_(None)),
        )
        .order_by(
            ChannelEndpoint.account_id.is_(None),  # the account's own first
            ChannelEndpoint.is_default.desc(),
            ChannelEndpoint.id,
        )
        .limit(1)
    )
    found: int | None = session.scalar(stmt)
    return found


def enqueue(session: Session, draft: Draft, *, now: dt.datetime | None = None) -> OutboxMessage:
    """Add `draft` to the outbox in the caller's transaction (flushed, not committed); it is
    due at `draft.not_before`, else `now` (default: the clock)."""
    key = draft.idempotency_key or uuid.uuid4().hex
    existing = session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
    if existing is not None:
        return existing
    now = now or utcnow()
    endpoint = draft.endpoint_id
    if endpoint is None:
        endpoint = default_endpoint(session, draft.channel, draft.account_id)
    message = OutboxMessage(
        idempotency_key=key,
        source=draft.source,
        account_id=draft.account_id,
        contact_id=draft.contact_id,
        user_id=draft.user_id,
        endpoint_id=endpoint,
        channel=draft.channel,
        recipient=draft.recipient,
        locale=draft.locale,
        template_key=draft.template_key,
        subject=draft.subject,
        text=draft.text,
        html=draft.html,
        links=draft.links,
        status=OutboxStatus.QUEUED.value,
        attempts=0,
        next_attempt_at=draft.not_before or now,
        created_at=now,  # the decision's time: frequency caps count from it
        run_id=draft.run_id,
    )
    session.add(message)
    session.flush()
    return message
