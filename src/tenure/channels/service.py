"""Configured endpoints: create, change, delete, list and find them, checked against their plugin.

Settings and secrets are validated against the plugin's models (a problem names its exact
field, `settings.port`, `secrets.password`); secrets are sealed with the server's Fernet key
(`channels/secrets.py`) and never returned, only the names of those set. Every change is
written to the audit log with the secrets left out. Services only flush; the caller's
session commits. Resolving an endpoint for sending and test-sends are in
`tenure.channels.sending`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tenure.accounts.service import resolve_account_id
from tenure.auth.audit import record, snapshot
from tenure.channels.models import ChannelEndpoint
from tenure.channels.registry import plugins
from tenure.channels.schemas import (
    ChannelKindRead,
    EndpointCreate,
    EndpointRead,
    EndpointUpdate,
)
from tenure.channels.secrets import seal
from tenure.channels.sending import (
    ENTITY,
    Actor,
    ChannelSecretsError,
    load_endpoint,
    plugin_of,
    unseal_endpoint,
    validate_config,
)
from tenure.errors import ResourceAlreadyExists, ResourceNotFound
from tenure.kit.pagination import DEFAULT_LIMIT, Page, check_paging

AUDITED = ("id", "name", "kind", "account_id", "settings", "is_default", "enabled")


def list_kinds() -> list[ChannelKindRead]:
    """Every installed plugin with the JSON schemas of its settings and secrets."""
    kinds = []
    for kind, cls in plugins().items():
        secrets_schema = cls.Secrets.model_json_schema()
        kinds.append(
            ChannelKindRead(
                kind=kind,
                label=cls.label,
                settings_schema=cls.Settings.model_json_schema(),
                secrets_schema=secrets_schema,
                secret_fields=list(secrets_schema.get("properties", {})),
            )
        )
    return kinds


def _secret_values(secrets: BaseModel) -> dict[str, Any]:
    return secrets.model_dump(mode="json", exclude_none=True)


def _read(endpoint: ChannelEndpoint, key: bytes) -> EndpointRead:
    try:
        secrets_set = sorted(k for k, v in unseal_endpoint(endpoint, key).items() if v is not None)
        secrets_error = None
    except ChannelSecretsError as exc:
        secrets_set, secrets_error = [], exc.message
    return EndpointRead(
        id=endpoint.id,
        name=endpoint.name,
        kind=endpoint.kind,
        account_id=endpoint.account_id,
        settings=dict(endpoint.settings or {}),
        secrets_set=secrets_set,
        secrets_error=secrets_error,
        is_default=endpoint.is_default,
        enabled=endpoint.enabled,
        last_test_at=endpoint.last_test_at,
        last_test_result=endpoint.last_test_result,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
    )


def _audit_view(endpoint: ChannelEndpoint, secrets_set: list[str]) -> dict[str, Any]:
    """The endpoint as the audit log keeps it: no secret values, only which are set."""
    return {**snapshot(endpoint, AUDITED), "secrets_set": secrets_set}


def _check_name(session: Session, name: str, endpoint_id: int | None = None) -> None:
    query = select(ChannelEndpoint.id).where(ChannelEndpoint.name == name)
    found = session.scalar(query)
    if found is not None and found != endpoint_id:
        raise ResourceAlreadyExists(f"a channel endpoint named {name!r} exists already")


def _make_default(session: Session, endpoint: ChannelEndpoint) -> None:
    """Clear `is_default` on the other endpoints of the same kind and owner."""
    owner = (
        ChannelEndpoint.account_id.is_(None)
        if endpoint.account_id is None
        else ChannelEndpoint.account_id == endpoint.account_id
    )
    session.execute(
        update(ChannelEndpoint)
        .where(ChannelEndpoint.kind == endpoint.kind, owner, ChannelEndpoint.id != endpoint.id)
        .values(is_default=False)
    )


def endpoint_id_of(session: Session, *, ref: str) -> int:
    """The id of the endpoint named `ref`, or whose id `ref` is (404 otherwise)."""
    found = session.scalar(select(ChannelEndpoint.id).where(ChannelEndpoint.name == ref))
    if found is None and ref.isascii() and ref.isdigit() and len(ref) <= 10:
        found = session.scalar(select(ChannelEndpoint.id).where(ChannelEndpoint.id == int(ref)))
    if found is None:
        raise ResourceNotFound(f"no channel endpoint is named {ref!r} or has that id")
    return found


def get_endpoint(session: Session, *, key: bytes, endpoint_id: int) -> EndpointRead:
    """One endpoint (404 when it does not exist)."""
    return _read(load_endpoint(session, endpoint_id), key)


def list_endpoints(
    session: Session,
    *,
    key: bytes,
    kind: str | None = None,
    account_id: int | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> Page[EndpointRead]:
    """Endpoints by kind and name, optionally of one kind or one account."""
    check_paging(limit, offset)
    query = select(ChannelEndpoint)
    if kind is not None:
        query = query.where(ChannelEndpoint.kind == kind)
    if account_id is not None:
        query = query.where(ChannelEndpoint.account_id == account_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(ChannelEndpoint.kind, ChannelEndpoint.name).limit(limit).offset(offset)
    )
    return Page(items=[_read(e, key) for e in rows], total=total, limit=limit, offset=offset)


def create_endpoint(
    session: Session, *, key: bytes, actor: Actor, data: EndpointCreate
) -> EndpointRead:
    """Add an endpoint after validating its settings and secrets against its plugin."""
    channel = plugin_of(data.kind)
    settings, secrets = validate_config(channel, data.settings, data.secrets)
    _check_name(session, data.name)
    account_id = resolve_account_id(session, data.account) if data.account is not None else None
    values = _secret_values(secrets)
    endpoint = ChannelEndpoint(
        name=data.name,
        kind=data.kind,
        account_id=account_id,
        settings=settings.model_dump(mode="json"),
        secrets=seal(key, values) if values else None,
        is_default=data.is_default,
        enabled=data.enabled,
    )
    session.add(endpoint)
    session.flush()
    if endpoint.is_default:
        _make_default(session, endpoint)
    record(
        session, actor=actor, action="create", entity=ENTITY, entity_id=endpoint.id,
        after=_audit_view(endpoint, sorted(values)),
    )  # fmt: skip
    session.refresh(endpoint)
    return _read(endpoint, key)


def _merge(stored: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """`stored` with `changes` applied; a change to null removes the key."""
    merged = {**stored, **changes}
    return {k: v for k, v in merged.items() if v is not None}


def update_endpoint(
    session: Session, *, key: bytes, actor: Actor, endpoint_id: int, data: EndpointUpdate
) -> EndpointRead:
    """Change an endpoint; settings and secrets are merged into the stored ones."""
    endpoint = load_endpoint(session, endpoint_id)
    channel = plugin_of(endpoint.kind)
    try:
        stored_secrets = unseal_endpoint(endpoint, key)
        readable = True
    except ChannelSecretsError:
        if data.secrets is None:
            raise
        # Secrets sealed with a lost key are gone: the ones given now replace them.
        stored_secrets, readable = {}, False
    before = _audit_view(endpoint, sorted(stored_secrets) if readable else [])
    settings_data = _merge(dict(endpoint.settings or {}), data.settings or {})
    secrets_data = _merge(stored_secrets, data.secrets or {})
    settings, secrets = validate_config(channel, settings_data, secrets_data)
    given = data.model_fields_set
    if data.name is not None and data.name != endpoint.name:
        _check_name(session, data.name, endpoint.id)
        endpoint.name = data.name
    if "account" in given:
        endpoint.account_id = (
            resolve_account_id(session, data.account) if data.account is not None else None
        )
    endpoint.settings = settings.model_dump(mode="json")
    values = _secret_values(secrets)
    if data.secrets is not None:
        endpoint.secrets = seal(key, values) if values else None
    if data.enabled is not None:
        endpoint.enabled = data.enabled
    if data.is_default is not None:
        endpoint.is_default = data.is_default
    session.flush()
    if endpoint.is_default:
        _make_default(session, endpoint)
    after = _audit_view(endpoint, sorted(values))
    record(
        session, actor=actor, action="update", entity=ENTITY, entity_id=endpoint.id,
        before=before, after=after,
    )  # fmt: skip
    session.refresh(endpoint)
    return _read(endpoint, key)


def delete_endpoint(session: Session, *, key: bytes, actor: Actor, endpoint_id: int) -> None:
    """Delete an endpoint (queued messages through it fall back to the default endpoint)."""
    endpoint = load_endpoint(session, endpoint_id)
    before = _audit_view(endpoint, _read(endpoint, key).secrets_set)
    session.delete(endpoint)
    session.flush()
    record(
        session, actor=actor, action="delete", entity=ENTITY, entity_id=endpoint_id,
        before=before,
    )  # fmt: skip
