"""Configured endpoints: create, change, delete, list, resolve for sending, and test-send.

Settings and secrets are validated against the plugin's models (a problem names its exact
field, `settings.port`, `secrets.password`); secrets are sealed with the server's Fernet key
(`channels/secrets.py`) and never returned, only the names of those set. Every change is
written to the audit log with the secrets left out. Services only flush; the caller's
session commits.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tenure.accounts.service import resolve_account_id
from tenure.auth.audit import record, snapshot
from tenure.auth.clock import utcnow
from tenure.auth.deps import Principal
from tenure.channels.base import ChannelPlugin, DeliveryError, Message, Recipient
from tenure.channels.models import ChannelEndpoint
from tenure.channels.registry import UnknownChannel, plugin, plugins
from tenure.channels.schemas import (
    ChannelKindRead,
    EndpointCreate,
    EndpointRead,
    EndpointUpdate,
    SendTestResult,
)
from tenure.channels.secrets import SecretKeyError, load_key, seal, unseal
from tenure.errors import ResourceAlreadyExists, ResourceNotFound, TenureError
from tenure.kit.pagination import DEFAULT_LIMIT, Page, check_paging

ENTITY = "channel_endpoint"
AUDITED = ("id", "name", "kind", "account_id", "settings", "is_default", "enabled")
RESULT_LIMIT = 2000  # characters of a test result kept on the endpoint
TEST_SUBJECT = "Tenure test message · 测试消息"
TEST_TEXT = (
    "This is a test message from Tenure for the endpoint “{name}”. "
    "If you can read it, the channel works.\n\n"
    "这是 Tenure 为端点“{name}”发送的测试消息：能看到它，说明渠道配置正确。"
)

Actor = Principal | str


class InvalidEndpoint(TenureError):
    """Settings or secrets the plugin refuses; `problems` name each field by its path."""

    status_code = 422

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{key}: {msg}" for key, msg in problems))


class ChannelSecretsError(TenureError):
    """An endpoint's stored secrets cannot be read with the server's secret key."""

    status_code = 409


class EndpointDisabled(TenureError):
    """The endpoint is switched off; nothing is sent through it."""

    status_code = 409


class ResolvedEndpoint(NamedTuple):
    """What the dispatcher needs to send through an endpoint."""

    plugin: ChannelPlugin
    settings: BaseModel
    secrets: BaseModel


def secret_key(home: Path) -> bytes:
    """The server's secret key (see `channels/secrets.py`), or a ChannelSecretsError."""
    try:
        return load_key(home)
    except SecretKeyError as exc:
        raise ChannelSecretsError(str(exc)) from None


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


def _problems(exc: ValidationError, prefix: str) -> list[tuple[str, str]]:
    problems = []
    for error in exc.errors():
        path = prefix
        for part in error["loc"]:
            path += f"[{part}]" if isinstance(part, int) else f".{part}"
        problems.append((path, error["msg"].removeprefix("Value error, ")))
    return problems


def _plugin(kind: str) -> ChannelPlugin:
    try:
        return plugin(kind)
    except UnknownChannel as exc:
        raise InvalidEndpoint([("kind", str(exc))]) from None


def _validate(
    channel: ChannelPlugin, settings: dict[str, Any], secrets: dict[str, Any]
) -> tuple[BaseModel, BaseModel]:
    """The plugin's models of `settings` and `secrets`, or every problem of both at once."""
    problems: list[tuple[str, str]] = []
    parsed: dict[str, BaseModel] = {}
    for name, model, data in (
        ("settings", channel.Settings, settings),
        ("secrets", channel.Secrets, secrets),
    ):
        try:
            parsed[name] = model.model_validate(data)
        except ValidationError as exc:
            problems += _problems(exc, name)
    if problems:
        raise InvalidEndpoint(problems)
    return parsed["settings"], parsed["secrets"]


def _secret_values(secrets: BaseModel) -> dict[str, Any]:
    return secrets.model_dump(mode="json", exclude_none=True)


def _unseal(endpoint: ChannelEndpoint, key: bytes) -> dict[str, Any]:
    try:
        return unseal(key, endpoint.secrets)
    except SecretKeyError as exc:
        raise ChannelSecretsError(f"endpoint {endpoint.name!r}: {exc}") from None


def _get(session: Session, endpoint_id: int) -> ChannelEndpoint:
    endpoint = session.get(ChannelEndpoint, endpoint_id)
    if endpoint is None:
        raise ResourceNotFound(f"no channel endpoint has id {endpoint_id}")
    return endpoint


