"""WeCom group robot against a local server answering as WeCom documents it."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tenure.channels.base import DeliveryError, Message, Recipient
from tenure.channels.wecom import WeComChannel, WeComSecrets, WeComSettings

from .conftest import Answer, Received, VendorServer

KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


def wecom(per_minute: int = 20) -> Callable[[Received], Answer]:
    """The robot API: key check, message shape and byte limits, 20 messages a minute."""
    sent: list[dict[str, object]] = []

    def answer(code: int, message: str) -> Answer:
        return 200, "application/json", json.dumps({"errcode": code, "errmsg": message}).encode()

    def handle(received: Received) -> Answer:
        if received.path != "/cgi-bin/webhook/send" or received.query.get("key") != KEY:
            return answer(93000, "invalid webhook url")
        body = json.loads(received.body)
        kind = body.get("msgtype")
        if kind == "markdown":
            content = body["markdown"].get("content", "")
            if not content or len(content.encode()) > 4096:
                return answer(40058, "markdown.content exceed max length 4096")
        elif kind == "text":
            text = body["text"]
            if not text.get("content") or len(text["content"].encode()) > 2048:
                return answer(40058, "text.content exceed max length 2048")
            if not all(isinstance(m, str) for m in text.get("mentioned_mobile_list", [])):
                return answer(40008, "invalid mentioned_mobile_list")
        else:
            return answer(40008, "invalid message type")
        if len(sent) >= per_minute:
            return answer(45009, "api freq out of limit")
        sent.append(body)
        return answer(0, "ok")

    return handle


def settings(server: VendorServer) -> WeComSettings:
    return WeComSettings(base_url=server.url, timeout=5)


def test_markdown_to_the_group(vendor_server: Callable[..., VendorServer]) -> None:
    server = vendor_server(wecom())
    message = Message(idempotency_key="k", subject="本周健康度", text="**ACME** 下降到 41")
    WeComChannel().send(message, settings(server), WeComSecrets(key=KEY))
    (request,) = server.received
    assert request.query == {"key": KEY}
    assert json.loads(request.body) == {
        "msgtype": "markdown",
        "markdown": {"content": "## 本周健康度\n\n**ACME** 下降到 41"},
    }


def test_a_mobile_recipient_is_mentioned_in_a_text_message(
    vendor_server: Callable[..., VendorServer],
) -> None:
    server = vendor_server(wecom())
    message = Message(
        idempotency_key="k", subject="续约", text="请跟进 ACME",
        recipient=Recipient(mobile="13800001111"),
    )  # fmt: skip
    WeComChannel().send(message, settings(server), WeComSecrets(key=KEY))
    assert json.loads(server.received[0].body) == {
        "msgtype": "text",
        "text": {"content": "续约\n请跟进 ACME", "mentioned_mobile_list": ["13800001111"]},
    }


def test_long_chinese_text_is_cut_to_the_byte_limit(
    vendor_server: Callable[..., VendorServer],
) -> None:
    server = vendor_server(wecom())
    WeComChannel().send(
        Message(idempotency_key="k", subject="长", text="续约" * 2000), settings(server),
        WeComSecrets(key=KEY),
    )  # fmt: skip
    content = json.loads(server.received[0].body)["markdown"]["content"]
    assert 4090 <= len(content.encode()) <= 4096 and content.endswith("…")


def test_rate_limit_is_transient_and_a_bad_key_permanent(
    vendor_server: Callable[..., VendorServer],
) -> None:
    server = vendor_server(wecom(per_minute=1))
    message = Message(idempotency_key="k", subject="s", text="t")
    WeComChannel().send(message, settings(server), WeComSecrets(key=KEY))
    with pytest.raises(DeliveryError) as limited:
        WeComChannel().send(message, settings(server), WeComSecrets(key=KEY))
    assert limited.value.transient is True
    assert limited.value.reason == "WeCom error 45009: api freq out of limit"
    with pytest.raises(DeliveryError) as bad_key:
        WeComChannel().send(message, settings(server), WeComSecrets(key="revoked-key"))
    assert bad_key.value.transient is False
    assert bad_key.value.reason == "WeCom error 93000: invalid webhook url"


def test_an_answer_without_errcode_is_not_a_delivery(
    vendor_server: Callable[..., VendorServer],
) -> None:
    server = vendor_server(lambda _: (200, "text/html", b"<html>proxy login</html>"))
    with pytest.raises(DeliveryError, match="without a result code") as caught:
        WeComChannel().send(
            Message(idempotency_key="k", subject="s", text="t"), settings(server),
            WeComSecrets(key=KEY),
        )  # fmt: skip
    assert caught.value.transient is False
