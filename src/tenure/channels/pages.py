"""The channels page, /settings/channels: endpoints, a form per kind, a test button.

Admins only (others see why not). Each kind's form (`tenure.channels.forms`) is built from
its plugin's settings and secrets models: secret fields are password inputs that show only
whether a value is set and are never filled in; left empty they keep the stored value.
Saving goes through `tenure.channels.service`, the same validation as the API; a refused
form is shown again with each problem next to its field (`settings.port`,
`secrets.password`). The Test button sends at once (HTMX, `tenure.channels.sending`) and
shows the outcome in the endpoint's row.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.accounts.models import Account
from tenure.accounts.service import MAX_ID
from tenure.auth.deps import OptionalPrincipal, Principal, check_csrf
from tenure.channels import sending, service
from tenure.channels.base import Recipient
from tenure.channels.forms import (
    EndpointForm,
    blank_form,
    form_from_post,
    form_of,
    kind_form,
    kind_forms,
    payload_problems,
    problems_of,
    secrets_from_post,
    settings_from_post,
)
from tenure.channels.schemas import EndpointCreate, EndpointRead, EndpointUpdate
from tenure.errors import ResourceNotFound, TenureError
from tenure.kit.deps import RuntimeDep, SessionDep
from tenure.kit.runtime import Runtime
from tenure.web.templating import is_htmx, login_redirect, render

BASE = "/settings/channels"

EndpointId = Annotated[int, Path(ge=1, le=MAX_ID)]

router = APIRouter(include_in_schema=False)


def _account_keys(session: Session, endpoints: list[EndpointRead]) -> dict[int, str]:
    ids = {e.account_id for e in endpoints if e.account_id is not None}
    if not ids:
        return {}
    rows = session.execute(select(Account.id, Account.external_id).where(Account.id.in_(ids)))
    return {row.id: row.external_id for row in rows}


def _page(
    request: Request,
    session: Session,
    runtime: Runtime,
    principal: Principal,
    *,
    new_form: EndpointForm | None = None,
    status_code: int = 200,
) -> Response:
    kinds = kind_forms()
    forms = {k.kind: blank_form(k) for k in kinds}
    if new_form is not None:
        forms[new_form.kind] = new_form
    error = None
    endpoints: list[EndpointRead] = []
    try:
        key = sending.secret_key(runtime.settings.home)
        endpoints = service.list_endpoints(session, key=key, limit=1000).items
    except TenureError as exc:
        error = exc.message
    return render(
        request,
        "channels.html",
        principal=principal,
        nav="settings",
        status_code=status_code,
        kinds=kinds,
        forms=forms,
        open_kind=new_form.kind if new_form is not None else None,
        endpoints=endpoints,
        accounts=_account_keys(session, endpoints),
        labels={k.kind: k.label for k in kinds},
        saved=request.query_params.get("saved"),
        error=error,
    )


def _forbidden(request: Request, principal: Principal) -> Response:
    return render(
        request, "channels.html", principal=principal, nav="settings", status_code=403,
        forbidden=True, kinds=[], forms={}, endpoints=[], accounts={}, labels={},
        open_kind=None, saved=None, error=None,
    )  # fmt: skip


async def _form_data(request: Request) -> dict[str, str]:
    raw = await request.form()
    return {key: value for key, value in raw.items() if isinstance(value, str)}


def _not_found(request: Request, principal: Principal, endpoint_id: int) -> Response:
    return render(
        request, "not_found.html", principal=principal, status_code=404,
        message_key="channels.not_found", message_params={"id": endpoint_id},
    )  # fmt: skip


@router.get(BASE)
def channels_page(
    request: Request, session: SessionDep, runtime: RuntimeDep, principal: OptionalPrincipal
) -> Response:
    """The endpoints, a form per kind to add one, and their test buttons (admins)."""
    if principal is None:
        return login_redirect(request)
    if not principal.is_admin:
        return _forbidden(request, principal)
    return _page(request, session, runtime, principal)


def _create(
    request: Request, session: Session, runtime: Runtime, principal: Principal,
    data: dict[str, str],
) -> Response:  # fmt: skip
    kind = kind_form(data.get("kind", ""))
    if kind is None:
        return _page(request, session, runtime, principal, status_code=422)
    form = form_from_post(kind, data)
    try:
        payload = EndpointCreate(
            name=data.get("name", "").strip(), kind=kind.kind,
            account=data.get("account", "").strip() or None,
            settings={k: v for k, v in settings_from_post(kind, data).items() if v is not None},
            secrets=secrets_from_post(kind, data), is_default=bool(data.get("is_default")),
            enabled=bool(data.get("enabled")),
        )  # fmt: skip
        key = sending.secret_key(runtime.settings.home)
        created = service.create_endpoint(session, key=key, actor=principal, data=payload)
    except ValidationError as exc:
        form.problems = payload_problems(exc)
    except TenureError as exc:
        session.rollback()
        form.problems = problems_of(exc)
    else:
        return RedirectResponse(f"{BASE}?saved={created.id}", status_code=303)
    return _page(request, session, runtime, principal, new_form=form, status_code=422)


@router.post(BASE)
async def create_channel(
    request: Request, session: SessionDep, runtime: RuntimeDep, principal: OptionalPrincipal
) -> Response:
    """Add an endpoint from a kind's form (admins)."""
    if principal is None:
        return login_redirect(request)
    await check_csrf(request, principal)
    if not principal.is_admin:
        return _forbidden(request, principal)
    data = await _form_data(request)
    return await run_in_threadpool(_create, request, session, runtime, principal, data)


