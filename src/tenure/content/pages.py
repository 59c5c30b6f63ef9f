"""Web pages of templates and talk tracks: lists, edit forms (admins and managers), a live
preview of a template for a chosen account, and the talk-track search.

Forms go through the same service functions as the REST API, so a refused text comes back
with the same problems, each shown under its field with its line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.accounts.models import Account
from tenure.auth.deps import OptionalPrincipal, Principal, csrf_protect
from tenure.content import service
from tenure.content.api import WRITE_ROLES
from tenure.content.errors import InvalidContent
from tenure.content.render import TemplateError
from tenure.content.schemas import FORMATS, LOCALES, PreviewResult, ProblemRead
from tenure.errors import ResourceAlreadyExists, ResourceNotFound, TenureError
from tenure.kit.deps import SessionDep
from tenure.web.listing import choice, last_page, page_link, page_number
from tenure.web.templating import is_htmx, login_redirect, render

PAGE_SIZE = 50
PREVIEW_ACCOUNTS = 200
SEARCH_MAX = 200
TEMPLATE_FIELDS = ("key", "locale", "format", "name", "subject", "body", "html")
TRACK_FIELDS = ("key", "locale", "topic", "question", "answer", "tags", "department")

router = APIRouter(include_in_schema=False)
Csrf = Depends(csrf_protect)


@dataclass
class Form:
    """What an edit form shows: each field's text and the problems by field."""

    values: dict[str, str] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None

    def value(self, key: str) -> str:
        """The text of field `key` ("" when empty)."""
        return self.values.get(key, "")

    def errors(self, key: str) -> list[str]:
        """The problems of field `key` (each starting with its line for template texts)."""
        return [message for k, message in self.problems if k == key]


def can_write(principal: Principal) -> bool:
    """Admins and managers (with the write scope) change templates and talk tracks."""
    return principal.role in WRITE_ROLES and principal.has_scope("write")


async def form_data(request: Request) -> dict[str, str]:
    """The posted form's text fields (line ends as \\n), read before the endpoint runs."""
    raw = await request.form()
    return {k: v.replace("\r\n", "\n") for k, v in raw.items() if isinstance(v, str)}


FormData = Annotated[dict[str, str], Depends(form_data)]


def _problems_of(exc: TenureError) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = getattr(exc, "problems", [])
    return problems or [("", exc.message)]


def _refused(principal: Principal, request: Request) -> Response:
    return render(request, "content_message.html", principal=principal, status_code=403,
                  message="content.forbidden")  # fmt: skip


def _not_found(request: Request, principal: Principal) -> Response:
    return render(request, "content_message.html", principal=principal, status_code=404,
                  message="content.not_found")  # fmt: skip


# -- templates -----------------------------------------------------------------------------


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
        return _refused(principal, request)
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
        return _refused(principal, request)
    try:
        saved = _save_template(session, principal, template_id, data)
    except ResourceNotFound:
        return _not_found(request, principal)
    except (TemplateError, InvalidContent, ResourceAlreadyExists) as exc:
        session.rollback()
        form = Form(values=data, problems=_problems_of(exc), error=exc.message)
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
        return _not_found(request, principal)
    return _template_page(request, session, principal, template_id=template_id, form=form)


