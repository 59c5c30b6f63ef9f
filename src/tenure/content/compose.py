"""Templates rendered for an account and contact (variables from the database), and previews."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.accounts.models import Contact
from tenure.accounts.service import numeric_id, resolve_account_id
from tenure.content.checking import check_fields, check_template
from tenure.content.errors import InvalidContent, TemplateError, TemplateProblem
from tenure.content.render import Rendered, render, render_part
from tenure.content.schemas import PreviewResult, ProblemRead
from tenure.content.service import fields_of, load_template, normalize_locale, pick_variant
from tenure.content.variables import build_variables, sample_variables
from tenure.errors import ResourceNotFound


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
        template = load_template(session, template_id)
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
