"""Configured destinations of the delivery channels."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from tenure.db import Base


class ChannelEndpoint(Base):
    """One configured destination of a channel plugin: an SMTP relay, a webhook URL, a
    WeCom/DingTalk/Feishu group robot, a Slack incoming webhook.

    `settings` holds what may be shown (host, port, sender, URL without its token);
    `secrets` holds the encrypted JSON of what may not (passwords, robot keys, signing
    secrets), see `tenure.channels.secrets`. An endpoint with an `account_id` belongs to that
    customer (their group chat); one without is the team's. `is_default` marks the endpoint
    a message of its kind uses when nothing names another.
    """

    __tablename__ = "channel_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    secrets: Mapped[str | None] = mapped_column(Text)  # Fernet token of a JSON object
    is_default: Mapped[bool] = mapped_column(default=False)
    enabled: Mapped[bool] = mapped_column(default=True)
    last_test_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_test_result: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime, server_default=func.now(), onupdate=func.now()
    )
