"""The durable inbox: every accepted tracking call, stored before it is acknowledged."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tenure.db import Base


class InboxMessage(Base):
    """A tracking call (track, identify, group) waiting to be flushed to its store.

    `message_id` is unique: a resent call with the same messageId is dropped on insert.
    """

    __tablename__ = "tracking_inbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime)
    payload: Mapped[str] = mapped_column(Text)  # the normalised call as JSON text
