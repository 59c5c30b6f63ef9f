"""The channels page, /settings/channels: endpoints, a form per kind, a test button.

Admins only (others see why not). Each kind's form is built from its plugin's settings
and secrets models: secret fields are password inputs that show only whether a value is
set and are never filled in; left empty they keep the stored value. Saving goes through
`tenure.channels.service`, the same validation as the API; a refused form is shown again
with each problem next to its field (`settings.port`, `secrets.password`). The Test
button sends at once (HTMX) and shows the outcome in the endpoint's row.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.accounts.models import Account
from tenure.accounts.service import MAX_ID
from tenure.auth.deps import OptionalPrincipal, Principal, check_csrf
from tenure.channels import service
from tenure.channels.base import Recipient
from tenure.channels.registry import plugins
from tenure.channels.schemas import EndpointCreate, EndpointRead, EndpointUpdate
from tenure.errors import ResourceAlreadyExists, ResourceNotFound, TenureError
from tenure.kit.deps import RuntimeDep, SessionDep
from tenure.kit.runtime import Runtime
from tenure.web.templating import is_htmx, login_redirect, render

BASE = "/settings/channels"
InputKind = Literal["text", "number", "select", "checkbox", "password"]

EndpointId = Annotated[int, Path(ge=1, le=MAX_ID)]

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class FieldSpec:
    """One input of a kind's form, read from a plugin model's field."""

    key: str  # the form field's name: settings.<name> or secrets.<name>
    name: str
    input: InputKind
    required: bool
    default: str
    description: str
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class KindForm:
    """A plugin kind and the inputs of its form."""

    kind: str
    label: str
    settings: tuple[FieldSpec, ...]
    secrets: tuple[FieldSpec, ...]


@dataclass
class EndpointForm:
    """What a form shows: typed values by field name, problems, and which secrets are set."""

    kind: str
    values: dict[str, str] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)
    secrets_set: tuple[str, ...] = ()

    def value(self, key: str) -> str:
        return self.values.get(key, "")

    def errors(self, key: str) -> list[str]:
        return [message for k, message in self.problems if k == key]


def _unwrap(annotation: Any) -> Any:
    """`X | None` as X."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else ""
    return str(value)


def field_specs(model: type[BaseModel], group: str) -> tuple[FieldSpec, ...]:
    """The inputs of a settings (`group` "settings") or secrets ("secrets") model."""
    specs = []
    for name, info in model.model_fields.items():
        annotation = _unwrap(info.annotation)
        options: tuple[str, ...] = ()
        kind: InputKind
        if group == "secrets":
            kind = "password"
        elif get_origin(annotation) is Literal:
            kind, options = "select", tuple(str(a) for a in get_args(annotation))
        elif annotation is bool:
            kind = "checkbox"
        elif annotation in (int, float):
            kind = "number"
        else:
            kind = "text"
        default = "" if info.is_required() else _text(info.get_default(call_default_factory=True))
        specs.append(
            FieldSpec(
                key=f"{group}.{name}", name=name, input=kind, required=info.is_required(),
                default=default, description=info.description or "", options=options,
            )
        )  # fmt: skip
    return tuple(specs)


def kind_forms() -> list[KindForm]:
    """Every installed plugin's form."""
    return [
        KindForm(
            kind=kind,
            label=cls.label,
            settings=field_specs(cls.Settings, "settings"),
            secrets=field_specs(cls.Secrets, "secrets"),
        )
        for kind, cls in plugins().items()
    ]


def blank_form(kind: KindForm) -> EndpointForm:
    """A new endpoint's form: the settings' defaults, enabled."""
    values = {spec.key: spec.default for spec in kind.settings}
    return EndpointForm(kind=kind.kind, values={**values, "enabled": "1"})


def form_of(endpoint: EndpointRead, account_key: str) -> EndpointForm:
    """An endpoint's form, filled with its settings (never its secrets)."""
    values = {f"settings.{k}": _text(v) for k, v in endpoint.settings.items()}
    values.update(
        name=endpoint.name, account=account_key, is_default=_text(endpoint.is_default),
        enabled=_text(endpoint.enabled),
    )  # fmt: skip
    return EndpointForm(kind=endpoint.kind, values=values, secrets_set=tuple(endpoint.secrets_set))


def form_from_post(kind: KindForm, data: dict[str, str]) -> EndpointForm:
    """The form as the user sent it (secrets left out: they are never shown again)."""
    values = {k: v for k, v in data.items() if not k.startswith("secrets.")}
    for spec in kind.settings:
        if spec.input == "checkbox":
            values[spec.key] = "1" if data.get(spec.key) else ""
    for name in ("is_default", "enabled"):
        values[name] = "1" if data.get(name) else ""
    return EndpointForm(kind=kind.kind, values=values)


def settings_from_post(kind: KindForm, data: dict[str, str]) -> dict[str, Any]:
    """The settings a form sent: an empty field is null (its default), a checkbox a bool."""
    settings: dict[str, Any] = {}
    for spec in kind.settings:
        if spec.input == "checkbox":
            settings[spec.name] = bool(data.get(spec.key))
        else:
            text = data.get(spec.key, "").strip()
            settings[spec.name] = text or None
    return settings


def secrets_from_post(kind: KindForm, data: dict[str, str]) -> dict[str, Any]:
    """The secrets a form sent: empty fields are left out (kept), "clear" ones are null."""
    secrets: dict[str, Any] = {}
    for spec in kind.secrets:
        if data.get(f"{spec.key}.clear"):
            secrets[spec.name] = None
        elif data.get(spec.key):
            secrets[spec.name] = data[spec.key]
    return secrets


def _payload_problems(exc: ValidationError) -> list[tuple[str, str]]:
    return [(".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()]


def _kind(kind: str) -> KindForm | None:
    return next((k for k in kind_forms() if k.kind == kind), None)


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
        key = service.secret_key(runtime.settings.home)
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


def _problems_of(exc: TenureError) -> list[tuple[str, str]]:
    if isinstance(exc, ResourceAlreadyExists):
        return [("name", exc.message)]
    if isinstance(exc, ResourceNotFound):
        return [("account", exc.message)]
    return list(getattr(exc, "problems", None) or [("", exc.message)])


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
    kind = _kind(data.get("kind", ""))
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
        key = service.secret_key(runtime.settings.home)
        created = service.create_endpoint(session, key=key, actor=principal, data=payload)
    except ValidationError as exc:
        form.problems = _payload_problems(exc)
    except TenureError as exc:
        session.rollback()
        form.problems = _problems_of(exc)
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
    key = service.secret_key(runtime.settings.home)
    endpoint = service.get_endpoint(session, key=key, endpoint_id=endpoint_id)
    kind = _kind(endpoint.kind)
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
    key = service.secret_key(runtime.settings.home)
    endpoint = service.get_endpoint(session, key=key, endpoint_id=endpoint_id)
    kind = _kind(endpoint.kind)
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
        form.problems = _payload_problems(exc)
    except TenureError as exc:
        session.rollback()
        form.problems = _problems_of(exc)
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
    key = service.secret_key(runtime.settings.home)
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
    key = service.secret_key(runtime.settings.home)
    recipient = Recipient(
        name=principal.user.name,
        email=data.get("email", "").strip() or principal.user.email,
        mobile=data.get("mobile", "").strip() or None,
    )
    result = service.test_send(
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
