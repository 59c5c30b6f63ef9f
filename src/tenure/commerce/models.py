"""Subscriptions/contracts and orders."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from tenure.accounts.models import TimestampMixin
from tenure.db import Base


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    TRIAL = "trial"


class Subscription(TimestampMixin, Base):
    """A contract for a product between `start_date` and `end_date`."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(100), unique=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    product: Mapped[str] = mapped_column(String(200))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    arr: Mapped[float] = mapped_column(Numeric(14, 2, asdecimal=False), default=0.0)
    mrr: Mapped[float] = mapped_column(Numeric(14, 2, asdecimal=False), default=0.0)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    status: Mapped[str] = mapped_column(String(20), default=SubscriptionStatus.ACTIVE.value)
    auto_renew: Mapped[bool] = mapped_column(default=False)


class Order(TimestampMixin, Base):
    """A purchase: one-off or renewal, with its margin."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(100), unique=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    order_date: Mapped[dt.date] = mapped_column(Date, index=True)
    amount: Mapped[float] = mapped_column(Numeric(14, 2, asdecimal=False))
    margin: Mapped[float | None] = mapped_column(Numeric(14, 2, asdecimal=False))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    product: Mapped[str | None] = mapped_column(String(200))
