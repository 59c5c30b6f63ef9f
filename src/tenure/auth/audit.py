"""The audit log: who changed what (entity and id), before and after, when."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from tenure.auth.clock import utcnow
from tenure.auth.models import AuditEntry

if TYPE_CHECKING:
    from tenure.auth.deps import Principal

# Never copied into the log, whatever table they live on.
SECRET_FIELDS = frozenset({"password_hash", "token_hash", "csrf_token"})


def json_safe(value: Any) -> Any:
    """`value` as JSON: dates as ISO strings, decimals as floats, enums as their value."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, enum.Enum):
        return json_safe(value.value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, Iterable) and not isinstance(value, bytes | bytearray):
        return [json_safe(v) for v in value]
    return str(value)


def snapshot(obj: Any, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The column values of an ORM object as a JSON-safe dict (secrets left out)."""
    columns = [attr.key for attr in inspect(obj).mapper.column_attrs]
    keys = columns if fields is None else [f for f in fields if f in columns]
    return {k: json_safe(getattr(obj, k)) for k in keys if k not in SECRET_FIELDS}


def record(
    session: Session,
    *,
    actor: Principal | str,
    action: str,
    entity: str,
    entity_id: object | None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> AuditEntry:
    """Add one audit entry (flushed, not committed); `actor` is a principal or a name."""
    if isinstance(actor, str):
        actor_id, actor_name = None, actor
    else:
        actor_id, actor_name = actor.user.id, actor.label
    entry = AuditEntry(
        at=at or utcnow(),
        actor_id=actor_id,
        actor=actor_name[:255],
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        before=None if before is None else json_safe(dict(before)),
        after=None if after is None else json_safe(dict(after)),
    )
    session.add(entry)
    session.flush()
    return entry


def list_entries(
    session: Session,
    *,
    entity: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[AuditEntry], int]:
    """Entries, newest first, filtered by entity, id, actor and action, and the total."""
    query = select(AuditEntry)
    if entity is not None:
        query = query.where(AuditEntry.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == entity_id)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).offset(offset).limit(limit)
    return list(session.scalars(page)), total