@router.post("/templates/{template_id:int}/delete", dependencies=[Csrf])
def delete_template(
    request: Request, session: SessionDep, principal: OptionalPrincipal, template_id: int
) -> Response:
    """Delete the template (admins and managers)."""
    if principal is None:
        return login_redirect(request)
    if not can_write(principal):
        return _refused(principal, request)
    try:
        service.delete_template(session, principal, template_id)
    except ResourceNotFound:
        return _not_found(request, principal)
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
        return service.preview(
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
        return _refused(principal, request)
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


# -- talk tracks ---------------------------------------------------------------------------


@router.get("/talk-tracks")
def talk_tracks_page(
    request: Request, session: SessionDep, principal: OptionalPrincipal
) -> Response:
    """Search the talk tracks by words (Chinese or English), language and tag."""
    if principal is None:
        return login_redirect(request)
    query = request.query_params
    q = (query.get("q") or "").strip()[:SEARCH_MAX]
    locale = choice(query.get("locale"), LOCALES)
    tag = (query.get("tag") or "").strip()[:50]
    number = page_number(query.get("page"))
    filters: dict[str, Any] = {"q": q, "locale": locale, "tag": tag, "page": number}
    page = service.search_talk_tracks(
        session, q or None, locale, tag or None, PAGE_SIZE, (number - 1) * PAGE_SIZE
    )
    context: dict[str, Any] = {
        "page": page,
        "filters": filters,
        "writer": can_write(principal),
        "last_page": last_page(page.total, PAGE_SIZE),
        "page_link": lambda number: page_link("/talk-tracks", filters, number),
    }
    if is_htmx(request):
        return render(request, "content_talk_tracks_results.html", principal=principal, **context)
    return render(request, "content_talk_tracks.html", principal=principal, nav="talk_tracks",
                  locales=LOCALES, **context)  # fmt: skip


def _track_page(
    request: Request, principal: Principal, *, track_id: int | None, form: Form,
    status_code: int = 200,
) -> Response:  # fmt: skip
    return render(
        request, "content_talk_track.html", principal=principal, nav="talk_tracks",
        status_code=status_code, track_id=track_id, form=form, editable=can_write(principal),
        locales=LOCALES, saved=request.query_params.get("saved") == "1",
    )  # fmt: skip


@router.get("/talk-tracks/new")
def new_talk_track(request: Request, principal: OptionalPrincipal) -> Response:
    """An empty talk-track form (admins and managers)."""
    if principal is None:
        return login_redirect(request)
    if not can_write(principal):
        return _refused(principal, request)
    return _track_page(request, principal, track_id=None, form=Form(values={"locale": "zh-CN"}))


@router.get("/talk-tracks/{track_id:int}")
def talk_track_page(
    request: Request, session: SessionDep, principal: OptionalPrincipal, track_id: int
) -> Response:
    """One talk track (an edit form for admins and managers)."""
    if principal is None:
        return login_redirect(request)
    try:
        found = service.get_talk_track(session, track_id)
    except ResourceNotFound:
        return _not_found(request, principal)
    values = {name: getattr(found, name) or "" for name in TRACK_FIELDS}
    values["tags"] = ", ".join(found.tags)
    return _track_page(request, principal, track_id=track_id, form=Form(values=values))


def _save_track(
    session: Session, principal: Principal, track_id: int | None, data: dict[str, str]
) -> int:
    values: dict[str, Any] = {name: data.get(name, "").strip() for name in TRACK_FIELDS}
    values["tags"] = [t.strip() for t in values["tags"].replace("，", ",").split(",") if t.strip()]
    values["department"] = values["department"] or None
    if track_id is None:
        return service.create_talk_track(session, principal, values).id
    return service.update_talk_track(session, principal, track_id, values).id


@router.post("/talk-tracks/new", dependencies=[Csrf])
def create_talk_track(
    request: Request, session: SessionDep, principal: OptionalPrincipal, data: FormData
) -> Response:
    """Create a talk track from the form."""
    return _post_track(request, session, principal, None, data)


@router.post("/talk-tracks/{track_id:int}", dependencies=[Csrf])
def save_talk_track(
    request: Request,
    session: SessionDep,
    principal: OptionalPrincipal,
    track_id: int,
    data: FormData,
) -> Response:
    """Save the edited talk track (admins and managers)."""
    return _post_track(request, session, principal, track_id, data)


def _post_track(
    request: Request,
    session: Session,
    principal: Principal | None,
    track_id: int | None,
    data: dict[str, str],
) -> Response:
    if principal is None:
        return login_redirect(request)
    if not can_write(principal):
        return _refused(principal, request)
    try:
        saved = _save_track(session, principal, track_id, data)
    except ResourceNotFound:
        return _not_found(request, principal)
    except (InvalidContent, ResourceAlreadyExists) as exc:
        session.rollback()
        form = Form(values=data, problems=_problems_of(exc), error=exc.message)
        return _track_page(request, principal, track_id=track_id, form=form,
                           status_code=exc.status_code)  # fmt: skip
    return RedirectResponse(f"/talk-tracks/{saved}?saved=1", status_code=303)


@router.post("/talk-tracks/{track_id:int}/delete", dependencies=[Csrf])
def delete_talk_track(
    request: Request, session: SessionDep, principal: OptionalPrincipal, track_id: int
) -> Response:
    """Delete the talk track (admins and managers)."""
    if principal is None:
        return login_redirect(request)
    if not can_write(principal):
        return _refused(principal, request)
    try:
        service.delete_talk_track(session, principal, track_id)
    except ResourceNotFound:
        return _not_found(request, principal)
    return RedirectResponse("/talk-tracks", status_code=303)
