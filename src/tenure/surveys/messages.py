"""The invitation and reminder messages: the content domain's `nps_survey` / `nps_reminder`
templates (shipped, editable per locale and format), rendered with `links.survey`."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tenure.content.compose import render_for
from tenure.content.render import Rendered
from tenure.content.service import pick_variant
from tenure.errors import ResourceNotFound, TenureError

INVITATION_TEMPLATE = "nps_survey"
REMINDER_TEMPLATE = "nps_reminder"


class TemplateMissing(TenureError):
    """The survey's message template is not installed (nothing can be sent without it)."""

    status_code = 409


def render_message(
    session: Session,
    template_key: str,
    *,
    account_id: int,
    contact_id: int,
    links: dict[str, Any],
    locale: str,
) -> Rendered:
    """Render `template_key` for the contact in `locale`; `links["survey"]` is the link."""
    try:
        pick_variant(session, template_key, locale, None)
    except ResourceNotFound:  # only the template's absence: other lookups raise their own
        raise TemplateMissing(
            f"the message template {template_key!r} is not installed; "
            "run `tenure templates install-shipped` or create it under /templates"
        ) from None
    return render_for(
        session,
        template_key,
        account_id=account_id,
        contact_id=contact_id,
        links=links,
        locale=locale,
    )
