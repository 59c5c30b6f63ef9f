"""Message templates: saving (checked in the sandbox), listing and choosing a variant.

Services flush; the caller's session commits. Every change is written to the audit log.
Talk tracks live in `tenure.content.talk_tracks` (re-exported here); rendering for an
account and the preview are in `tenure.content.compose`, the shipped content's install in
`tenure.content.install`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tenure.accounts.service import numeric_id
from tenure.auth.audit import record, snapshot
from tenure.auth.deps import Principal
from tenure.content.checking import FIELDS, check_fields
from tenure.content.errors import TemplateError, validated
from tenure.content.models import MessageTemplate
from tenure.content.schemas import (
    FORMATS,
    LOCALES,
    TemplateCreate,
    TemplateRead,
    TemplateUpdate,
)
from tenure.content.talk_tracks import (
    create_talk_track,
    delete_talk_track,
    find_talk_track,
    get_talk_track,
    search_talk_tracks,
    update_talk_track,
)
from tenure.content.variables import sample_variables
from tenure.errors import ResourceAlreadyExists, ResourceNotFound
from tenure.kit.pagination import DEFAULT_LIMIT, Page, check_choice, check_paging

__all__ = [
    "create_talk_track",
    "create_template",
    "delete_talk_track",
    "delete_template",
    "find_talk_track",
    "get_talk_track",
    "get_template",
    "list_templates",
    "pick_variant",
    "search_talk_tracks",
    "update_talk_track",
    "update_template",
]

Actor = Principal | str
DEFAULT_LOCALE = "zh-CN"
ENTITY = "message_template"


def actor_id(actor: Actor) -> int | None:
    """The user id a change is credited to (None for the CLI or the system)."""
    return actor.user.id if isinstance(actor, Principal) else None


def normalize_locale(tag: str | None) -> str:
    """The template locale serving a language tag ("zh", "zh-Hans", "en-GB" …)."""
    if not tag:
        return DEFAULT_LOCALE
    primary = tag.strip().replace("_", "-").split("-")[0].lower()
    return {"zh": "zh-CN", "en": "en"}.get(primary, tag)


def fields_of(template: MessageTemplate) -> dict[str, str | None]:
    """The three template texts of a stored variant."""
    return {"subject": template.subject, "body": template.body, "html": template.html}


def check_texts(fields: Mapping[str, str | None], locale: str) -> None:
    """Refuse template texts with any problem (TemplateError naming the part and line)."""
    problems = check_fields(fields, sample=sample_variables(locale))
    if problems:
        raise TemplateError(problems)


# -- reading ------------------------------------------------------------------------------


def load_template(session: Session, template_id: int) -> MessageTemplate:
    """The stored variant with id `template_id` (ResourceNotFound when there is none)."""
    template = session.get(MessageTemplate, template_id) if numeric_id(template_id) else None
    if template is None:
        raise ResourceNotFound(f"no template has id {template_id}")
    return template


def get_template(session: Session, template_id: int) -> TemplateRead:
    """One template variant by id."""
    return TemplateRead.model_validate(load_template(session, template_id))


def list_templates(
    session: Session,
    *,
    key: str | None = None,
    locale: str | None = None,
    format: str | None = None,
    q: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[TemplateRead]:
    """Templates by key, locale and format; `q` matches key or name (any case)."""
    check_paging(limit, offset)
    where: list[ColumnElement[bool]] = []
    if key:
        where.append(MessageTemplate.key == key)
    if locale:
        where.append(MessageTemplate.locale == check_choice("locale", locale, LOCALES))
    if format:
        where.append(MessageTemplate.format == check_choice("format", format, FORMATS))
    if q:
        needle = q.lower()
        where.append(
            or_(
                func.lower(MessageTemplate.key).contains(needle, autoescape=True),
                func.lower(MessageTemplate.name).contains(needle, autoescape=True),
            )
        )
    total = session.scalar(select(func.count(MessageTemplate.id)).where(*where)) or 0
    rows = session.scalars(
        select(MessageTemplate)
        .where(*where)
        .order_by(MessageTemplate.key, MessageTemplate.locale, MessageTemplate.format)
        .limit(limit)
        .offset(offset)
    ).all()
    items = [TemplateRead.model_validate(r) for r in rows]
    return Page[TemplateRead](items=items, total=total, limit=limit, offset=offset)


def pick_variant(
    session: Session, key: str, locale: str | None, format: str | None
) -> MessageTemplate:
    """The variant of `key` for a locale and format: exact, else the locale's "any", else
    the other locale in the format, else its "any", else any other format (locale first)."""
    variants = session.scalars(select(MessageTemplate).where(MessageTemplate.key == key)).all()
    if not variants:
        raise ResourceNotFound(f"no template has key {key!r} (in any locale or format)")
    wanted_locale = normalize_locale(locale)
    wanted_format = format or "any"

    def rank(v: MessageTemplate) -> tuple[bool, bool, int, int, str, str]:
        fmt = 0 if v.format == wanted_format else 1 if v.format == "any" else 2
        known = LOCALES.index(v.locale) if v.locale in LOCALES else len(LOCALES)
        return (fmt == 2, v.locale != wanted_locale, fmt, known, v.locale, v.format)

    return min(variants, key=rank)


# -- changing -----------------------------------------------------------------------------


def _check_unique(
    session: Session, key: str, locale: str, format: str, template_id: int | None = None
) -> None:
    found = session.scalar(
        select(MessageTemplate.id).where(
            MessageTemplate.key == key,
            MessageTemplate.locale == locale,
            MessageTemplate.format == format,
        )
    )
    if found is not None and found != template_id:
        raise ResourceAlreadyExists(
            f"template {key!r} already has a {locale} variant in format {format!r} (id {found})"
        )


def flush_template(session: Session) -> None:
    """Flush; a clash with a variant saved meanwhile is a ResourceAlreadyExists."""
    try:
        session.flush()
    except IntegrityError:
        raise ResourceAlreadyExists("the template conflicts with one saved meanwhile") from None


def create_template(
    session: Session, actor: Actor, values: Mapping[str, Any], *, shipped: bool = False
) -> TemplateRead:
    """Add a variant (409 when key × locale × format exists; 422 naming part and line when
    a text is refused)."""
    data = validated(TemplateCreate, values).model_dump()
    _check_unique(session, data["key"], data["locale"], data["format"])
    check_texts(data, data["locale"])
    template = MessageTemplate(**data, shipped=shipped, updated_by_id=actor_id(actor))
    session.add(template)
    flush_template(session)
    record(session, actor=actor, action="create", entity=ENTITY, entity_id=template.id,
           after=snapshot(template))  # fmt: skip
    return TemplateRead.model_validate(template)


def update_template(
    session: Session, actor: Actor, template_id: int, changes: Mapping[str, Any]
) -> TemplateRead:
    """Change the fields sent; a shipped template edited this way is never overwritten by
    `install_shipped` again."""
    template = load_template(session, template_id)
    data = validated(TemplateUpdate, changes).model_dump(exclude_unset=True)
    data = {k: v for k, v in data.items() if getattr(template, k) != v}
    if not data:
        return TemplateRead.model_validate(template)
    merged = {k: data.get(k, getattr(template, k)) for k in ("key", "locale", "format")}
    _check_unique(session, merged["key"], merged["locale"], merged["format"], template.id)
    check_texts({k: v for k, v in data.items() if k in FIELDS}, merged["locale"])
    before = snapshot(template)
    for name, value in data.items():
        setattr(template, name, value)
    template.shipped = False
    template.updated_by_id = actor_id(actor)
    flush_template(session)
    record(session, actor=actor, action="update", entity=ENTITY, entity_id=template.id,
           before=before, after=snapshot(template))  # fmt: skip
    return TemplateRead.model_validate(template)


def delete_template(session: Session, actor: Actor, template_id: int) -> None:
    """Delete one variant (a shipped one comes back with the next `install_shipped`)."""
    template = load_template(session, template_id)
    before = snapshot(template)
    session.delete(template)
    session.flush()
    record(session, actor=actor, action="delete", entity=ENTITY, entity_id=template_id,
           before=before)  # fmt: skip
