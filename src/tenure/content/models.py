"""Message templates and talk tracks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from tenure.db import Base


class MessageTemplate(Base):
    """One variant of a message: a template key in one locale and one content format.

    `subject`, `body` (Markdown-flavoured text, used for chat channels and the text part of
    email) and `html` (optional; the HTML part of email) are sandboxed Jinja2. A message is
    rendered from the variant matching the contact's locale and format preference, falling
    back to format "any" and then to the other locale (see `tenure.content.service`).
    """

    __tablename__ = "message_templates"
    __table_args__ = (
        UniqueConstraint("key", "locale", "format", name="uq_message_templates_variant"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), index=True)
    locale: Mapped[str] = mapped_column(String(10))  # zh-CN | en
    format: Mapped[str] = mapped_column(String(20), default="any")  # any | video | document
    name: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    shipped: Mapped[bool] = mapped_column(default=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime, server_default=func.now(), onupdate=func.now()
    )


class TalkTrack(Base):
    """An approved answer to a recurring question, so every department answers alike."""

    __tablename__ = "talk_tracks"
    __table_args__ = (UniqueConstraint("key", "locale", name="uq_talk_tracks_key_locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), index=True)
    locale: Mapped[str] = mapped_column(String(10))
    topic: Mapped[str] = mapped_column(String(200), index=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    department: Mapped[str | None] = mapped_column(String(100))
    shipped: Mapped[bool] = mapped_column(default=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime, server_default=func.now(), onupdate=func.now()
    )