def _edit_page(
    request: Request,
    session: Session,
    runtime: Runtime,
    principal: Principal,
    endpoint_id: int,
    *,
    form: EndpointForm | None = None,
    status_code: int = 200,
) -> Response:
    key = sending.secret_key(runtime.settings.home)
    endpoint = service.get_endpoint(session, key=key, endpoint_id=endpoint_id)
    kind = kind_form(endpoint.kind)
    account_key = _account_keys(session, [endpoint]).get(endpoint.account_id or 0, "")
    stored = form_of(endpoint, account_key)
    if form is not None:
        form.secrets_set = stored.secrets_set
    return render(
        request, "channels_edit.html", principal=principal, nav="settings",
        status_code=status_code, endpoint=endpoint, kind=kind, form=form or stored,
        kind_label=kind.label if kind else endpoint.kind,
    )  # fmt: skip


@router.get(BASE + "/{endpoint_id}")
def edit_channel_page(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: OptionalPrincipal,
    endpoint_id: EndpointId,
) -> Response:
    """One endpoint's form (admins)."""
    if principal is None:
        return login_redirect(request)
    if not principal.is_admin:
        return _forbidden(request, principal)
    try:
        return _edit_page(request, session, runtime, principal, endpoint_id)
    except ResourceNotFound:
        return _not_found(request, principal, endpoint_id)


def _update(
    request: Request, session: Session, runtime: Runtime, principal: Principal,
    endpoint_id: int, data: dict[str, str],
) -> Response:  # fmt: skip
    key = sending.secret_key(runtime.settings.home)
    endpoint = service.get_endpoint(session, key=key, endpoint_id=endpoint_id)
    kind = kind_form(endpoint.kind)
    if kind is None:
        raise ResourceNotFound(f"no plugin of kind {endpoint.kind!r} is installed")
    form = form_from_post(kind, data)
    try:
        change = EndpointUpdate(
            name=data.get("name", "").strip() or endpoint.name,
            account=data.get("account", "").strip() or None,
            settings=settings_from_post(kind, data), secrets=secrets_from_post(kind, data),
            is_default=bool(data.get("is_default")), enabled=bool(data.get("enabled")),
        )  # fmt: skip
        service.update_endpoint(
            session, key=key, actor=principal, endpoint_id=endpoint_id, data=change
        )
    except ValidationError as exc:
        form.problems = payload_problems(exc)
    except TenureError as exc:
        session.rollback()
        form.problems = problems_of(exc)
    else:
        return RedirectResponse(f"{BASE}?saved={endpoint_id}", status_code=303)
    return _edit_page(request, session, runtime, principal, endpoint_id, form=form, status_code=422)


@router.post(BASE + "/{endpoint_id}")
async def update_channel(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: OptionalPrincipal,
    endpoint_id: EndpointId,
) -> Response:
    """Save an endpoint's form (admins); empty secret fields keep their value."""
    if principal is None:
        return login_redirect(request)
    await check_csrf(request, principal)
    if not principal.is_admin:
        return _forbidden(request, principal)
    data = await _form_data(request)
    return await run_in_threadpool(_update, request, session, runtime, principal, endpoint_id, data)


@router.post(BASE + "/{endpoint_id}/delete")
async def delete_channel(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: OptionalPrincipal,
    endpoint_id: EndpointId,
) -> Response:
    """Delete an endpoint (admins)."""
    if principal is None:
        return login_redirect(request)
    await check_csrf(request, principal)
    if not principal.is_admin:
        return _forbidden(request, principal)
    key = sending.secret_key(runtime.settings.home)
    try:
        await run_in_threadpool(
            service.delete_endpoint, session, key=key, actor=principal, endpoint_id=endpoint_id
        )
    except ResourceNotFound:
        return _not_found(request, principal, endpoint_id)
    return RedirectResponse(BASE, status_code=303)


def _test(
    request: Request, session: Session, runtime: Runtime, principal: Principal,
    endpoint_id: int, data: dict[str, str],
) -> Response:  # fmt: skip
    key = sending.secret_key(runtime.settings.home)
    recipient = Recipient(
        name=principal.user.name,
        email=data.get("email", "").strip() or principal.user.email,
        mobile=data.get("mobile", "").strip() or None,
    )
    result = sending.test_send(
        session, key=key, actor=principal, endpoint_id=endpoint_id, recipient=recipient
    )
    if not is_htmx(request):
        return RedirectResponse(BASE, status_code=303)
    return render(
        request, "channels_test_result.html", principal=principal, result=result,
        endpoint_id=endpoint_id,
    )  # fmt: skip


@router.post(BASE + "/{endpoint_id}/test")
async def test_channel(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: OptionalPrincipal,
    endpoint_id: EndpointId,
) -> Response:
    """Send a test message through the endpoint now (admins); HTMX gets the outcome."""
    if principal is None:
        return login_redirect(request)
    await check_csrf(request, principal)
    if not principal.is_admin:
        return _forbidden(request, principal)
    data = await _form_data(request)
    try:
        return await run_in_threadpool(
            _test, request, session, runtime, principal, endpoint_id, data
        )
    except ResourceNotFound:
        return _not_found(request, principal, endpoint_id)
