"""REST endpoints of message templates and talk tracks (`/api/v1/templates`,
`/api/v1/talk-tracks`): anyone signed in reads, admins and managers change."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from tenure.accounts.api import Limit, Offset
from tenure.accounts.service import MAX_ID
from tenure.accounts.writes import Forbidden
from tenure.auth.deps import CurrentPrincipal, Principal, require_principal, require_role
from tenure.content import compose, service
from tenure.content.schemas import (
    PreviewRequest,
    PreviewResult,
    TalkTrackCreate,
    TalkTrackRead,
    TalkTrackUpdate,
    TemplateCreate,
    TemplateRead,
    TemplateUpdate,
)
from tenure.kit.deps import SessionDep
from tenure.kit.pagination import DEFAULT_LIMIT, Page

WRITE_ROLES = ("admin", "manager")
ContentWriter = Annotated[
    Principal,
    Depends(require_role(*WRITE_ROLES, action="change templates or talk tracks")),
]
TemplateId = Annotated[int, Path(ge=1, le=MAX_ID, description="the template's id")]
TalkTrackId = Annotated[int, Path(ge=1, le=MAX_ID, description="the talk track's id")]
LocaleQuery = Annotated[str | None, Query(description="zh-CN or en")]

router = APIRouter(dependencies=[Depends(require_principal)])


@router.get("/templates", response_model=Page[TemplateRead], tags=["templates"])
def list_templates(
    session: SessionDep,
    key: Annotated[str | None, Query(description="only this template key")] = None,
    locale: LocaleQuery = None,
    format: Annotated[str | None, Query(description="any, video or document")] = None,
    q: Annotated[str | None, Query(description="text in the key or name")] = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[TemplateRead]:
    """List template variants by key, locale and format."""
    return service.list_templates(
        session, key=key, locale=locale, format=format, q=q, limit=limit, offset=offset
    )


@router.post(
    "/templates",
    response_model=TemplateRead,
    status_code=status.HTTP_201_CREATED,
    tags=["templates"],
)
def create_template(
    session: SessionDep, principal: ContentWriter, body: TemplateCreate
) -> TemplateRead:
    """Create a variant (409 when key × locale × format exists, 422 naming the part and line
    of a refused text)."""
    return service.create_template(session, principal, body.model_dump())


@router.post("/templates/preview", response_model=PreviewResult, tags=["templates"])
def preview_template(
    session: SessionDep, principal: CurrentPrincipal, body: PreviewRequest
) -> PreviewResult:
    """Render a stored template (anyone signed in) or unsaved fields (admins and managers) for
    an account and contact, or for sample data; problems come back in the result."""
    if body.fields is not None and principal.role not in WRITE_ROLES:
        raise Forbidden(
            f"role {principal.role} may preview stored templates only (template_id); "
            "previewing new text needs admin or manager"
        )
    return compose.preview(
        session,
        template_id=body.template_id,
        fields=body.fields.model_dump() if body.fields is not None else None,
        account=body.account,
        contact=body.contact,
        locale=body.locale,
        links=body.links,
        alert=body.alert,
    )


@router.get("/templates/{template_id}", response_model=TemplateRead, tags=["templates"])
def get_template(session: SessionDep, template_id: TemplateId) -> TemplateRead:
    """Read one template variant."""
    return service.get_template(session, template_id)


@router.patch("/templates/{template_id}", response_model=TemplateRead, tags=["templates"])
def update_template(
    session: SessionDep, principal: ContentWriter, template_id: TemplateId, body: TemplateUpdate
) -> TemplateRead:
    """Change the fields sent (a shipped template edited here is kept by install-shipped)."""
    return service.update_template(
        session, principal, template_id, body.model_dump(exclude_unset=True)
    )


@router.delete(
    "/templates/{template_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    tags=["templates"],
)
def delete_template(session: SessionDep, principal: ContentWriter, template_id: TemplateId) -> None:
    """Delete one template variant."""
    service.delete_template(session, principal, template_id)


@router.get("/talk-tracks", response_model=Page[TalkTrackRead], tags=["talk-tracks"])
def search_talk_tracks(
    session: SessionDep,
    q: Annotated[
        str | None, Query(description="words to find in topic, question, answer or tags")
    ] = None,
    locale: LocaleQuery = None,
    tag: Annotated[str | None, Query(description="only talk tracks with this tag")] = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[TalkTrackRead]:
    """Search talk tracks (every word, any case, Chinese or English), topic matches first."""
    return service.search_talk_tracks(session, q, locale, tag, limit, offset)


@router.post(
    "/talk-tracks",
    response_model=TalkTrackRead,
    status_code=status.HTTP_201_CREATED,
    tags=["talk-tracks"],
)
def create_talk_track(
    session: SessionDep, principal: ContentWriter, body: TalkTrackCreate
) -> TalkTrackRead:
    """Create a talk track (409 when its key exists in the locale)."""
    return service.create_talk_track(session, principal, body.model_dump())


@router.get("/talk-tracks/{track_id}", response_model=TalkTrackRead, tags=["talk-tracks"])
def get_talk_track(session: SessionDep, track_id: TalkTrackId) -> TalkTrackRead:
    """Read one talk track."""
    return service.get_talk_track(session, track_id)


@router.patch("/talk-tracks/{track_id}", response_model=TalkTrackRead, tags=["talk-tracks"])
def update_talk_track(
    session: SessionDep, principal: ContentWriter, track_id: TalkTrackId, body: TalkTrackUpdate
) -> TalkTrackRead:
    """Change the fields sent of one talk track."""
    return service.update_talk_track(
        session, principal, track_id, body.model_dump(exclude_unset=True)
    )


@router.delete(
    "/talk-tracks/{track_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    tags=["talk-tracks"],
)
def delete_talk_track(session: SessionDep, principal: ContentWriter, track_id: TalkTrackId) -> None:
    """Delete one talk track."""
    service.delete_talk_track(session, principal, track_id)
