"""REST endpoints of subscriptions and orders (`/api/v1/subscriptions`, `/api/v1/orders`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response, status

from tenure.accounts import writes
from tenure.accounts.api import AccountKey, Limit, Offset, Since, Until, WriterPrincipal
from tenure.accounts.writes import RecordKind
from tenure.auth.deps import require_principal
from tenure.commerce.models import Order, Subscription, SubscriptionStatus
from tenure.commerce.schemas import (
    OrderCreate,
    OrderRecord,
    OrderUpdate,
    SubscriptionCreate,
    SubscriptionRecord,
    SubscriptionUpdate,
)
from tenure.kit.deps import SessionDep
from tenure.kit.pagination import DEFAULT_LIMIT, Page

SUBSCRIPTIONS = RecordKind(
    model=Subscription,
    entity="subscription",
    read=SubscriptionRecord,
    sort_keys=("start_date", "end_date", "arr", "mrr", "product", "status", "external_id", "id"),
    date_column="start_date",
    ordered=(("start_date", "end_date"),),
)
ORDERS = RecordKind(
    model=Order,
    entity="order",
    read=OrderRecord,
    sort_keys=("order_date", "amount", "margin", "product", "external_id", "id"),
    date_column="order_date",
)

router = APIRouter(dependencies=[Depends(require_principal)])


@router.get("/subscriptions", response_model=Page[SubscriptionRecord], tags=["subscriptions"])
def list_subscriptions(
    session: SessionDep,
    account: AccountKey = None,
    since: Since = None,
    until: Until = None,
    status: SubscriptionStatus | None = None,
    product: str | None = None,
    sort: str = "-start_date",
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[SubscriptionRecord]:
    """List contracts, optionally of one account, starting in a date range, by status."""
    return writes.list_records(
        session, SUBSCRIPTIONS, account=account, since=since, until=until,
        filters={"status": status, "product": product}, sort=sort, limit=limit, offset=offset,
    )  # fmt: skip


@router.get("/subscriptions/{key}", response_model=SubscriptionRecord, tags=["subscriptions"])
def get_subscription(session: SessionDep, key: str) -> SubscriptionRecord:
    """Read one contract by id or external id."""
    return writes.get_record(session, SUBSCRIPTIONS, key)


@router.post(
    "/subscriptions",
    response_model=SubscriptionRecord,
    status_code=status.HTTP_201_CREATED,
    tags=["subscriptions"],
)
def create_subscription(
    session: SessionDep, principal: WriterPrincipal, body: SubscriptionCreate
) -> SubscriptionRecord:
    """Create a contract (409 when the external id is taken)."""
    return writes.create_record(session, principal, SUBSCRIPTIONS, body.model_dump())


@router.patch("/subscriptions/{key}", response_model=SubscriptionRecord, tags=["subscriptions"])
def update_subscription(
    session: SessionDep, principal: WriterPrincipal, key: str, body: SubscriptionUpdate
) -> SubscriptionRecord:
    """Change the fields sent of one contract."""
    changes = body.model_dump(exclude_unset=True)
    return writes.update_record(session, principal, SUBSCRIPTIONS, key, changes)


@router.delete(
    "/subscriptions/{key}", status_code=204, response_class=Response, tags=["subscriptions"]
)
def delete_subscription(session: SessionDep, principal: WriterPrincipal, key: str) -> None:
    """Delete one contract."""
    writes.delete_record(session, principal, SUBSCRIPTIONS, key)


@router.get("/orders", response_model=Page[OrderRecord], tags=["orders"])
def list_orders(
    session: SessionDep,
    account: AccountKey = None,
    since: Since = None,
    until: Until = None,
    product: str | None = None,
    sort: str = "-order_date",
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[OrderRecord]:
    """List orders, optionally of one account, placed in a date range, of one product."""
    return writes.list_records(
        session, ORDERS, account=account, since=since, until=until,
        filters={"product": product}, sort=sort, limit=limit, offset=offset,
    )  # fmt: skip


@router.get("/orders/{key}", response_model=OrderRecord, tags=["orders"])
def get_order(session: SessionDep, key: str) -> OrderRecord:
    """Read one order by id or external id."""
    return writes.get_record(session, ORDERS, key)


@router.post(
    "/orders", response_model=OrderRecord, status_code=status.HTTP_201_CREATED, tags=["orders"]
)
def create_order(session: SessionDep, principal: WriterPrincipal, body: OrderCreate) -> OrderRecord:
    """Create an order (409 when the external id is taken)."""
    return writes.create_record(session, principal, ORDERS, body.model_dump())


@router.patch("/orders/{key}", response_model=OrderRecord, tags=["orders"])
def update_order(
    session: SessionDep, principal: WriterPrincipal, key: str, body: OrderUpdate
) -> OrderRecord:
    """Change the fields sent of one order."""
    return writes.update_record(
        session, principal, ORDERS, key, body.model_dump(exclude_unset=True)
    )


@router.delete("/orders/{key}", status_code=204, response_class=Response, tags=["orders"])
def delete_order(session: SessionDep, principal: WriterPrincipal, key: str) -> None:
    """Delete one order."""
    writes.delete_record(session, principal, ORDERS, key)
