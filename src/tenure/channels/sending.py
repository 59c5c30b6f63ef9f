"""Sending through a stored endpoint: the server's key, its checked settings, resolve, test-send."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from tenure.auth.audit import record
from tenure.auth.clock import utcnow
from tenure.auth.deps import Principal
from tenure.channels.base import ChannelPlugin, DeliveryError, Message, Recipient
from tenure.channels.models import ChannelEndpoint
from tenure.channels.registry import UnknownChannel, plugin
from tenure.channels.schemas import SendTestResult
from tenure.channels.secrets import SecretKeyError, load_key, unseal
from tenure.errors import ResourceNotFound, TenureError

ENTITY = "channel_endpoint"
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


def _problems(exc: ValidationError, prefix: str) -> list[tuple[str, str]]:
    problems = []
    for error in exc.errors():
        path = prefix
        for part in error["loc"]:
            path += f"[{part}]" if isinstance(part, int) else f".{part}"
        problems.append((path, error["msg"].removeprefix("Value error, ")))
    return problems


def plugin_of(kind: str) -> ChannelPlugin:
    """The plugin of `kind`, or an InvalidEndpoint naming the field `kind`."""
    try:
        return plugin(kind)
    except UnknownChannel as exc:
        raise InvalidEndpoint([("kind", str(exc))]) from None


def validate_config(
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


def unseal_endpoint(endpoint: ChannelEndpoint, key: bytes) -> dict[str, Any]:
    """The endpoint's secrets, unsealed with `key` (ChannelSecretsError when they cannot be)."""
    try:
        return unseal(key, endpoint.secrets)
    except SecretKeyError as exc:
        raise ChannelSecretsError(f"endpoint {endpoint.name!r}: {exc}") from None


def load_endpoint(session: Session, endpoint_id: int) -> ChannelEndpoint:
    """The endpoint's row (ResourceNotFound when there is none)."""
    endpoint = session.get(ChannelEndpoint, endpoint_id)
    if endpoint is None:
        raise ResourceNotFound(f"no channel endpoint has id {endpoint_id}")
    return endpoint


def _load(endpoint: ChannelEndpoint, key: bytes) -> ResolvedEndpoint:
    channel = plugin_of(endpoint.kind)
    settings, secrets = validate_config(
        channel, dict(endpoint.settings or {}), unseal_endpoint(endpoint, key)
    )
    return ResolvedEndpoint(channel, settings, secrets)


def resolve(session: Session, endpoint_id: int, *, key: bytes) -> ResolvedEndpoint:
    """The plugin, settings and secrets to send through an endpoint (for the dispatcher).

    Raises ResourceNotFound, EndpointDisabled, ChannelSecretsError (secrets sealed with
    another key) or InvalidEndpoint (stored settings the plugin no longer accepts).
    """
    endpoint = load_endpoint(session, endpoint_id)
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
    endpoint = load_endpoint(session, endpoint_id)
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
