"""NPS survey invitations."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from tenure.db import Base


class SurveyInvitation(Base):
    """One contact asked one NPS question through one link.

    The link carries a token signed with the server's key over the invitation id, its nonce
    and its expiry (see `tenure.surveys.tokens`); the nonce is stored so a token of a
    deleted and re-created invitation cannot be replayed.
    """

    __tablename__ = "survey_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    nonce: Mapped[str] = mapped_column(String(32), unique=True)
    survey: Mapped[str] = mapped_column(String(50), default="nps")
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    locale: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str | None] = mapped_column(String(20))
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    last_reminded_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    responded_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    nps_response_id: Mapped[int | None] = mapped_column(
        ForeignKey("nps_responses.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
