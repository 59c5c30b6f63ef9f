"""Feishu custom bot against a local server that checks 签名校验 as Feishu documents it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable

import pytest

from tenure.channels.base import DeliveryError, Message, Recipient
from tenure.channels.feishu import FeishuChannel, FeishuSecrets, FeishuSettings

from .conftest import Answer, Received, VendorServer

TOKEN = "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
SECRET = "qYFyRBAjsSXyKSaF0jLDBd"
ELEMENT_TAGS = {"text": {"text"}, "a": {"text", "href"}, "at": {"user_id"}}


def feishu(secret: str | None = SECRET, per_minute: int = 100) -> Callable[[Received], Answer]:
    """The bot webhook: token, signature, rich-text shape, rate limit; answers `code`."""
    sent: list[dict[str, object]] = []

    def answer(code: int, message: str) -> Answer:
        body = {"code": code, "msg": message, "data": {}}
        return 200, "application/json", json.dumps(body).encode()

    def handle(received: Received) -> Answer:
        if received.path != f"/open-apis/bot/v2/hook/{TOKEN}":
            return answer(19001, "param invalid: incoming webhook access token invalid")
        body = json.loads(received.body)
        if secret is not None:
            timestamp = body.get("timestamp")
            if not isinstance(timestamp, str) or abs(time.time() - int(timestamp)) > 3600:
                return answer(19021, "sign match fail or timestamp is not within one hour")
            # Documented: HmacSHA256 keyed by "timestamp\nsecret" over an empty message.
            key = f"{timestamp}\n{secret}".encode()
            expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
            if not hmac.compare_digest(expected, body.get("sign", "")):
                return answer(19021, "sign match fail or timestamp is not within one hour")
        if body.get("msg_type") != "post":
            return answer(9499, "Bad Request")
        languages = body["content"]["post"]
        for post in languages.values():
            if not isinstance(post.get("title"), str) or not isinstance(post["content"], list):
                return answer(9499, "Bad Request")
            for line in post["content"]:
                for element in line:
                    needed = ELEMENT_TAGS.get(element.get("tag"))
                    if needed is None or not needed <= set(element):
                        return answer(9499, "Bad Request")
        if len(sent) >= per_minute:
            return answer(11232, "frequency limited psm")
        sent.append(body)
        return answer(0, "success")

    return handle


def settings(server: VendorServer) -> FeishuSettings:
    return FeishuSettings(base_url=server.url, timeout=5)


MESSAGE = Message(
    idempotency_key="k",
    subject="季度回顾",
    text="ACME 的健康度为 72\n请查看[报告](https://cs.example.com/r/1)",
    recipient=Recipient(user_id="ou_c99c5f35d542efc7ee492afe11af19ef"),
    locale="zh-CN",
)


def test_signed_rich_text_post(vendor_server: Callable[..., VendorServer]) -> None:
    server = vendor_server(feishu())
    FeishuChannel().send(MESSAGE, settings(server), FeishuSecrets(token=TOKEN, secret=SECRET))
    body = json.loads(server.received[0].body)
    assert list(body) == ["timestamp", "sign", "msg_type", "content"]
    assert body["msg_type"] == "post"
    assert body["content"] == {
        "post": {
            "zh_cn": {
                "title": "季度回顾",
                "content": [
                    [{"tag": "text", "text": "ACME 的健康度为 72"}],
                    [{"tag": "text", "text": "请查看"},
                     {"tag": "a", "text": "报告", "href": "https://cs.example.com/r/1"}],
                    [{"tag": "at", "user_id": "ou_c99c5f35d542efc7ee492afe11af19ef"}],
                ],
            }
        }
    }  # fmt: skip


def test_english_messages_go_under_en_us(vendor_server: Callable[..., VendorServer]) -> None:
    server = vendor_server(feishu(secret=None))
    message = Message(idempotency_key="k", subject="Review", text="Hi", locale="en")
    FeishuChannel().send(message, settings(server), FeishuSecrets(token=TOKEN))
    body = json.loads(server.received[0].body)
    assert "sign" not in body and "timestamp" not in body
    assert list(body["content"]["post"]) == ["en_us"]


def test_a_wrong_secret_is_permanent(vendor_server: Callable[..., VendorServer]) -> None:
    server = vendor_server(feishu())
    with pytest.raises(DeliveryError) as caught:
        FeishuChannel().send(MESSAGE, settings(server), FeishuSecrets(token=TOKEN, secret="nope"))
    assert caught.value.transient is False
    assert caught.value.reason.startswith("Feishu error 19021")


def test_rate_limits_are_transient(vendor_server: Callable[..., VendorServer]) -> None:
    server = vendor_server(feishu(per_minute=1))
    secrets = FeishuSecrets(token=TOKEN, secret=SECRET)
    FeishuChannel().send(MESSAGE, settings(server), secrets)
    with pytest.raises(DeliveryError) as caught:
        FeishuChannel().send(MESSAGE, settings(server), secrets)
    assert (caught.value.transient, caught.value.reason) == (
        True, "Feishu error 11232: frequency limited psm",
    )  # fmt: skip
    too_many = vendor_server(
        lambda _: (429, "application/json", b'{"code": 9499, "msg": "too many request"}')
    )
    with pytest.raises(DeliveryError) as limited:
        FeishuChannel().send(MESSAGE, settings(too_many), secrets)
    assert limited.value.transient is True
    assert limited.value.reason == "Feishu error 9499: too many request"


def test_a_bad_token_is_permanent(vendor_server: Callable[..., VendorServer]) -> None:
    server = vendor_server(feishu())
    with pytest.raises(DeliveryError) as caught:
        FeishuChannel().send(
            MESSAGE, settings(server), FeishuSecrets(token="revoked", secret=SECRET)
        )
    assert caught.value.transient is False
    assert "19001" in caught.value.reason


def test_the_older_status_code_answer_is_understood(
    vendor_server: Callable[..., VendorServer],
) -> None:
    ok = b'{"Extra": null, "StatusCode": 0, "StatusMessage": "success"}'
    server = vendor_server(lambda _: (200, "application/json", ok))
    FeishuChannel().send(MESSAGE, settings(server), FeishuSecrets(token=TOKEN))
    assert len(server.received) == 1
