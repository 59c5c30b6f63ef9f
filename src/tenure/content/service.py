"""Message templates: saving (checked in the sandbox), choosing a variant, rendering.

Services flush; the caller's session commits. Every change is written to the audit log.
Talk tracks live in `tenure.content.talk_tracks` (re-exported here).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tenure.accounts.models import Contact
from tenure.accounts.service import numeric_id, resolve_account_id
from tenure.auth.audit import record, snapshot
from tenure.auth.deps import Principal
from tenure.content.errors import InvalidContent, validated
from tenure.content.models import MessageTemplate
from tenure.content.render import (
    FIELDS,
    Rendered,
    TemplateError,
    TemplateProblem,
    check_fields,
    check_template,
    render,
    render_part,
)
from tenure.content.schemas import (
    FORMATS,
    LOCALES,
    PreviewResult,
    ProblemRead,
    TemplateCreate,
    TemplateRead,
    TemplateUpdate,
)
from tenure.content.shipped import SHIPPED_TEMPLATES
from tenure.content.talk_tracks import (
    create_talk_track,
    delete_talk_track,
    find_talk_track,
    get_talk_track,
    install_shipped_talk_tracks,
    search_talk_tracks,
    update_talk_track,
)
from tenure.content.variables import build_variables, sample_variables
from tenure.errors import ResourceAlreadyExists, ResourceNotFound
from tenure.kit.pagination import DEFAULT_LIMIT, Page, check_choice, check_paging

__all__ = [
    "InstallReport",
    "create_talk_track",
    "create_template",
    "delete_talk_track",
    "delete_template",
    "find_talk_track",
    "get_talk_track",
    "get_template",
    "install_shipped",
    "list_templates",
    "pick_variant",
    "preview",
    "render_for",
    "render_text",
    "resolve_contact",
    "sample_alert",
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


def _load(session: Session, template_id: int) -> MessageTemplate:
    template = session.get(MessageTemplate, template_id) if numeric_id(template_id) else None
    if template is None:
        raise ResourceNotFound(f"no template has id {template_id}")
    return template


def get_template(session: Session, template_id: int) -> TemplateRead:
    """One template variant by id."""
    return TemplateRead.model_validate(_load(session, template_id))


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


def _flush(session: Session) -> None:
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
    _flush(session)
    record(session, actor=actor, action="create", entity=ENTITY, entity_id=template.id,
           after=snapshot(template))  # fmt: skip
    return TemplateRead.model_validate(template)


def update_template(
    session: Session, actor: Actor, template_id: int, changes: Mapping[str, Any]
) -> TemplateRead:
    """Change the fields sent; a shipped template edited this way is never overwritten by
    `install_shipped` again."""
    template = _load(session, template_id)
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
    _flush(session)
    record(session, actor=actor, action="update", entity=ENTITY, entity_id=template.id,
           before=before, after=snapshot(template))  # fmt: skip
    return TemplateRead.model_validate(template)


def delete_template(session: Session, actor: Actor, template_id: int) -> None:
    """Delete one variant (a shipped one comes back with the next `install_shipped`)."""
    template = _load(session, template_id)
    before = snapshot(template)
    session.delete(template)
    session.flush()
    record(session, actor=actor, action="delete", entity=ENTITY, entity_id=template_id,
           before=before)  # fmt: skip


# -- rendering ----------------------------------------------------------------------------


def render_for(
    session: Session,
    key: str,
    account_id: int,
    contact_id: int | None = None,
    links: Mapping[str, Any] | None = None,
    locale: str | None = None,
    format: str | None = None,
    *,
    extra: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> Rendered:
    """Render template `key` for an account and contact, in the variant the contact prefers
    (or `locale` / `format` when given); raises TemplateError, ResourceNotFound."""
    contact = session.get(Contact, contact_id) if contact_id is not None else None
    if locale is None and contact is not None:
        locale = contact.locale
    if format is None and contact is not None:
        format = contact.format_preference
    template = pick_variant(session, key, locale, format)
    variables = build_variables(session, account_id, contact_id, links=links, extra=extra, now=now)
    rendered = render(fields_of(template), variables)
    return dataclasses.replace(
        rendered, locale=template.locale, format=template.format, key=template.key,
        template_id=template.id,
    )  # fmt: skip


def render_text(
    session: Session,
    text: str,
    *,
    account_id: int,
    contact_id: int | None = None,
    links: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> str:
    """Render one ad-hoc template text (a task's title or detail) for an account."""
    problems = check_template(text)
    if problems:
        raise TemplateError([TemplateProblem(p.line, p.message, "text") for p in problems])
    variables = build_variables(session, account_id, contact_id, links=links, extra=extra, now=now)
    return render_part(text, variables, field="text").strip()


def resolve_contact(session: Session, key: int | str, account_id: int) -> int:
    """Id of the contact named by `key` (id or external id), which must be of the account."""
    number = key if isinstance(key, int) else numeric_id(key)
    contact = session.get(Contact, number) if number is not None else None
    if contact is None:
        contact = session.scalar(select(Contact).where(Contact.external_id == str(key)))
    if contact is None:
        raise ResourceNotFound(f"no contact has id or external id {key!r}")
    if contact.account_id != account_id:
        raise InvalidContent([("contact", f"contact {key!r} belongs to another account")])
    return contact.id


def sample_alert(locale: str | None = None) -> dict[str, Any]:
    """The sample `alert` variable, for previews of alert messages outside an alert."""
    alert: dict[str, Any] = sample_variables(normalize_locale(locale))["alert"]
    return alert


def _problems(problems: list[TemplateProblem]) -> list[ProblemRead]:
    return [ProblemRead(field=p.field or "template", line=p.line, message=p.message)
            for p in problems]  # fmt: skip


def preview(
    session: Session,
    *,
    template_id: int | None = None,
    fields: Mapping[str, str | None] | None = None,
    account: int | str | None = None,
    contact: int | str | None = None,
    locale: str | None = None,
    links: Mapping[str, Any] | None = None,
    alert: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> PreviewResult:
    """A stored template or unsaved `fields` rendered for an account (sample data without
    one); problems are returned, not raised, so an editor can show them."""
    chosen_format = None
    if template_id is not None:
        template = _load(session, template_id)
        fields = fields_of(template)
        locale, chosen_format = template.locale, template.format
    texts = dict(fields or {})
    locale = normalize_locale(locale)
    problems = check_fields(texts, sample=sample_variables(locale))
    base = {"template_id": template_id, "locale": locale, "format": chosen_format}
    if problems:
        return PreviewResult(ok=False, problems=_problems(problems), sample=account is None,
                             **base)  # fmt: skip
    extra = {"alert": dict(alert) if alert is not None else sample_alert(locale)}
    if account is None:
        variables = sample_variables(locale, links=links, extra=extra, now=now)
    else:
        account_id = resolve_account_id(session, account)
        contact_id = resolve_contact(session, contact, account_id) if contact is not None else None
        variables = build_variables(
            session, account_id, contact_id, links=links, extra=extra, now=now
        )
    try:
        rendered = render(texts, variables)
    except TemplateError as exc:
        return PreviewResult(ok=False, problems=_problems(exc.template_problems),
                             sample=account is None, **base)  # fmt: skip
    return PreviewResult(ok=True, subject=rendered.subject, text=rendered.text,
                         html=rendered.html, sample=account is None, **base)  # fmt: skip


# -- shipped content ----------------------------------------------------------------------


@dataclass
class InstallReport:
    """What `install_shipped` did: rows created, updated, and kept because an admin edited
    them, for templates and talk tracks."""

    templates: dict[str, int] = field(
        default_factory=lambda: {"created": 0, "updated": 0, "unchanged": 0, "kept": 0}
    )
    talk_tracks: dict[str, int] = field(
        default_factory=lambda: {"created": 0, "updated": 0, "unchanged": 0, "kept": 0}
    )


def install_shipped(session: Session, actor: Actor = "system") -> InstallReport:
    """Add the shipped templates and talk tracks, update the shipped rows still as shipped,
    and leave every row an admin created or edited (`shipped` false) alone."""
    report = InstallReport()
    for item in SHIPPED_TEMPLATES:
        values = dataclasses.asdict(item)
        existing = session.scalar(
            select(MessageTemplate).where(
                MessageTemplate.key == item.key,
                MessageTemplate.locale == item.locale,
                MessageTemplate.format == item.format,
            )
        )
        if existing is None:
            create_template(session, actor, values, shipped=True)
            report.templates["created"] += 1
        elif not existing.shipped:
            report.templates["kept"] += 1
        elif all(getattr(existing, k) == v for k, v in values.items()):
            report.templates["unchanged"] += 1
        else:
            check_texts(values, item.locale)
            before = snapshot(existing)
            for name, value in values.items():
                setattr(existing, name, value)
            _flush(session)
            record(session, actor=actor, action="update", entity=ENTITY,
                   entity_id=existing.id, before=before, after=snapshot(existing))  # fmt: skip
            report.templates["updated"] += 1
    report.talk_tracks = install_shipped_talk_tracks(session, actor)
    return report
