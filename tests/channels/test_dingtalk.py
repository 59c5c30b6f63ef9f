"""DingTalk custom robot against a local server that checks 加签 as DingTalk documents it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from urllib.parse import quote_plus

import pytest

from tenure.channels.base import DeliveryError, Message, Recipient
from tenure.channels.dingtalk import DingTalkChannel, DingTalkSecrets, DingTalkSettings

from .conftest import Answer, Received, VendorServer

TOKEN = "a1b2c3d4e5f6"
SECRET = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"


def dingtalk(secret: str | None = SECRET, per_minute: int = 20) -> Callable[[Received], Answer]:
    """The robot API: token, signature (from the raw query), payload shape, rate limit."""
    sent: list[dict[str, object]] = []

    def answer(code: int, message: str) -> Answer:
        return 200, "application/json", json.dumps({"errcode": code, "errmsg": message}).encode()

    def handle(received: Received) -> Answer:
        query = received.query
        if received.path != "/robot/send" or query.get("access_token") != TOKEN:
            return answer(300001, "token is not exist")
        if secret is not None:
            timestamp = query.get("timestamp", "")
            if not timestamp.isdigit() or abs(time.time() * 1000 - int(timestamp)) > 3_600_000:
                return answer(310000, "sign not match, more: [invalid timestamp]")
            # Documented: HmacSHA256(key=secret, "timestamp\nsecret"), Base64, then urlEncode.
            digest = hmac.new(
                secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256
            ).digest()
            expected = quote_plus(base64.b64encode(digest).decode())
            if f"sign={expected}" not in received.raw_query.split("&"):
                return answer(310000, "sign not match")
        body = json.loads(received.body)
        markdown, at = body.get("markdown", {}), body.get("at", {})
        if (
            body.get("msgtype") != "markdown"
            or not markdown.get("title")
            or not markdown.get("text")
        ):
            return answer(40035, "缺少参数 markdown")
        if not isinstance(at.get("atMobiles", []), list) or not isinstance(at.get("isAtAll"), bool):
            return answer(40035, "缺少参数 at")
        if len(sent) >= per_minute:
            return answer(130101, "send too fast, exceed 20 times per minute")
        sent.append(body)
        return answer(0, "ok")

    return handle


def settings(server: VendorServer) -> DingTalkSettings:
    return DingTalkSettings(base_url=server.url, timeout=5)


MESSAGE = Message(
    idempotency_key="k",
    subject="风险预警",
    text="**ACME** 健康度 41（-12）",
    recipient=Recipient(mobile="13900002222"),
)


def test_signed_markdown_mentions_the_mobile(vendor_server: Callable[..., VendorServer]) -> None:
    server = vendor_server(dingtalk())
    DingTalkChannel().send(
        MESSAGE, settings(server), DingTalkSecrets(access_token=TOKEN, secret=SECRET)
    )
    (request,) = server.received
    assert set(request.query) == {"access_token", "timestamp", "sign"}
    assert json.loads(request.body) == {
        "msgtype": "markdown",
        "markdown": {
            "title": "风险预警",
            "text": "#### 风险预警\n\n**ACME** 健康度 41（-12）\n\n@13900002222",
        },
        "at": {"atMobiles": ["13900002222"], "isAtAll": False},
    }


def test_a_wrong_secret_fails_the_signature_permanently(
    vendor_server: Callable[..., VendorServer],
) -> None:
    server = vendor_server(dingtalk())
    with pytest.raises(DeliveryError) as caught:
        DingTalkChannel().send(
            MESSAGE, settings(server), DingTalkSecrets(access_token=TOKEN, secret="SECwrong")
        )
    assert (caught.value.transient, caught.value.reason) == (
        False, "DingTalk error 310000: sign not match",
    )  # fmt: skip


def test_without_a_secret_no_signature_is_sent(vendor_server: Callable[..., VendorServer]) -> None:
    server = vendor_server(dingtalk(secret=None))
    DingTalkChannel().send(MESSAGE, settings(server), DingTalkSecrets(access_token=TOKEN))
    assert server.received[0].query == {"access_token": TOKEN}
    # The same robot with 加签 on refuses an unsigned message.
    signed = vendor_server(dingtalk())
    with pytest.raises(DeliveryError, match="310000"):
        DingTalkChannel().send(MESSAGE, settings(signed), DingTalkSecrets(access_token=TOKEN))


def test_sending_too_fast_is_transient(vendor_server: Callable[..., VendorServer]) -> None:
    server = vendor_server(dingtalk(per_minute=1))
    secrets = DingTalkSecrets(access_token=TOKEN, secret=SECRET)
    DingTalkChannel().send(MESSAGE, settings(server), secrets)
    with pytest.raises(DeliveryError) as caught:
        DingTalkChannel().send(MESSAGE, settings(server), secrets)
    assert caught.value.transient is True
    assert caught.value.reason.startswith("DingTalk error 130101")


def test_server_errors_are_transient(vendor_server: Callable[..., VendorServer]) -> None:
    server = vendor_server(lambda _: (502, "text/html", b"bad gateway"))
    with pytest.raises(DeliveryError) as caught:
        DingTalkChannel().send(MESSAGE, settings(server), DingTalkSecrets(access_token=TOKEN))
    assert caught.value.transient is True
