"""Read models of the outbox (the API's shapes) and its status filter values."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict

from tenure.engagement.models import OutboxStatus

OUTBOX_STATUSES: tuple[str, ...] = tuple(status.value for status in OutboxStatus)


class OutboxRead(BaseModel):
    """One outgoing message: where it goes, its delivery state and its last error."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    idempotency_key: str
    source: str
    account_id: int | None
    account_external_id: str | None
    account_name: str | None
    contact_id: int | None
    endpoint_id: int | None
    channel: str
    recipient: dict[str, Any]
    subject: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    lease_until: dt.datetime | None
    last_error: str | None
    provider_message_id: str | None
    sent_at: dt.datetime | None
    interaction_id: int | None
    run_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class OutboxDetail(OutboxRead):
    """One outgoing message with its rendered content and links."""

    user_id: int | None
    locale: str | None
    template_key: str | None
    text: str
    html: str | None
    links: dict[str, Any]
