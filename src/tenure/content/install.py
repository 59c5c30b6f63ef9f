"""Installing the shipped templates and talk tracks, leaving the rows an admin changed alone."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.auth.audit import record, snapshot
from tenure.content.models import MessageTemplate
from tenure.content.service import ENTITY, Actor, check_texts, create_template, flush_template
from tenure.content.shipped import SHIPPED_TEMPLATES
from tenure.content.talk_tracks import install_shipped_talk_tracks


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
            flush_template(session)
            record(session, actor=actor, action="update", entity=ENTITY,
                   entity_id=existing.id, before=before, after=snapshot(existing))  # fmt: skip
            report.templates["updated"] += 1
    report.talk_tracks = install_shipped_talk_tracks(session, actor)
    return report
