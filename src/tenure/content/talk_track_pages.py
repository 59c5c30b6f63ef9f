"""The talk-track pages: the search, and the edit form for admins and managers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tenure.auth.deps import OptionalPrincipal, Principal
from tenure.content import talk_tracks
from tenure.content.errors import InvalidContent
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
from tenure.content.schemas import LOCALES
from tenure.errors import ResourceAlreadyExists, ResourceNotFound
from tenure.kit.deps import SessionDep
from tenure.web.listing import choice, last_page, page_link, page_number
from tenure.web.templating import is_htmx, login_redirect, render

TRACK_FIELDS = ("key", "locale", "topic", "question", "answer", "tags", "department")

router = APIRouter(include_in_schema=False)


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
    page = talk_tracks.search_talk_tracks(
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
        return refused_page(principal, request)
    return _track_page(request, principal, track_id=None, form=Form(values={"locale": "zh-CN"}))


@router.get("/talk-tracks/{track_id:int}")
def talk_track_page(
    request: Request, session: SessionDep, principal: OptionalPrincipal, track_id: int
) -> Response:
    """One talk track (an edit form for admins and managers)."""
    if principal is None:
        return login_redirect(request)
    try:
        found = talk_tracks.get_talk_track(session, track_id)
    except ResourceNotFound:
        return not_found_page(request, principal)
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
        return talk_tracks.create_talk_track(session, principal, values).id
    return talk_tracks.update_talk_track(session, principal, track_id, values).id


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
        return refused_page(principal, request)
    try:
        saved = _save_track(session, principal, track_id, data)
    except ResourceNotFound:
        return not_found_page(request, principal)
    except (InvalidContent, ResourceAlreadyExists) as exc:
        session.rollback()
        form = Form(values=data, problems=problems_of(exc), error=exc.message)
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
        return refused_page(principal, request)
    try:
        talk_tracks.delete_talk_track(session, principal, track_id)
    except ResourceNotFound:
        return not_found_page(request, principal)
    return RedirectResponse("/talk-tracks", status_code=303)
