"""REST endpoints of accounts and contacts (`/api/v1/accounts`, `/api/v1/contacts`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from tenure.accounts import writes
from tenure.accounts.models import (
    AccountStatus,
    Channel,
    Contact,
    ContactRole,
    ContentFormat,
    StrategicGoal,
)
from tenure.accounts.schemas import AccountDetail, AccountSummary
from tenure.accounts.service import get_account, list_accounts
from tenure.accounts.writes import RecordKind
from tenure.api import MAX_BIGINT, AccountRef, WritePayload
from tenure.auth.deps import CurrentPrincipal, Principal, require_principal
from tenure.kit.deps import SessionDep
from tenure.kit.pagination import DEFAULT_LIMIT, Page

MAX_INT = 2_147_483_647  # INTEGER columns


def require_writer(principal: CurrentPrincipal) -> Principal:
    """403 unless the role may change some accounts (viewers may not)."""
    if not principal.can_write():
        raise writes.Forbidden(
            f"role {principal.role} may only read; changes need the csm, manager or admin role"
        )
    return principal


WriterPrincipal = Annotated[Principal, Depends(require_writer)]
Limit = Annotated[int, Query(description="page size, 1-1000")]
Offset = Annotated[int, Query(description="rows to skip", le=MAX_BIGINT)]
AccountKey = Annotated[
    str | None, Query(description="only records of this account (id or external id)")
]
Since = Annotated[dt.date | None, Query(description="from this date (inclusive)")]
Until = Annotated[dt.date | None, Query(description="up to this date (inclusive)")]
Score = Annotated[float | None, Field(ge=0, le=100)]


class _AccountFields(WritePayload):
    industry: str | None = Field(None, max_length=100)
    size: str | None = Field(None, max_length=50)
    employees: int | None = Field(None, ge=0, le=MAX_INT)
    region: str | None = Field(None, max_length=100)
    owner: str | None = Field(
        None, max_length=255, description="owning CSM: user external id or e-mail"
    )
    customer_since: dt.date | None = None
    churn_date: dt.date | None = None
    churn_reason: str | None = Field(None, max_length=300)
    industry_influence: Score = None
    innovation_synergy: Score = None
    growth_potential: Score = None
    strategic_goal: StrategicGoal | None = None


class AccountCreate(_AccountFields):
    """A new account; a csm who names no owner becomes its owner."""

    external_id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=300)
    status: AccountStatus = AccountStatus.ACTIVE
    attributes: dict[str, Any] = Field(default_factory=dict)


class AccountUpdate(_AccountFields):
    """Fields to change; fields left out stay as they are, null clears an optional one."""

    NOT_NULL: ClassVar[frozenset[str]] = frozenset({"external_id", "name", "status", "attributes"})
    external_id: str | None = Field(None, min_length=1, max_length=100)
    name: str | None = Field(None, min_length=1, max_length=300)
    status: AccountStatus | None = None
    attributes: dict[str, Any] | None = None


class _ContactFields(WritePayload):
    email: str | None = Field(None, max_length=255)
    phone: str | None = Field(None, max_length=50)
    title: str | None = Field(None, max_length=200)
    channel_preference: Channel | None = None
    format_preference: ContentFormat | None = None
    locale: str | None = Field(None, max_length=10)
    timezone: str | None = Field(None, max_length=64, description="IANA name, e.g. Asia/Shanghai")
    notes: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r}") from None
        return value


class ContactCreate(_ContactFields):
    """A new contact of the account named by `account` (id or external id)."""

    external_id: str = Field(min_length=1, max_length=100)
    account: AccountRef
    name: str = Field(min_length=1, max_length=200)
    role: ContactRole = ContactRole.USER
    opt_out_channels: list[Channel] = Field(default_factory=list)
    opted_out_all: bool = False


class ContactUpdate(_ContactFields):
    """Fields of a contact to change (its account stays)."""

    NOT_NULL: ClassVar[frozenset[str]] = frozenset(
        {"external_id", "name", "role", "opt_out_channels", "opted_out_all"}
    )
    external_id: str | None = Field(None, min_length=1, max_length=100)
    name: str | None = Field(None, min_length=1, max_length=200)
    role: ContactRole | None = None
    opt_out_channels: list[Channel] | None = None
    opted_out_all: bool | None = None


class ContactRecord(BaseModel):
    """A person at a customer, with the channel and content format they prefer."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    external_id: str
    account_id: int
    account_external_id: str
    name: str
    email: str | None
    phone: str | None
    title: str | None
    role: str
    channel_preference: str | None
    format_preference: str | None
    locale: str | None
    timezone: str | None
    opt_out_channels: list[Any]
    opted_out_all: bool
    notes: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


