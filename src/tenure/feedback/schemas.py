"""Payloads and read models of tickets, NPS responses and interactions (the API's shapes)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from tenure.accounts.models import Channel
from tenure.api import AccountRef, ExternalId, Key, Timestamp, WritePayload
from tenure.feedback.models import Direction, Sentiment, Severity

ContactRef = Annotated[
    Key | None, Field(description="a contact of the same account: id or external id")
]
NpsScore = Annotated[int, Field(ge=0, le=10, description="0-10")]


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class _Refs(WritePayload):
    contact: ContactRef = None


class _TicketFields(_Refs):
    first_response_at: Timestamp | None = None
    resolved_at: Timestamp | None = None
    category: str | None = Field(None, max_length=100)
    subject: str | None = Field(None, max_length=500)
    text: str | None = None


class TicketCreate(_TicketFields):
    """A new support ticket of the account named by `account`."""

    external_id: ExternalId
    account: AccountRef
    opened_at: Timestamp
    severity: Severity = Severity.MEDIUM
    is_complaint: bool = False


class TicketUpdate(_TicketFields):
    """Fields of a ticket to change (its account stays); set `resolved_at` to resolve it."""

    NOT_NULL: ClassVar[frozenset[str]] = frozenset(
        {"external_id", "opened_at", "severity", "is_complaint"}
    )
    external_id: ExternalId | None = None
    opened_at: Timestamp | None = None
    severity: Severity | None = None
    is_complaint: bool | None = None


class TicketRecord(_Read):
    """A support ticket; `is_complaint` marks the ones that count as complaints."""

    id: int
    external_id: str
    account_id: int
    account_external_id: str
    contact_id: int | None
    opened_at: dt.datetime
    first_response_at: dt.datetime | None
    resolved_at: dt.datetime | None
    severity: str
    category: str | None
    is_complaint: bool
    subject: str | None
    text: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class NpsCreate(_Refs):
    """A new NPS answer (0-10) of the account named by `account`."""

    external_id: ExternalId
    account: AccountRef
    responded_at: Timestamp
    score: NpsScore
    comment: str | None = None


class NpsUpdate(_Refs):
    """Fields of an NPS answer to change (its account stays)."""

    NOT_NULL: ClassVar[frozenset[str]] = frozenset({"external_id", "responded_at", "score"})
    external_id: ExternalId | None = None
    responded_at: Timestamp | None = None
    score: NpsScore | None = None
    comment: str | None = None


class NpsRecord(_Read):
    """One answer to "how likely are you to recommend us", 0-10, with a comment."""

    id: int
    external_id: str
    account_id: int
    account_external_id: str
    contact_id: int | None
    responded_at: dt.datetime
    score: int
    comment: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class _InteractionFields(_Refs):
    user: str | None = Field(
        None, max_length=255, description="the CS team member: user external id or e-mail"
    )
    summary: str | None = None
    sentiment: Sentiment | None = None


class InteractionCreate(_InteractionFields):
    """A new touch with the account named by `account`."""

    external_id: ExternalId
    account: AccountRef
    occurred_at: Timestamp
    channel: Channel
    direction: Direction = Direction.OUTBOUND
    type: str = Field(min_length=1, max_length=50, description="e.g. call, visit, qbr, comment")


class InteractionUpdate(_InteractionFields):
    """Fields of an interaction to change (its account stays)."""

    NOT_NULL: ClassVar[frozenset[str]] = frozenset(
        {"external_id", "occurred_at", "channel", "direction", "type"}
    )
    external_id: ExternalId | None = None
    occurred_at: Timestamp | None = None
    channel: Channel | None = None
    direction: Direction | None = None
    type: str | None = Field(None, min_length=1, max_length=50)


class InteractionRecord(_Read):
    """Any touch with the customer, from any channel."""

    id: int
    external_id: str
    account_id: int
    account_external_id: str
    contact_id: int | None
    user_id: int | None
    occurred_at: dt.datetime
    channel: str
    direction: str
    type: str
    summary: str | None
    sentiment: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
