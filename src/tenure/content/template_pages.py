"""The template pages: the list, the edit form, and the live preview for a chosen account."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.accounts.models import Account
from tenure.auth.deps import OptionalPrincipal, Principal
from tenure.content import compose, service
from tenure.content.errors import InvalidContent, TemplateError
from tenure.content.pages_base import (
    PAGE_SIZE,
    SEARCH_MAX,
    Csrf,
    Form,
    FormData,
    can_write,
    not_found_page,
    problems_of,
    refused_page,
)
from tenure.content.schemas import FORMATS, LOCALES, PreviewResult, ProblemRead
from tenure.errors import ResourceAlreadyExists, ResourceNotFound
from tenure.kit.deps import SessionDep
from tenure.web.listing import choice, last_page, page_link, page_number
from tenure.web.templating import is_htmx, login_redirect, render

PREVIEW_ACCOUNTS = 200
TEMPLATE_FIELDS = ("key", "locale", "format", "name", "subject", "body", "html")

router = APIRouter(include_in_schema=False)


@router.get("/templates")
def templates_page(request: Request, session: SessionDep, principal: OptionalPrincipal) -> Response:
    """Template variants, filtered by text in key or name and by locale."""
    if principal is None:
        return login_redirect(request)
    query = request.query_params
    q = (query.get("q") or "").strip()[:SEARCH_MAX]
    locale = choice(query.get("locale"), LOCALES)
    number = page_number(query.get("page"))
    filters: dict[str, Any] = {"q": q, "locale": locale, "page": number}
    page = service.list_templates(
        session, q=q or None, locale=locale, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE
    )
    context: dict[str, Any] = {
        "page": page,
        "filters": filters,
        "last_page": last_page(page.total, PAGE_SIZE),
        "page_link": lambda number: page_link("/templates", filters, number),
    }
    if is_htmx(request):
        return render(request, "content_templates_results.html", principal=principal, **context)
    return render(
        request, "content_templates.html", principal=principal, nav="templates", locales=LOCALES,
        writer=can_write(principal), **context,
    )  # fmt: skip


def _accounts(session: Session) -> list[tuple[str, str]]:
    rows = session.execute(
        select(Account.external_id, Account.name).order_by(Account.name).limit(PREVIEW_ACCOUNTS)
    ).all()
    return [(r.external_id, r.name) for r in rows]


def _template_page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    template_id: int | None,
    form: Form,
    status_code: int = 200,
) -> Response:
    return render(
        request, "content_template.html", principal=principal, nav="templates",
        status_code=status_code, template_id=template_id, form=form,
        editable=can_write(principal), locales=LOCALES, formats=FORMATS,
        accounts=_accounts(session), saved=request.query_params.get("saved") == "1",
        shipped=form.values.get("shipped") == "1",
    )  # fmt: skip


def _template_form(session: Session, template_id: int) -> Form:
    found = service.get_template(session, template_id)
    values = {name: getattr(found, name) or "" for name in TEMPLATE_FIELDS}
    values["shipped"] = "1" if found.shipped else ""
    return Form(values=values)


@router.get("/templates/new")
def new_template(request: Request, session: SessionDep, principal: OptionalPrincipal) -> Response:
    """An empty template form (admins and managers)."""
    if principal is None:
        return login_redirect(request)
    if not can_write(principal):
        return refused_page(principal, request)
    form = Form(values={"locale": "zh-CN", "format": "any"})
    return _template_page(request, session, principal, template_id=None, form=form)


def _save_template(
    session: Session, principal: Principal, template_id: int | None, data: dict[str, str]
) -> int:
    values: dict[str, Any] = {name: data.get(name, "") for name in TEMPLATE_FIELDS}
    values["html"] = values["html"] if values["html"].strip() else None
    if template_id is None:
        return service.create_template(session, principal, values).id
    return service.update_template(session, principal, template_id, values).id


@router.post("/templates/new", dependencies=[Csrf])
def create_template(
    request: Request, session: SessionDep, principal: OptionalPrincipal, data: FormData
) -> Response:
    """Create a template from the form; refused texts come back with every problem."""
    return _post_template(request, session, principal, None, data)


@router.post("/templates/{template_id:int}", dependencies=[Csrf])
def save_template(
    request: Request,
    session: SessionDep,
    principal: OptionalPrincipal,
    template_id: int,
    data: FormData,
) -> Response:
    """Save the edited template (admins and managers)."""
    return _post_template(request, session, principal, template_id, data)


def _post_template(
    request: Request,
    session: Session,
    principal: Principal | None,
    template_id: int | None,
    data: dict[str, str],
) -> Response:
    if principal is None:
        return login_redirect(request)
    if not can_write(principal):
        return refused_page(principal, request)
    try:
        saved = _save_template(session, principal, template_id, data)
    except ResourceNotFound:
        return not_found_page(request, principal)
    except (TemplateError, InvalidContent, ResourceAlreadyExists) as exc:
        session.rollback()
        form = Form(values=data, problems=problems_of(exc), error=exc.message)
        return _template_page(request, session, principal, template_id=template_id, form=form,
                              status_code=exc.status_code)  # fmt: skip
    return RedirectResponse(f"/templates/{saved}?saved=1", status_code=303)


@router.get("/templates/{template_id:int}")
def template_page(
    request: Request, session: SessionDep, principal: OptionalPrincipal, template_id: int
) -> Response:
    """One template: its texts (an edit form for admins and managers) and a live preview."""
    if principal is None:
        return login_redirect(request)
    try:
        form = _template_form(session, template_id)
    except ResourceNotFound:
        return not_found_page(request, principal)
    return _template_page(request, session, principal, template_id=template_id, form=form)


@router.post("/templates/{template_id:int}/delete", dependencies=[Csrf])
def delete_template(
    request: Request, session: SessionDep, principal: OptionalPrincipal, template_id: int
) -> Response:
    """Delete the template (admins and managers)."""
    if principal is None:
        return login_redirect(request)
    if not can_write(principal):
        return refused_page(principal, request)
    try:
        service.delete_template(session, principal, template_id)
    except ResourceNotFound:
        return not_found_page(request, principal)
    return RedirectResponse("/templates", status_code=303)


def _preview(
    session: Session, principal: Principal, template_id: int | None, data: dict[str, str]
) -> PreviewResult | str:
    """The preview the form asks for, or the message of what stops it."""
    account = data.get("preview_account", "").strip() or None
    contact = data.get("preview_contact", "").strip() or None
    fields = None
    if can_write(principal) and "body" in data:
        fields = {"subject": data.get("subject", ""), "body": data.get("body", ""),
                  "html": data.get("html") or None}  # fmt: skip
    try:
        return compose.preview(
            session, template_id=template_id if fields is None else None, fields=fields,
            account=account, contact=contact if account else None,
            locale=data.get("locale") or None,
        )  # fmt: skip
    except (ResourceNotFound, InvalidContent) as exc:
        return exc.message


def _preview_fragment(
    request: Request, principal: Principal, outcome: PreviewResult | str
) -> Response:
    if isinstance(outcome, str):
        problem = ProblemRead(field="preview", line=None, message=outcome)
        result = PreviewResult(ok=False, sample=False, problems=[problem])
    else:
        result = outcome
    return render(request, "content_template_preview.html", principal=principal, result=result)


@router.post("/templates/preview", dependencies=[Csrf])
def preview_new(
    request: Request, session: SessionDep, principal: OptionalPrincipal, data: FormData
) -> Response:
    """The preview of a template being written (HTMX fragment)."""
    if principal is None:
        return login_redirect(request)
    if not can_write(principal):
        return refused_page(principal, request)
    return _preview_fragment(request, principal, _preview(session, principal, None, data))


@router.post("/templates/{template_id:int}/preview", dependencies=[Csrf])
def preview_template(
    request: Request,
    session: SessionDep,
    principal: OptionalPrincipal,
    template_id: int,
    data: FormData,
) -> Response:
    """The template rendered for the chosen account and contact (HTMX fragment); writers see
    the texts in the form, unsaved edits included."""
    if principal is None:
        return login_redirect(request)
    try:
        service.get_template(session, template_id)
    except ResourceNotFound as exc:
        return _preview_fragment(request, principal, exc.message)
    return _preview_fragment(request, principal, _preview(session, principal, template_id, data))
