"""Users (the CS team), accounts (customers) and contacts (people at customers)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Float, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from tenure.db import Base


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    CSM = "csm"
    VIEWER = "viewer"


class AccountStatus(StrEnum):
    ACTIVE = "active"
    CHURNED = "churned"
    PAUSED = "paused"


class StrategicGoal(StrEnum):
    COST_REDUCTION = "cost_reduction"
    NEW_MARKET = "new_market"
    TECHNOLOGY_INNOVATION = "technology_innovation"


class ContactRole(StrEnum):
    DECISION_MAKER = "decision_maker"
    KEY_USER = "key_user"
    CHAMPION = "champion"
    USER = "user"
    BILLING = "billing"


class Channel(StrEnum):
    EMAIL = "email"
    WECOM = "wecom"
    WECHAT = "wechat"
    DINGTALK = "dingtalk"
    FEISHU = "feishu"
    SLACK = "slack"
    PHONE = "phone"
    SMS = "sms"
    MEETING = "meeting"
    SOCIAL = "social"
    OTHER = "other"


class ContentFormat(StrEnum):
    VIDEO = "video"
    DOCUMENT = "document"


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime, server_default=func.now(), onupdate=func.now()
    )


class User(TimestampMixin, Base):
    """A member of the CS team (or an admin) who signs in to Tenure."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(100), unique=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default=Role.CSM.value)
    department: Mapped[str | None] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(10), default="zh-CN")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)


class Account(TimestampMixin, Base):
    """A customer company: the unit that is scored, owned by a CSM and alerted on."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300), index=True)
    industry: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[str | None] = mapped_column(String(50))
    employees: Mapped[int | None]
    region: Mapped[str | None] = mapped_column(String(100))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    customer_since: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=AccountStatus.ACTIVE.value, index=True)
    churn_date: Mapped[dt.date | None] = mapped_column(Date)
    churn_reason: Mapped[str | None] = mapped_column(String(300))
    # Potential-value inputs, each on a 0-100 scale (the guide's industry influence,
    # innovation synergy and growth potential).
    industry_influence: Mapped[float | None] = mapped_column(Float)
    innovation_synergy: Mapped[float | None] = mapped_column(Float)
    growth_potential: Mapped[float | None] = mapped_column(Float)
    strategic_goal: Mapped[str | None] = mapped_column(String(50))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Contact(TimestampMixin, Base):
    """A person at a customer, with the channel and content format they prefer."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(100), unique=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(50))
    title: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(30), default=ContactRole.USER.value)
    channel_preference: Mapped[str | None] = mapped_column(String(20))
    format_preference: Mapped[str | None] = mapped_column(String(20))
    locale: Mapped[str | None] = mapped_column(String(10))
    timezone: Mapped[str | None] = mapped_column(String(64))
    opt_out_channels: Mapped[list[Any]] = mapped_column(JSON, default=list)
    opted_out_all: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str | None] = mapped_column(Text)
