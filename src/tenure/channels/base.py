"""The one interface every delivery channel implements.

A plugin is a class with a `kind`, a pydantic model of its visible `Settings` and one of
its `Secrets`, and `send(message, settings, secrets) -> Delivery`. It raises
`DeliveryError(transient=True)` for what a retry may fix (timeouts, 5xx, 429, a vendor's
rate-limit code) and `DeliveryError(transient=False)` for what it will not (bad address,
revoked key); the dispatcher retries the first with back-off and dead-letters the second.
Plugins hold no state between calls and never touch the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True)
class Recipient:
    """Who a message is for, in the terms each channel needs."""

    name: str | None = None
    email: str | None = None
    mobile: str | None = None  # chat robots @-mention by mobile number (WeCom, DingTalk)
    user_id: str | None = None  # a chat platform's own user id, where known


@dataclass(frozen=True)
class Message:
    """A rendered message, ready to deliver."""

    idempotency_key: str  # stable across attempts; sent as a header or the Message-ID
    subject: str
    text: str  # plain text; Markdown-flavoured for chat channels
    html: str | None = None  # the e-mail's HTML part
    recipient: Recipient = field(default_factory=Recipient)
    locale: str | None = None
    unsubscribe_url: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)  # account key, source, …


@dataclass(frozen=True)
class Delivery:
    """What the channel reported back for a delivered message."""

    provider_message_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


class DeliveryError(Exception):
    """A failed delivery; `transient` says whether a later attempt may succeed."""

    def __init__(self, reason: str, *, transient: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


class PluginSettings(BaseModel):
    """Base of a plugin's settings and secrets models: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")


class ChannelPlugin(Protocol):
    """What the registry, the outbox dispatcher and the settings pages rely on."""

    kind: ClassVar[str]
    label: ClassVar[str]
    Settings: ClassVar[type[PluginSettings]]
    Secrets: ClassVar[type[PluginSettings]]

    def send(self, message: Message, settings: Any, secrets: Any) -> Delivery:
        """Deliver `message`; raise DeliveryError on failure."""
        ...