CONTACTS = RecordKind(
    model=Contact,
    entity="contact",
    read=ContactRecord,
    sort_keys=("name", "external_id", "role", "created_at", "id"),
)

router = APIRouter(tags=["accounts"], dependencies=[Depends(require_principal)])


@router.get("/accounts", response_model=Page[AccountSummary])
def list_accounts_endpoint(
    session: SessionDep,
    quadrant: str | None = None,
    stage: str | None = None,
    health_band: str | None = None,
    owner: Annotated[str | None, Query(description="user external id or e-mail")] = None,
    at_risk: bool | None = None,
    status: str | None = None,
    search: str | None = None,
    sort: str = "health_score",
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[AccountSummary]:
    """List accounts with their latest scores, filtered, sorted and paged."""
    return list_accounts(
        session,
        quadrant=quadrant,
        stage=stage,
        health_band=health_band,
        owner=owner,
        at_risk=at_risk,
        status=status,
        search=search,
        sort=sort,
        limit=limit,
        offset=offset,
    )


@router.get("/accounts/{key}", response_model=AccountDetail)
def get_account_endpoint(session: SessionDep, key: str) -> AccountDetail:
    """Read one account (by id or external id) with scores, alerts, timeline and contracts."""
    return get_account(session, writes.resolve_account_id(session, key))


@router.post("/accounts", response_model=AccountDetail, status_code=status.HTTP_201_CREATED)
def create_account(
    session: SessionDep, principal: WriterPrincipal, body: AccountCreate
) -> AccountDetail:
    """Create an account (409 when the external id is taken)."""
    return writes.create_account(session, principal, body.model_dump())


@router.patch("/accounts/{key}", response_model=AccountDetail)
def update_account(
    session: SessionDep, principal: WriterPrincipal, key: str, body: AccountUpdate
) -> AccountDetail:
    """Change the fields sent of one account (by id or external id)."""
    return writes.update_account(session, principal, key, body.model_dump(exclude_unset=True))


@router.delete("/accounts/{key}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def delete_account(session: SessionDep, principal: WriterPrincipal, key: str) -> None:
    """Delete an account and everything it owns (contacts, contracts, scores, alerts)."""
    writes.delete_account(session, principal, key)


@router.get("/contacts", response_model=Page[ContactRecord], tags=["contacts"])
def list_contacts(
    session: SessionDep,
    account: AccountKey = None,
    role: ContactRole | None = None,
    sort: str = "name",
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[ContactRecord]:
    """List contacts, optionally of one account or one role."""
    return writes.list_records(
        session, CONTACTS, account=account, filters={"role": role},
        sort=sort, limit=limit, offset=offset,
    )  # fmt: skip


@router.get("/contacts/{key}", response_model=ContactRecord, tags=["contacts"])
def get_contact(session: SessionDep, key: str) -> ContactRecord:
    """Read one contact by id or external id."""
    return writes.get_record(session, CONTACTS, key)


@router.post(
    "/contacts",
    response_model=ContactRecord,
    status_code=status.HTTP_201_CREATED,
    tags=["contacts"],
)
def create_contact(
    session: SessionDep, principal: WriterPrincipal, body: ContactCreate
) -> ContactRecord:
    """Create a contact (409 when the external id is taken)."""
    return writes.create_record(session, principal, CONTACTS, body.model_dump())


@router.patch("/contacts/{key}", response_model=ContactRecord, tags=["contacts"])
def update_contact(
    session: SessionDep, principal: WriterPrincipal, key: str, body: ContactUpdate
) -> ContactRecord:
    """Change the fields sent of one contact."""
    return writes.update_record(
        session, principal, CONTACTS, key, body.model_dump(exclude_unset=True)
    )


@router.delete(
    "/contacts/{key}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    tags=["contacts"],
)
def delete_contact(session: SessionDep, principal: WriterPrincipal, key: str) -> None:
    """Delete one contact (its tickets and interactions keep no contact)."""
    writes.delete_record(session, principal, CONTACTS, key)
