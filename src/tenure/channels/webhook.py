"""Signed JSON webhook: POST the message to any URL.

Each request carries `Idempotency-Key: <key>` (the same on every attempt) and
`X-Tenure-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`;
a receiver recomputes the HMAC over the exact bytes it received, compares in constant
time, and rejects a stale `t` to stop replays.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import time
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import Field

from tenure.channels.base import Delivery, Message, PluginSettings
from tenure.channels.http import encode_json, json_object, post, raise_for_status

SIGNATURE_HEADER = "X-Tenure-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


class WebhookSettings(PluginSettings):
    """Where the webhook posts."""

    url: str = Field(
        description="the receiver's URL (https in production)",
        pattern=r"^https?://\S+$",
        max_length=2000,
    )
    timeout: float = Field(10.0, gt=0, le=120, description="seconds to wait for the receiver")


class WebhookSecrets(PluginSettings):
    """How the webhook signs."""

    signing_secret: str = Field(
        min_length=8,
        max_length=500,
        description="shared secret of the HMAC-SHA256 signature in X-Tenure-Signature",
    )


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Tenure-Signature header value of `body` sent at `timestamp`."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def header_value(key: str) -> str:
    """The key as an HTTP header value: printable ASCII as it is, anything else %-encoded."""
    if key.isascii() and key.isprintable():
        return key
    return quote(key, safe="")


def payload(message: Message, sent_at: dt.datetime) -> dict[str, Any]:
    """The JSON object a webhook receives."""
    return {
        "id": message.idempotency_key,
        "subject": message.subject,
        "text": message.text,
        "html": message.html,
        "recipient": dataclasses.asdict(message.recipient),
        "metadata": message.metadata,
        "sent_at": sent_at.isoformat().replace("+00:00", "Z"),
    }


class WebhookChannel:
    """POST a signed JSON message to a URL."""

    kind: ClassVar[str] = "webhook"
    label: ClassVar[str] = "Webhook"
    Settings: ClassVar[type[PluginSettings]] = WebhookSettings
    Secrets: ClassVar[type[PluginSettings]] = WebhookSecrets

    def send(self, message: Message, settings: Any, secrets: Any) -> Delivery:
        """POST the message as signed JSON.

        Args:
            message: the rendered message; its idempotency key is the JSON `id` and the
                `Idempotency-Key` header.
            settings: a `WebhookSettings`.
            secrets: a `WebhookSecrets`.

        Returns:
            The delivery, with the receiver's `id` (if its JSON answer has one) as the
            provider message id and the HTTP status in `detail`.

        Raises:
            DeliveryError: transient on timeouts, connection errors, 429 and 5xx;
                permanent on other 4xx.
        """
        now = time.time()
        body = encode_json(payload(message, dt.datetime.fromtimestamp(now, dt.UTC)))
        headers = {
            IDEMPOTENCY_HEADER: header_value(message.idempotency_key),
            SIGNATURE_HEADER: signature(secrets.signing_secret, int(now), body),
        }
        response = post(settings.url, body, timeout=settings.timeout, headers=headers)
        raise_for_status(response)
        # The receiver has the message once it answers 2xx; an odd body must not fail it.
        answer = json_object(response) or {}
        provider_id = answer.get("id")
        return Delivery(
            provider_message_id=str(provider_id) if provider_id is not None else None,
            detail={"status": response.status_code},
        )
