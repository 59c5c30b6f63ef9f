"""Feishu (飞书) custom bot: POST to `<base>/open-apis/bot/v2/hook/<token>`.

With 签名校验 (signature check) on, the body carries `timestamp` (seconds, as a string) and
`sign = base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b""))`: the secret goes into
the key and the message is empty, unlike DingTalk. Feishu refuses a timestamp more than an
hour off. The message is `msg_type` post (rich text: a title and lines of text and links).
Feishu answers `{"code": 0, "msg": "success"}` (older deployments `StatusCode`); 9499 and
11232 (rate limits) are worth retrying, 19021 (bad signature) and the rest are not.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any, ClassVar

from pydantic import Field

from tenure.channels.base import Delivery, Message, PluginSettings
from tenure.channels.http import check_code, encode_json, post
from tenure.channels.text import split_links, truncate_bytes

DEFAULT_BASE = "https://open.feishu.cn"
HOOK_PATH = "/open-apis/bot/v2/hook/"
BODY_LIMIT = 18_000  # bytes of text; Feishu refuses a request body over 20 KB
TRANSIENT_CODES = frozenset({9499, 11232})


class FeishuSettings(PluginSettings):
    """Where the bot API is."""

    base_url: str = Field(
        DEFAULT_BASE,
        pattern=r"^https?://[^\s?#]+$",
        max_length=500,
        description="Feishu API base URL (https://open.larksuite.com for Lark)",
    )
    timeout: float = Field(10.0, gt=0, le=120, description="seconds to wait for Feishu")


class FeishuSecrets(PluginSettings):
    """The bot's hook token, and its signing secret when 签名校验 is on."""

    token: str = Field(
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9\-_]+$",
        description="the last part of the bot's webhook URL (…/bot/v2/hook/<token>)",
    )
    secret: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="签名校验 secret; empty when the bot checks keywords or IPs instead",
    )


def sign(secret: str, timestamp: int) -> str:
    """The `sign` field: base64 HMAC-SHA256 keyed by "timestamp\\nsecret" over nothing."""
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def post_content(message: Message) -> dict[str, Any]:
    """The rich-text `post` of a message, under its language (zh_cn or en_us)."""
    language = "en_us" if (message.locale or "").lower().startswith("en") else "zh_cn"
    lines: list[list[dict[str, Any]]] = []
    for line in truncate_bytes(message.text, BODY_LIMIT).split("\n"):
        runs = [
            {"tag": "a", "text": text, "href": href} if href else {"tag": "text", "text": text}
            for text, href in split_links(line)
        ]
        lines.append(runs or [{"tag": "text", "text": ""}])
    if message.recipient.user_id:
        lines.append([{"tag": "at", "user_id": message.recipient.user_id}])
    return {"post": {language: {"title": message.subject, "content": lines}}}


def payload(message: Message, secret: str | None, timestamp: int) -> dict[str, Any]:
    """The JSON Feishu receives, signed when a secret is set."""
    body: dict[str, Any] = {}
    if secret:
        body.update(timestamp=str(timestamp), sign=sign(secret, timestamp))
    body.update(msg_type="post", content=post_content(message))
    return body


class FeishuChannel:
    """Post to a Feishu group through its custom bot."""

    kind: ClassVar[str] = "feishu"
    label: ClassVar[str] = "Feishu bot (飞书)"
    Settings: ClassVar[type[PluginSettings]] = FeishuSettings
    Secrets: ClassVar[type[PluginSettings]] = FeishuSecrets

    def send(self, message: Message, settings: Any, secrets: Any) -> Delivery:
        """Post the message as rich text, signed when a secret is set.

        Args:
            message: the rendered message; `recipient.user_id` (an open_id or user_id) is
                @-mentioned on a last line.
            settings: a `FeishuSettings`.
            secrets: a `FeishuSecrets`.

        Returns:
            The delivery (the bot API gives no message id).

        Raises:
            DeliveryError: transient on timeouts, 5xx and codes 9499 and 11232; permanent
                on other codes (19021: the signature does not match).
        """
        url = settings.base_url.rstrip("/") + HOOK_PATH + secrets.token
        body = encode_json(payload(message, secrets.secret, int(time.time())))
        response = post(url, body, timeout=settings.timeout)
        check_code(
            response,
            code_keys=("code", "StatusCode"),
            message_keys=("msg", "StatusMessage"),
            transient_codes=TRANSIENT_CODES,
            vendor="Feishu",
        )
        return Delivery(detail={"status": response.status_code})
