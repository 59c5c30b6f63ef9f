"""REST endpoints of channels: the plugin kinds, endpoint management and the test send.

Reading the kinds needs only a sign-in; everything about configured endpoints is for
admins (through a token: with the `admin` scope), since they hold delivery credentials.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from tenure.accounts.api import Limit, Offset
from tenure.accounts.models import Role
from tenure.accounts.service import MAX_ID, resolve_account_id
from tenure.accounts.writes import Forbidden
from tenure.auth.deps import Principal, require_principal, require_role
from tenure.channels import sending, service
from tenure.channels.base import Recipient
from tenure.channels.schemas import (
    ChannelKindRead,
    EndpointCreate,
    EndpointRead,
    EndpointUpdate,
    SendTestBody,
    SendTestResult,
)
from tenure.kit.deps import RuntimeDep, SessionDep
from tenure.kit.pagination import DEFAULT_LIMIT, Page

_admin_role = require_role(Role.ADMIN.value, action="manage delivery channels")


def require_channel_admin(principal: Annotated[Principal, Depends(_admin_role)]) -> Principal:
    """Admins only; an admin's token also needs the `admin` scope (403 otherwise)."""
    if not principal.can_admin():
        raise Forbidden("managing delivery channels needs a token with the 'admin' scope")
    return principal


def get_secret_key(runtime: RuntimeDep) -> bytes:
    """The server's key for channel secrets."""
    return sending.secret_key(runtime.settings.home)


ChannelAdmin = Annotated[Principal, Depends(require_channel_admin)]
SecretKey = Annotated[bytes, Depends(get_secret_key)]
EndpointId = Annotated[int, Path(ge=1, le=MAX_ID, description="the endpoint's id")]

router = APIRouter(tags=["channels"], dependencies=[Depends(require_principal)])


@router.get("/channels/kinds", response_model=list[ChannelKindRead])
def list_channel_kinds() -> list[ChannelKindRead]:
    """List the channel plugins with the JSON schemas of their settings and secrets."""
    return service.list_kinds()


@router.get("/channels", response_model=Page[EndpointRead])
def list_channel_endpoints(
    session: SessionDep,
    _: ChannelAdmin,
    key: SecretKey,
    kind: Annotated[str | None, Query(max_length=20, description="only this kind")] = None,
    account: Annotated[
        str | None, Query(max_length=100, description="only this account's (id or external id)")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[EndpointRead]:
    """List configured endpoints (admins); secrets show only as the names of those set."""
    account_id = resolve_account_id(session, account) if account is not None else None
    return service.list_endpoints(
        session, key=key, kind=kind, account_id=account_id, limit=limit, offset=offset
    )


@router.post("/channels", response_model=EndpointRead, status_code=status.HTTP_201_CREATED)
def create_channel_endpoint(
    session: SessionDep, principal: ChannelAdmin, key: SecretKey, body: EndpointCreate
) -> EndpointRead:
    """Add an endpoint (admins); settings and secrets are checked against its plugin."""
    return service.create_endpoint(session, key=key, actor=principal, data=body)


@router.get("/channels/{endpoint_id}", response_model=EndpointRead)
def get_channel_endpoint(
    session: SessionDep, _: ChannelAdmin, key: SecretKey, endpoint_id: EndpointId
) -> EndpointRead:
    """Read one endpoint (admins)."""
    return service.get_endpoint(session, key=key, endpoint_id=endpoint_id)


@router.patch("/channels/{endpoint_id}", response_model=EndpointRead)
def update_channel_endpoint(
    session: SessionDep,
    principal: ChannelAdmin,
    key: SecretKey,
    endpoint_id: EndpointId,
    body: EndpointUpdate,
) -> EndpointRead:
    """Change an endpoint (admins); settings and secrets given are merged, null removes."""
    return service.update_endpoint(
        session, key=key, actor=principal, endpoint_id=endpoint_id, data=body
    )


@router.delete(
    "/channels/{endpoint_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response
)
def delete_channel_endpoint(
    session: SessionDep, principal: ChannelAdmin, key: SecretKey, endpoint_id: EndpointId
) -> Response:
    """Delete an endpoint (admins)."""
    service.delete_endpoint(session, key=key, actor=principal, endpoint_id=endpoint_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/channels/{endpoint_id}/test", response_model=SendTestResult)
def test_channel_endpoint(
    session: SessionDep,
    principal: ChannelAdmin,
    key: SecretKey,
    endpoint_id: EndpointId,
    body: SendTestBody | None = None,
) -> SendTestResult:
    """Send a test message through the endpoint now (admins), not via the outbox; an
    e-mail endpoint sends to the caller unless a recipient is given."""
    given = body.recipient if body is not None else None
    recipient = (
        Recipient(**given.model_dump())
        if given is not None
        else Recipient(name=principal.user.name, email=principal.user.email)
    )
    return sending.test_send(
        session, key=key, actor=principal, endpoint_id=endpoint_id, recipient=recipient
    )
