"""The signed webhook against a local receiver that verifies it as docs/channels.md says."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable

import pytest

from tenure.channels.base import DeliveryError, Message, Recipient
from tenure.channels.webhook import WebhookChannel, WebhookSecrets, WebhookSettings

from .conftest import Answer, Received, VendorServer, free_port

SECRET = "whsec-test-0123456789"
TOLERANCE = 300  # seconds a receiver accepts between `t` and its clock

MESSAGE = Message(
    idempotency_key="playbook:onboarding:42:1",
    subject="续约提醒 Renewal",
    text="Hello **Ana**, your renewal is due.",
    html="<p>Hello <b>Ana</b></p>",
    recipient=Recipient(name="Ana", email="ana@example.com", mobile="13800001111"),
    metadata={"account": "A-1", "source": "playbook:onboarding"},
)


def verify(received: Received, secret: str) -> str | None:
    """What a receiver does: parse the header, recompute the HMAC over the raw body,
    compare in constant time, refuse a stale timestamp. None when valid, else why not."""
    header = received.headers.get("x-tenure-signature", "")
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    if set(parts) != {"t", "v1"} or not parts["t"].isdigit():
        return "malformed signature header"
    if abs(time.time() - int(parts["t"])) > TOLERANCE:
        return "stale timestamp"
    signed = parts["t"].encode() + b"." + received.body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, parts["v1"]):
        return "signature mismatch"
    return None


def receiver(secret: str = SECRET) -> Callable[[Received], Answer]:
    seen: set[str] = set()

    def handle(received: Received) -> Answer:
        problem = verify(received, secret)
        if problem:
            return 401, "application/json", json.dumps({"error": problem}).encode()
        key = received.headers["idempotency-key"]
        duplicate = key in seen
        seen.add(key)
        answer = {"id": f"evt_{len(seen)}", "duplicate": duplicate}
        return 200, "application/json", json.dumps(answer).encode()

    return handle


def settings(url: str, timeout: float = 5.0) -> WebhookSettings:
    return WebhookSettings(url=url + "/hooks/tenure", timeout=timeout)


def test_posts_signed_json_with_the_idempotency_key(
    vendor_server: Callable[..., VendorServer],
) -> None:
    server = vendor_server(receiver())
    delivery = WebhookChannel().send(
        MESSAGE, settings(server.url), WebhookSecrets(signing_secret=SECRET)
    )
    assert delivery.provider_message_id == "evt_1"
    (request,) = server.received
    assert request.path == "/hooks/tenure"
    assert request.headers["content-type"].startswith("application/json")
    assert request.headers["idempotency-key"] == MESSAGE.idempotency_key
    assert verify(request, SECRET) is None
    body = json.loads(request.body)
    assert set(body) == {"id", "subject", "text", "html", "recipient", "metadata", "sent_at"}
    assert body["id"] == MESSAGE.idempotency_key
    assert body["subject"] == "续约提醒 Renewal"
    assert body["html"] == "<p>Hello <b>Ana</b></p>"
    assert body["recipient"] == {
        "name": "Ana", "email": "ana@example.com", "mobile": "13800001111", "user_id": None,
    }  # fmt: skip
    assert body["metadata"] == {"account": "A-1", "source": "playbook:onboarding"}
    assert body["sent_at"].endswith("Z")
    # The signed timestamp is the one in sent_at (to the second).
    t = int(request.headers["x-tenure-signature"].split(",")[0].removeprefix("t="))
    assert abs(t - time.time()) < 5


def test_every_attempt_carries_the_same_key(vendor_server: Callable[..., VendorServer]) -> None:
    server = vendor_server(receiver())
    channel, secrets = WebhookChannel(), WebhookSecrets(signing_secret=SECRET)
    channel.send(MESSAGE, settings(server.url), secrets)
    channel.send(MESSAGE, settings(server.url), secrets)
    keys = [r.headers["idempotency-key"] for r in server.received]
    assert keys == [MESSAGE.idempotency_key] * 2
    assert [json.loads(r.body)["id"] for r in server.received] == keys


def test_a_wrong_secret_is_refused_permanently(vendor_server: Callable[..., VendorServer]) -> None:
    server = vendor_server(receiver())
    with pytest.raises(DeliveryError) as caught:
        WebhookChannel().send(
            MESSAGE, settings(server.url), WebhookSecrets(signing_secret="not-the-secret")
        )
    assert caught.value.transient is False
    assert "HTTP 401" in caught.value.reason and "signature mismatch" in caught.value.reason


@pytest.mark.parametrize(
    ("status", "transient"), [(500, True), (503, True), (429, True), (400, False), (404, False)]
)
def test_status_codes_map_to_transient_or_permanent(
    vendor_server: Callable[..., VendorServer], status: int, transient: bool
) -> None:
    server = vendor_server(lambda _: (status, "text/plain", b"nope"))
    with pytest.raises(DeliveryError) as caught:
        WebhookChannel().send(MESSAGE, settings(server.url), WebhookSecrets(signing_secret=SECRET))
    assert caught.value.transient is transient
    assert caught.value.reason == f"HTTP {status}: nope"


def test_a_slow_receiver_is_a_transient_timeout(
    vendor_server: Callable[..., VendorServer],
) -> None:
    def slow(_: Received) -> Answer:
        time.sleep(1.0)
        return 200, "application/json", b"{}"

    server = vendor_server(slow)
    with pytest.raises(DeliveryError) as caught:
        WebhookChannel().send(
            MESSAGE, settings(server.url, timeout=0.2), WebhookSecrets(signing_secret=SECRET)
        )
    assert caught.value.transient is True
    assert caught.value.reason.startswith("timed out after 0.2s")


def test_nothing_listening_is_transient() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(DeliveryError) as caught:
        WebhookChannel().send(MESSAGE, settings(url), WebhookSecrets(signing_secret=SECRET))
    assert caught.value.transient is True
    assert caught.value.reason.startswith("connection failed")


def test_settings_refuse_a_url_that_is_not_http() -> None:
    with pytest.raises(ValueError, match="url"):
        WebhookSettings(url="ftp://example.com/x")
    with pytest.raises(ValueError, match="signing_secret"):
        WebhookSecrets(signing_secret="short")


def test_a_key_that_is_not_ascii_is_percent_encoded_in_the_header(
    vendor_server: Callable[..., VendorServer],
) -> None:
    server = vendor_server(receiver())
    message = Message(idempotency_key="续约:1", subject="s", text="t")
    WebhookChannel().send(message, settings(server.url), WebhookSecrets(signing_secret=SECRET))
    (request,) = server.received
    assert request.headers["idempotency-key"] == "%E7%BB%AD%E7%BA%A6%3A1"
    assert json.loads(request.body)["id"] == "续约:1"
