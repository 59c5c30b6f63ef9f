"""The talk-track library: approved answers, searched by substring in Chinese and English.

Search matches every word of the query (split on spaces) somewhere in the topic, question,
answer or tags, ignoring case, with the same SQL on SQLite and PostgreSQL. Tags are a JSON
list; JSON text keeps non-ASCII characters as `\\uXXXX` escapes, so a word is looked for
both as typed and as JSON writes it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, Text, case, cast, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tenure.accounts.service import numeric_id
from tenure.auth.audit import record, snapshot
from tenure.auth.deps import Principal
from tenure.content.errors import validated
from tenure.content.models import TalkTrack
from tenure.content.schemas import LOCALES, TalkTrackCreate, TalkTrackRead, TalkTrackUpdate
from tenure.content.shipped import SHIPPED_TALK_TRACKS
from tenure.errors import ResourceAlreadyExists, ResourceNotFound
from tenure.kit.pagination import DEFAULT_LIMIT, Page, check_choice, check_paging

Actor = Principal | str
ENTITY = "talk_track"
MAX_TERMS = 10


def _tags(tags: list[str]) -> list[str]:
    """Tags without repeats (any case), in the order given."""
    seen: set[str] = set()
    kept = []
    for tag in tags:
        if tag.lower() not in seen:
            seen.add(tag.lower())
            kept.append(tag)
    return kept


def _actor_id(actor: Actor) -> int | None:
    return actor.user.id if isinstance(actor, Principal) else None


def _load(session: Session, track_id: int) -> TalkTrack:
    track = session.get(TalkTrack, track_id) if numeric_id(track_id) else None
    if track is None:
        raise ResourceNotFound(f"no talk track has id {track_id}")
    return track


def _check_unique(session: Session, key: str, locale: str, track_id: int | None = None) -> None:
    found = session.scalar(
        select(TalkTrack.id).where(TalkTrack.key == key, TalkTrack.locale == locale)
    )
    if found is not None and found != track_id:
        raise ResourceAlreadyExists(f"talk track {key!r} already exists in {locale} (id {found})")


def _flush(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError:
        raise ResourceAlreadyExists("the talk track conflicts with one saved meanwhile") from None


def get_talk_track(session: Session, track_id: int) -> TalkTrackRead:
    """One talk track by id."""
    return TalkTrackRead.model_validate(_load(session, track_id))


def find_talk_track(session: Session, key: str, locale: str | None = None) -> TalkTrackRead:
    """The talk track `key` in `locale` (else in any locale, zh-CN first)."""
    rows = session.scalars(select(TalkTrack).where(TalkTrack.key == key)).all()
    if not rows:
        raise ResourceNotFound(f"no talk track has key {key!r}")
    order = {code: i for i, code in enumerate(LOCALES)}
    best = min(rows, key=lambda r: (r.locale != locale, order.get(r.locale, 99), r.locale))
    return TalkTrackRead.model_validate(best)


def _contains(column: Any, needle: str) -> ColumnElement[bool]:
    return func.lower(column).contains(needle, autoescape=True)


def _json_text(value: str) -> str:
    """`value` as it appears inside JSON text written with ASCII escapes."""
    return json.dumps(value)[1:-1]


def search_talk_tracks(
    session: Session,
    q: str | None = None,
    locale: str | None = None,
    tag: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[TalkTrackRead]:
    """Talk tracks whose topic, question, answer or tags contain every word of `q` (any
    case), optionally of one locale and carrying `tag`; topic matches first."""
    check_paging(limit, offset)
    where: list[ColumnElement[bool]] = []
    tags_text = func.lower(cast(TalkTrack.tags, Text))
    terms = (q or "").lower().split()[:MAX_TERMS]
    for term in terms:
        forms = {term, _json_text(term).lower()}
        where.append(
            or_(
                _contains(TalkTrack.topic, term),
                _contains(TalkTrack.question, term),
                _contains(TalkTrack.answer, term),
                *(tags_text.contains(form, autoescape=True) for form in forms),
            )
        )
    if locale:
        where.append(TalkTrack.locale == check_choice("locale", locale, LOCALES))
    if tag and tag.strip():
        wanted = tag.strip().lower()
        where.append(
            or_(*(tags_text.contains(f'"{form}"', autoescape=True)
                  for form in {wanted, _json_text(wanted).lower()}))
        )  # fmt: skip
    total = session.scalar(select(func.count(TalkTrack.id)).where(*where)) or 0
    topic_first = case((_contains(TalkTrack.topic, terms[0]), 0), else_=1) if terms else None
    order: list[Any] = [TalkTrack.key, TalkTrack.locale, TalkTrack.id]
    if topic_first is not None:
        order.insert(0, topic_first)
    rows = session.scalars(
        select(TalkTrack).where(*where).order_by(*order).limit(limit).offset(offset)
    ).all()
    items = [TalkTrackRead.model_validate(r) for r in rows]
    return Page[TalkTrackRead](items=items, total=total, limit=limit, offset=offset)


def create_talk_track(
    session: Session, actor: Actor, values: Mapping[str, Any], *, shipped: bool = False
) -> TalkTrackRead:
    """Add a talk track (409 when its key exists in the locale)."""
    data = validated(TalkTrackCreate, values).model_dump()
    data["tags"] = _tags(data["tags"])
    _check_unique(session, data["key"], data["locale"])
    track = TalkTrack(**data, shipped=shipped, updated_by_id=_actor_id(actor))
    session.add(track)
    _flush(session)
    record(session, actor=actor, action="create", entity=ENTITY, entity_id=track.id,
           after=snapshot(track))  # fmt: skip
    return TalkTrackRead.model_validate(track)


def update_talk_track(
    session: Session, actor: Actor, track_id: int, changes: Mapping[str, Any]
) -> TalkTrackRead:
    """Change the fields sent; an edited shipped track is no longer updated by
    `install_shipped`."""
    track = _load(session, track_id)
    data = validated(TalkTrackUpdate, changes).model_dump(exclude_unset=True)
    if "tags" in data:
        data["tags"] = _tags(data["tags"])
    data = {k: v for k, v in data.items() if getattr(track, k) != v}
    if not data:
        return TalkTrackRead.model_validate(track)
    _check_unique(session, data.get("key", track.key), data.get("locale", track.locale), track.id)
    before = snapshot(track)
    for name, value in data.items():
        setattr(track, name, value)
    track.shipped = False
    track.updated_by_id = _actor_id(actor)
    _flush(session)
    record(session, actor=actor, action="update", entity=ENTITY, entity_id=track.id,
           before=before, after=snapshot(track))  # fmt: skip
    return TalkTrackRead.model_validate(track)


def delete_talk_track(session: Session, actor: Actor, track_id: int) -> None:
    """Delete one talk track."""
    track = _load(session, track_id)
    before = snapshot(track)
    session.delete(track)
    session.flush()
    record(session, actor=actor, action="delete", entity=ENTITY, entity_id=track_id,
           before=before)  # fmt: skip


def install_shipped_talk_tracks(session: Session, actor: Actor) -> dict[str, int]:
    """Add or refresh the shipped talk tracks; rows an admin created or edited stay."""
    counts = {"created": 0, "updated": 0, "unchanged": 0, "kept": 0}
    for item in SHIPPED_TALK_TRACKS:
        values = dataclasses.asdict(item)
        existing = session.scalar(
            select(TalkTrack).where(TalkTrack.key == item.key, TalkTrack.locale == item.locale)
        )
        if existing is None:
            create_talk_track(session, actor, values, shipped=True)
            counts["created"] += 1
        elif not existing.shipped:
            counts["kept"] += 1
        elif all(getattr(existing, k) == v for k, v in values.items()):
            counts["unchanged"] += 1
        else:
            before = snapshot(existing)
            for name, value in values.items():
                setattr(existing, name, value)
            _flush(session)
            record(session, actor=actor, action="update", entity=ENTITY,
                   entity_id=existing.id, before=before, after=snapshot(existing))  # fmt: skip
            counts["updated"] += 1
    return counts
