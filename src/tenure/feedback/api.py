"""REST endpoints of tickets, NPS responses and interactions."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response, status

from tenure.accounts import writes
from tenure.accounts.api import AccountKey, Limit, Offset, Since, Until, WriterPrincipal
from tenure.accounts.models import Channel
from tenure.accounts.writes import RecordKind
from tenure.auth.deps import require_principal
from tenure.feedback.models import Direction, Interaction, NpsResponse, Sentiment, Severity, Ticket
from tenure.feedback.schemas import (
    InteractionCreate,
    InteractionRecord,
    InteractionUpdate,
    NpsCreate,
    NpsRecord,
    NpsUpdate,
    TicketCreate,
    TicketRecord,
    TicketUpdate,
)
from tenure.kit.deps import SessionDep
from tenure.kit.pagination import DEFAULT_LIMIT, Page

CONTACT_REF = {"contact": ("contact_id", "contact")}
TICKETS = RecordKind(
    model=Ticket,
    entity="ticket",
    read=TicketRecord,
    sort_keys=("opened_at", "resolved_at", "severity", "category", "external_id", "id"),
    date_column="opened_at",
    ordered=(("opened_at", "first_response_at"), ("opened_at", "resolved_at")),
    references=CONTACT_REF,
)
NPS = RecordKind(
    model=NpsResponse,
    entity="NPS response",
    read=NpsRecord,
    sort_keys=("responded_at", "score", "external_id", "id"),
    date_column="responded_at",
    references=CONTACT_REF,
)
INTERACTIONS = RecordKind(
    model=Interaction,
    entity="interaction",
    read=InteractionRecord,
    sort_keys=("occurred_at", "channel", "type", "external_id", "id"),
    date_column="occurred_at",
    references={**CONTACT_REF, "user": ("user_id", "user")},
)

router = APIRouter(dependencies=[Depends(require_principal)])


@router.get("/tickets", response_model=Page[TicketRecord], tags=["tickets"])
def list_tickets(
    session: SessionDep,
    account: AccountKey = None,
    since: Since = None,
    until: Until = None,
    severity: Severity | None = None,
    is_complaint: bool | None = None,
    category: str | None = None,
    sort: str = "-opened_at",
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[TicketRecord]:
    """List tickets, optionally of one account, opened in a date range, by severity."""
    filters = {"severity": severity, "is_complaint": is_complaint, "category": category}
    return writes.list_records(
        session, TICKETS, account=account, since=since, until=until,
        filters=filters, sort=sort, limit=limit, offset=offset,
    )  # fmt: skip


@router.get("/tickets/{key}", response_model=TicketRecord, tags=["tickets"])
def get_ticket(session: SessionDep, key: str) -> TicketRecord:
    """Read one ticket by id or external id."""
    return writes.get_record(session, TICKETS, key)


@router.post(
    "/tickets", response_model=TicketRecord, status_code=status.HTTP_201_CREATED, tags=["tickets"]
)
def create_ticket(
    session: SessionDep, principal: WriterPrincipal, body: TicketCreate
) -> TicketRecord:
    """Create a ticket (409 when the external id is taken)."""
    return writes.create_record(session, principal, TICKETS, body.model_dump())


@router.patch("/tickets/{key}", response_model=TicketRecord, tags=["tickets"])
def update_ticket(
    session: SessionDep, principal: WriterPrincipal, key: str, body: TicketUpdate
) -> TicketRecord:
    """Change the fields sent of one ticket."""
    return writes.update_record(
        session, principal, TICKETS, key, body.model_dump(exclude_unset=True)
    )


@router.delete("/tickets/{key}", status_code=204, response_class=Response, tags=["tickets"])
def delete_ticket(session: SessionDep, principal: WriterPrincipal, key: str) -> None:
    """Delete one ticket."""
    writes.delete_record(session, principal, TICKETS, key)


@router.get("/nps-responses", response_model=Page[NpsRecord], tags=["nps"])
def list_nps_responses(
    session: SessionDep,
    account: AccountKey = None,
    since: Since = None,
    until: Until = None,
    sort: str = "-responded_at",
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[NpsRecord]:
    """List NPS answers, optionally of one account, given in a date range."""
    return writes.list_records(
        session, NPS, account=account, since=since, until=until,
        sort=sort, limit=limit, offset=offset,
    )  # fmt: skip


@router.get("/nps-responses/{key}", response_model=NpsRecord, tags=["nps"])
def get_nps_response(session: SessionDep, key: str) -> NpsRecord:
    """Read one NPS answer by id or external id."""
    return writes.get_record(session, NPS, key)


@router.post(
    "/nps-responses", response_model=NpsRecord, status_code=status.HTTP_201_CREATED, tags=["nps"]
)
def create_nps_response(
    session: SessionDep, principal: WriterPrincipal, body: NpsCreate
) -> NpsRecord:
    """Record an NPS answer (409 when the external id is taken)."""
    return writes.create_record(session, principal, NPS, body.model_dump())


@router.patch("/nps-responses/{key}", response_model=NpsRecord, tags=["nps"])
def update_nps_response(
    session: SessionDep, principal: WriterPrincipal, key: str, body: NpsUpdate
) -> NpsRecord:
    """Change the fields sent of one NPS answer."""
    return writes.update_record(session, principal, NPS, key, body.model_dump(exclude_unset=True))


@router.delete("/nps-responses/{key}", status_code=204, response_class=Response, tags=["nps"])
def delete_nps_response(session: SessionDep, principal: WriterPrincipal, key: str) -> None:
    """Delete one NPS answer."""
    writes.delete_record(session, principal, NPS, key)


@router.get("/interactions", response_model=Page[InteractionRecord], tags=["interactions"])
def list_interactions(
    session: SessionDep,
    account: AccountKey = None,
    since: Since = None,
    until: Until = None,
    channel: Channel | None = None,
    direction: Direction | None = None,
    sentiment: Sentiment | None = None,
    type: str | None = None,
    sort: str = "-occurred_at",
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[InteractionRecord]:
    """List interactions, optionally of one account, in a date range, by channel or type."""
    filters = {"channel": channel, "direction": direction, "sentiment": sentiment, "type": type}
    return writes.list_records(
        session, INTERACTIONS, account=account, since=since, until=until,
        filters=filters, sort=sort, limit=limit, offset=offset,
    )  # fmt: skip


@router.get("/interactions/{key}", response_model=InteractionRecord, tags=["interactions"])
def get_interaction(session: SessionDep, key: str) -> InteractionRecord:
    """Read one interaction by id or external id."""
    return writes.get_record(session, INTERACTIONS, key)


@router.post(
    "/interactions",
    response_model=InteractionRecord,
    status_code=status.HTTP_201_CREATED,
    tags=["interactions"],
)
def create_interaction(
    session: SessionDep, principal: WriterPrincipal, body: InteractionCreate
) -> InteractionRecord:
    """Record an interaction (409 when the external id is taken)."""
    return writes.create_record(session, principal, INTERACTIONS, body.model_dump())


@router.patch("/interactions/{key}", response_model=InteractionRecord, tags=["interactions"])
def update_interaction(
    session: SessionDep, principal: WriterPrincipal, key: str, body: InteractionUpdate
) -> InteractionRecord:
    """Change the fields sent of one interaction."""
    changes = body.model_dump(exclude_unset=True)
    return writes.update_record(session, principal, INTERACTIONS, key, changes)


@router.delete(
    "/interactions/{key}", status_code=204, response_class=Response, tags=["interactions"]
)
def delete_interaction(session: SessionDep, principal: WriterPrincipal, key: str) -> None:
    """Delete one interaction."""
    writes.delete_record(session, principal, INTERACTIONS, key)
