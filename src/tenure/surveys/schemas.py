"""What the survey endpoints and commands read and write."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from tenure.api import AccountRef, Key, WritePayload

MAX_CONTACTS = 1000


class NpsSend(WritePayload):
    """Invite contacts of one account to the NPS survey (default: every contact)."""

    account: AccountRef
    contacts: list[Key] | None = Field(
        None,
        max_length=MAX_CONTACTS,
        description="contacts' ids or external ids; default every contact of the account",
    )
    channel: str | None = Field(
        None,
        min_length=1,
        max_length=20,
        description="a channel kind (email, wecom, …); default each contact's own channel",
    )


class InvitationRead(BaseModel):
    """One contact asked the NPS question: where the link went, and what came back."""

    id: int
    survey: str
    account_id: int
    account_external_id: str
    contact_id: int | None
    contact_external_id: str | None
    contact_name: str | None
    locale: str
    channel: str | None
    status: str = Field(description="pending, responded or expired")
    sent_at: dt.datetime
    expires_at: dt.datetime
    reminders_sent: int
    last_reminded_at: dt.datetime | None
    responded_at: dt.datetime | None
    score: int | None
    comment: str | None


class SkippedRead(BaseModel):
    """A contact no invitation was sent to, and why."""

    contact_id: int
    contact_external_id: str
    reason: str = Field(
        description="opted_out, channel_opted_out, no_channel, frequency_cap or pending"
    )
    message: str


class NpsSendResult(BaseModel):
    """The invitations queued and the contacts skipped."""

    invitations: list[InvitationRead]
    skipped: list[SkippedRead]


class SurveyStats(BaseModel):
    """Invitations sent and answered, and the NPS of the answers (-100..100)."""

    account_id: int | None
    sent: int
    responded: int
    pending: int
    expired: int
    response_rate: float | None = Field(description="responded / sent, 0..1")
    promoters: int
    passives: int
    detractors: int
    nps: float | None = Field(description="% promoters (9-10) - % detractors (0-6)")
