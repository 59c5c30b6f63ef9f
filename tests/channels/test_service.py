"""Endpoint management in the service layer, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from tenure.accounts.models import Account
from tenure.auth.models import AuditEntry
from tenure.channels import sending, service
from tenure.channels.base import Recipient
from tenure.channels.dingtalk import DingTalkChannel
from tenure.channels.schemas import EndpointCreate, EndpointUpdate
from tenure.channels.secrets import unseal
from tenure.db import transaction
from tenure.errors import ResourceAlreadyExists, ResourceNotFound
from tenure.kit.runtime import Runtime

from .conftest import VendorServer, webhook_receiver

SECRET = "whsec-service-test-secret"


def key_of(runtime: Runtime) -> bytes:
    return sending.secret_key(runtime.settings.home)


def webhook(
    name: str = "hooks", url: str = "http://127.0.0.1:9/h", **extra: object
) -> EndpointCreate:
    return EndpointCreate.model_validate(
        {"name": name, "kind": "webhook", "settings": {"url": url},
         "secrets": {"signing_secret": SECRET}, **extra}
    )  # fmt: skip


def test_secrets_are_sealed_and_never_returned(any_runtime: Runtime) -> None:
    key = key_of(any_runtime)
    with transaction(any_runtime.sessions) as s:
        created = service.create_endpoint(s, key=key, actor="test", data=webhook())
    assert created.secrets_set == ["signing_secret"]
    assert SECRET not in created.model_dump_json()
    assert created.settings == {"url": "http://127.0.0.1:9/h", "timeout": 10.0}
    with any_runtime.engine.connect() as conn:
        raw = conn.execute(text("SELECT secrets FROM channel_endpoints")).scalar_one()
        audit = conn.execute(text("SELECT before, after FROM audit_log")).all()
    assert SECRET not in raw and raw.startswith("gAAAA")  # a Fernet token
    assert unseal(key, raw) == {"signing_secret": SECRET}
    assert audit and all(SECRET not in str(tuple(row)) for row in audit)


def test_problems_name_the_exact_field(runtime: Runtime) -> None:
    data = EndpointCreate.model_validate(
        {"name": "smtp", "kind": "email",
         "settings": {"port": "smtp", "sender_address": "not an address", "colour": "red"},
         "secrets": {"username": "only"}}
    )  # fmt: skip
    with (
        transaction(runtime.sessions) as s,
        pytest.raises(sending.InvalidEndpoint) as caught,
    ):
        service.create_endpoint(s, key=key_of(runtime), actor="test", data=data)
    fields = [field for field, _ in caught.value.problems]
    assert fields == [
        "settings.host", "settings.port", "settings.sender_address", "settings.colour", "secrets",
    ]  # fmt: skip
    assert dict(caught.value.problems)["secrets"] == "give both username and password, or neither"
    assert dict(caught.value.problems)["settings.colour"] == "Extra inputs are not permitted"


def test_unknown_kind_and_duplicate_name(runtime: Runtime) -> None:
    key = key_of(runtime)
    with transaction(runtime.sessions) as s:
        service.create_endpoint(s, key=key, actor="test", data=webhook())
    with (
        transaction(runtime.sessions) as s,
        pytest.raises(sending.InvalidEndpoint, match="unknown channel kind 'fax'"),
    ):
        service.create_endpoint(s, key=key, actor="test", data=EndpointCreate(name="f", kind="fax"))
    with transaction(runtime.sessions) as s, pytest.raises(ResourceAlreadyExists):
        service.create_endpoint(s, key=key, actor="test", data=webhook())


def test_update_merges_settings_and_secrets(any_runtime: Runtime) -> None:
    key = key_of(any_runtime)
    data = EndpointCreate.model_validate(
        {"name": "ding", "kind": "dingtalk", "settings": {"timeout": 3},
         "secrets": {"access_token": "tok", "secret": "SECabc"}}
    )  # fmt: skip
    with transaction(any_runtime.sessions) as s:
        created = service.create_endpoint(s, key=key, actor="test", data=data)
    assert created.secrets_set == ["access_token", "secret"]
    change = EndpointUpdate.model_validate(
        {"settings": {"base_url": "http://127.0.0.1:1"}, "secrets": {"secret": None}}
    )
    with transaction(any_runtime.sessions) as s:
        updated = service.update_endpoint(
            s, key=key, actor="test", endpoint_id=created.id, data=change
        )
    assert updated.settings == {"base_url": "http://127.0.0.1:1", "timeout": 3.0}
    assert updated.secrets_set == ["access_token"]
    with any_runtime.sessions() as s:
        plugin, settings, secrets = sending.resolve(s, created.id, key=key)
        assert settings.model_dump()["base_url"] == "http://127.0.0.1:1"
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "update")).one()
    assert isinstance(plugin, DingTalkChannel)
    assert secrets.model_dump() == {"access_token": "tok", "secret": None}
    assert entry.before["secrets_set"] == ["access_token", "secret"]
    assert entry.after["secrets_set"] == ["access_token"]
    assert entry.after["settings"]["base_url"] == "http://127.0.0.1:1"


def test_one_default_per_kind_and_owner(runtime: Runtime) -> None:
    key = key_of(runtime)
    with transaction(runtime.sessions) as s:
        account = Account(external_id="A-9", name="Nine")
        s.add(account)
        s.flush()
        first = service.create_endpoint(s, key=key, actor="t", data=webhook("a", is_default=True))
        own = service.create_endpoint(
            s, key=key, actor="t", data=webhook("own", account="A-9", is_default=True)
        )
        second = service.create_endpoint(s, key=key, actor="t", data=webhook("b", is_default=True))
    with runtime.sessions() as s:
        page = service.list_endpoints(s, key=key, kind="webhook")
    defaults = {e.name: e.is_default for e in page.items}
    assert defaults == {"a": False, "b": True, "own": True}
    assert {e.name: e.account_id for e in page.items}["own"] == own.account_id is not None
    assert first.id != second.id


def test_resolve_refuses_a_disabled_endpoint_and_test_send_records(
    runtime: Runtime, vendor_server: Callable[..., VendorServer]
) -> None:
    key = key_of(runtime)
    receiver = vendor_server(webhook_receiver(SECRET))
    with transaction(runtime.sessions) as s:
        created = service.create_endpoint(
            s, key=key, actor="t", data=webhook(url=receiver.url + "/in", enabled=False)
        )
    with (
        runtime.sessions() as s,
        pytest.raises(sending.EndpointDisabled, match="'hooks' is disabled"),
    ):
        sending.resolve(s, created.id, key=key)
    # A disabled endpoint can still be tested, before switching it on.
    with transaction(runtime.sessions) as s:
        result = sending.test_send(
            s, key=key, actor="t", endpoint_id=created.id, recipient=Recipient(name="Ops")
        )
    assert (result.ok, result.result, result.provider_message_id) == (
        True,
        "ok (id evt_1)",
        "evt_1",
    )
    body = json.loads(receiver.received[0].body)
    assert body["id"].startswith(f"test-{created.id}-")
    assert "hooks" in body["text"] and body["recipient"]["name"] == "Ops"
    with runtime.sessions() as s:
        stored = service.get_endpoint(s, key=key, endpoint_id=created.id)
    assert stored.last_test_result == "ok (id evt_1)" and stored.last_test_at is not None


def test_a_failed_test_send_is_recorded_with_its_reason(
    runtime: Runtime, vendor_server: Callable[..., VendorServer]
) -> None:
    key = key_of(runtime)
    receiver = vendor_server(lambda _: (503, "text/plain", b"maintenance"))
    with transaction(runtime.sessions) as s:
        created = service.create_endpoint(s, key=key, actor="t", data=webhook(url=receiver.url))
        result = sending.test_send(s, key=key, actor="t", endpoint_id=created.id)
    assert (result.ok, result.transient) == (False, True)
    assert result.result == "failed (transient): HTTP 503: maintenance"
    with runtime.sessions() as s:
        assert (
            service.get_endpoint(s, key=key, endpoint_id=created.id).last_test_result
            == result.result
        )


def test_another_key_cannot_read_the_secrets(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = key_of(runtime)
    with transaction(runtime.sessions) as s:
        created = service.create_endpoint(s, key=key, actor="t", data=webhook())
    other = Fernet.generate_key()
    message = (
        "endpoint 'hooks': stored channel secrets cannot be decrypted with this secret key "
        "(was TENURE_SECRET_KEY or secret.key changed?)"
    )
    with runtime.sessions() as s:
        with pytest.raises(sending.ChannelSecretsError) as caught:
            sending.resolve(s, created.id, key=other)
        assert caught.value.message == message
        shown = service.get_endpoint(s, key=other, endpoint_id=created.id)
        assert (shown.secrets_set, shown.secrets_error) == ([], message)
    # Updating without new secrets is refused; entering them again works.
    with transaction(runtime.sessions) as s, pytest.raises(sending.ChannelSecretsError):
        service.update_endpoint(
            s, key=other, actor="t", endpoint_id=created.id, data=EndpointUpdate(enabled=False)
        )
    renewed = EndpointUpdate(secrets={"signing_secret": "a-new-secret-value"})
    with transaction(runtime.sessions) as s:
        service.update_endpoint(s, key=other, actor="t", endpoint_id=created.id, data=renewed)
    with runtime.sessions() as s:
        assert sending.resolve(s, created.id, key=other).secrets.model_dump() == {
            "signing_secret": "a-new-secret-value"
        }
    monkeypatch.setenv("TENURE_SECRET_KEY", "not-a-fernet-key")
    with pytest.raises(sending.ChannelSecretsError, match="not a valid Fernet key"):
        sending.secret_key(runtime.settings.home)


def test_delete_and_not_found(runtime: Runtime) -> None:
    key = key_of(runtime)
    with transaction(runtime.sessions) as s:
        created = service.create_endpoint(s, key=key, actor="t", data=webhook())
    with transaction(runtime.sessions) as s:
        service.delete_endpoint(s, key=key, actor="t", endpoint_id=created.id)
    with runtime.sessions() as s:
        with pytest.raises(ResourceNotFound, match=f"no channel endpoint has id {created.id}"):
            service.get_endpoint(s, key=key, endpoint_id=created.id)
        actions = s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["create", "delete"]


def test_kinds_describe_every_plugin() -> None:
    kinds = {k.kind: k for k in service.list_kinds()}
    assert list(kinds) == ["email", "webhook", "slack", "wecom", "dingtalk", "feishu"]
    assert kinds["email"].secret_fields == ["username", "password"]
    port = kinds["email"].settings_schema["properties"]["port"]
    assert port["default"] == 587 and port["description"]
    assert kinds["slack"].secret_fields == ["webhook_url"]
