"""Payloads and read models of subscriptions and orders (the API's shapes)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from tenure.api import AccountRef, ExternalId, WritePayload
from tenure.commerce.models import SubscriptionStatus

# Numeric(14, 2): twelve digits before the point.
MAX_AMOUNT = 999_999_999_999.99
Amount = Annotated[float, Field(ge=0, le=MAX_AMOUNT)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. CNY")]


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class _SubscriptionFields(WritePayload):
    end_date: dt.date | None = Field(None, description="renewal date; not before start_date")
    auto_renew: bool | None = None


class SubscriptionCreate(_SubscriptionFields):
    """A new contract of the account named by `account`."""

    external_id: ExternalId
    account: AccountRef
    product: str = Field(min_length=1, max_length=200)
    start_date: dt.date
    arr: Amount = 0.0
    mrr: Amount = 0.0
    currency: Currency = "CNY"
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE
    auto_renew: bool = False


class SubscriptionUpdate(_SubscriptionFields):
    """Fields of a contract to change (its account stays)."""

    NOT_NULL: ClassVar[frozenset[str]] = frozenset(
        {"external_id", "product", "start_date", "arr", "mrr", "currency", "status", "auto_renew"}
    )
    external_id: ExternalId | None = None
    product: str | None = Field(None, min_length=1, max_length=200)
    start_date: dt.date | None = None
    arr: Amount | None = None
    mrr: Amount | None = None
    currency: Currency | None = None
    status: SubscriptionStatus | None = None


class SubscriptionRecord(_Read):
    """A contract for a product between `start_date` and `end_date`."""

    id: int
    external_id: str
    account_id: int
    account_external_id: str
    product: str
    start_date: dt.date
    end_date: dt.date | None
    arr: float
    mrr: float
    currency: str
    status: str
    auto_renew: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class _OrderFields(WritePayload):
    margin: float | None = Field(None, ge=-MAX_AMOUNT, le=MAX_AMOUNT)
    product: str | None = Field(None, max_length=200)


class OrderCreate(_OrderFields):
    """A new purchase of the account named by `account`."""

    external_id: ExternalId
    account: AccountRef
    order_date: dt.date
    amount: Amount
    currency: Currency = "CNY"


class OrderUpdate(_OrderFields):
    """Fields of an order to change (its account stays)."""

    NOT_NULL: ClassVar[frozenset[str]] = frozenset(
        {"external_id", "order_date", "amount", "currency"}
    )
    external_id: ExternalId | None = None
    order_date: dt.date | None = None
    amount: Amount | None = None
    currency: Currency | None = None


class OrderRecord(_Read):
    """A purchase: one-off or renewal, with its margin."""

    id: int
    external_id: str
    account_id: int
    account_external_id: str
    order_date: dt.date
    amount: float
    margin: float | None
    currency: str
    product: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
