"""What the API, CLI and pages exchange about channels: kinds, endpoints, test sends.

Secrets go in (create, update) and never come out: a read names only which secret fields
are set.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from tenure.api import AccountRef, WritePayload


class ChannelKindRead(BaseModel):
    """A channel plugin: its kind, label, and the JSON schemas of its settings and secrets."""

    kind: str
    label: str
    settings_schema: dict[str, Any]
    secrets_schema: dict[str, Any]
    secret_fields: list[str]


class EndpointCreate(WritePayload):
    """A new endpoint: a plugin kind, its settings and secrets (validated by the plugin)."""

    name: str = Field(min_length=1, max_length=100, description="unique name of the endpoint")
    kind: str = Field(min_length=1, max_length=20, description="plugin kind, see /channels/kinds")
    account: AccountRef | None = Field(
        None, description="the customer whose group chat this is; none for the team's"
    )
    settings: dict[str, Any] = Field(default_factory=dict, description="visible settings")
    secrets: dict[str, Any] = Field(
        default_factory=dict, description="secret settings; stored encrypted, never returned"
    )
    is_default: bool = Field(False, description="the endpoint its kind uses by default")
    enabled: bool = True


class EndpointUpdate(WritePayload):
    """Changes to an endpoint. `settings` and `secrets` are merged into the stored ones: a
    key set to null returns a setting to its default or removes a secret; keys left out stay.
    """

    NOT_NULL: ClassVar[frozenset[str]] = frozenset(
        {"name", "settings", "secrets", "is_default", "enabled"}
    )
    name: str | None = Field(None, min_length=1, max_length=100)
    account: AccountRef | None = Field(None, description="null makes it the team's endpoint")
    settings: dict[str, Any] | None = None
    secrets: dict[str, Any] | None = None
    is_default: bool | None = None
    enabled: bool | None = None


class EndpointRead(BaseModel):
    """A configured endpoint; of its secrets only the names of those set are shown."""

    id: int
    name: str
    kind: str
    account_id: int | None
    settings: dict[str, Any]
    secrets_set: list[str] = Field(description="secret fields that have a value")
    secrets_error: str | None = Field(
        None, description="why the stored secrets cannot be read (the secret key changed)"
    )
    is_default: bool
    enabled: bool
    last_test_at: dt.datetime | None
    last_test_result: str | None
    created_at: dt.datetime | None
    updated_at: dt.datetime | None


class SendTestRecipient(WritePayload):
    """Whom a test message goes to (default: the caller's e-mail for e-mail endpoints)."""

    name: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=255, pattern=r"^[^@\s]+@[^@\s]+$")
    mobile: str | None = Field(None, max_length=50, description="to @-mention in a chat group")
    user_id: str | None = Field(None, max_length=100, description="the chat platform's user id")


class SendTestBody(WritePayload):
    """An optional recipient for the test message."""

    recipient: SendTestRecipient | None = None


class SendTestResult(BaseModel):
    """The outcome of a test send, as stored in the endpoint's `last_test_result`."""

    ok: bool
    transient: bool | None = Field(None, description="for a failure: whether a retry may help")
    result: str
    provider_message_id: str | None = None
    tested_at: dt.datetime