def _read(endpoint: ChannelEndpoint, key: bytes) -> EndpointRead:
    try:
        secrets_set = sorted(k for k, v in _unseal(endpoint, key).items() if v is not None)
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
    return _read(_get(session, endpoint_id), key)


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
    channel = _plugin(data.kind)
    settings, secrets = _validate(channel, data.settings, data.secrets)
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
    endpoint = _get(session, endpoint_id)
    channel = _plugin(endpoint.kind)
    try:
        stored_secrets = _unseal(endpoint, key)
        readable = True
    except ChannelSecretsError:
        if data.secrets is None:
            raise
        # Secrets sealed with a lost key are gone: the ones given now replace them.
        stored_secrets, readable = {}, False
    before = _audit_view(endpoint, sorted(stored_secrets) if readable else [])
    settings_data = _merge(dict(endpoint.settings or {}), data.settings or {})
    secrets_data = _merge(stored_secrets, data.secrets or {})
    settings, secrets = _validate(channel, settings_data, secrets_data)
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
    endpoint = _get(session, endpoint_id)
    before = _audit_view(endpoint, _read(endpoint, key).secrets_set)
    session.delete(endpoint)
    session.flush()
    record(
        session, actor=actor, action="delete", entity=ENTITY, entity_id=endpoint_id,
        before=before,
    )  # fmt: skip


def _load(endpoint: ChannelEndpoint, key: bytes) -> ResolvedEndpoint:
    channel = _plugin(endpoint.kind)
    settings, secrets = _validate(channel, dict(endpoint.settings or {}), _unseal(endpoint, key))
    return ResolvedEndpoint(channel, settings, secrets)


def resolve(session: Session, endpoint_id: int, *, key: bytes) -> ResolvedEndpoint:
    """The plugin, settings and secrets to send through an endpoint (for the dispatcher).

    Raises ResourceNotFound, EndpointDisabled, ChannelSecretsError (secrets sealed with
    another key) or InvalidEndpoint (stored settings the plugin no longer accepts).
    """
    endpoint = _get(session, endpoint_id)
    if not endpoint.enabled:
        raise EndpointDisabled(f"channel endpoint {endpoint.name!r} is disabled")
    return _load(endpoint, key)


def _outcome(
    endpoint: ChannelEndpoint, key: bytes, message: Message
) -> tuple[bool, bool | None, str, str | None]:
    """(ok, transient, result text, provider id) of sending `message` through `endpoint`."""
    try:
        channel, settings, secrets = _load(endpoint, key)
    except TenureError as exc:
        return False, False, exc.message, None
    try:
        delivery = channel.send(message, settings, secrets)
    except DeliveryError as exc:
        kind = "transient" if exc.transient else "permanent"
        return False, exc.transient, f"failed ({kind}): {exc.reason}", None
    except Exception as exc:  # a plugin's bug must show on the page, not as a 500
        return False, None, f"error: {type(exc).__name__}: {exc}", None
    provider = delivery.provider_message_id
    return True, None, "ok" + (f" (id {provider})" if provider else ""), provider


def test_send(
    session: Session,
    *,
    key: bytes,
    actor: Actor,
    endpoint_id: int,
    recipient: Recipient | None = None,
) -> SendTestResult:
    """Send a test message straight through the endpoint (not the outbox) and keep the
    outcome on it (`last_test_at`, `last_test_result`)."""
    endpoint = _get(session, endpoint_id)
    message = Message(
        idempotency_key=f"test-{endpoint.id}-{uuid.uuid4().hex}",
        subject=TEST_SUBJECT,
        text=TEST_TEXT.format(name=endpoint.name),
        recipient=recipient or Recipient(),
        metadata={"source": "test", "endpoint": endpoint.name},
    )
    ok, transient, result, provider = _outcome(endpoint, key, message)
    tested_at = utcnow()
    endpoint.last_test_at = tested_at
    endpoint.last_test_result = result[:RESULT_LIMIT]
    session.flush()
    record(
        session, actor=actor, action="test", entity=ENTITY, entity_id=endpoint.id,
        after={"ok": ok, "result": endpoint.last_test_result},
    )  # fmt: skip
    return SendTestResult(
        ok=ok, transient=transient, result=endpoint.last_test_result,
        provider_message_id=provider, tested_at=tested_at,
    )  # fmt: skip
