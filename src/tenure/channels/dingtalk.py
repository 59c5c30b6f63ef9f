"""DingTalk (钉钉) custom robot: `POST <base>/robot/send?access_token=T&timestamp=t&sign=s`.

With 加签 (signing) on, `t` is the time in milliseconds and
`s = urlencode(base64(HMAC-SHA256(key=secret, msg=f"{t}\\n{secret}")))`; DingTalk refuses a
`t` more than an hour off. The body is `msgtype` markdown with `at.atMobiles`; a mention
only shows when the text contains `@<mobile>`, so it is appended. DingTalk answers
`{"errcode": 0, "errmsg": "ok"}`; 130101 (sending too fast) and -1 (system busy) are worth
retrying, 310000 (signature, keyword or IP check failed) and the rest are not.
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
from tenure.channels.text import truncate_bytes

DEFAULT_BASE = "https://oapi.dingtalk.com"
SEND_PATH = "/robot/send"
TEXT_LIMIT = 20_000  # bytes; DingTalk refuses a body over 20 KB
TRANSIENT_CODES = frozenset({-1, 130101})


class DingTalkSettings(PluginSettings):
    """Where the robot API is."""

    base_url: str = Field(
        DEFAULT_BASE,
        pattern=r"^https?://[^\s?#]+$",
        max_length=500,
        description="DingTalk API base URL (change only for a proxy or a test server)",
    )
    timeout: float = Field(10.0, gt=0, le=120, description="seconds to wait for DingTalk")


class DingTalkSecrets(PluginSettings):
    """The robot's access token, and its signing secret when 加签 is on."""

    access_token: str = Field(
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9\-_]+$",
        description="the access_token=… part of the robot's webhook URL",
    )
    secret: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="加签 secret (starts with SEC); empty when the robot checks keywords or IPs",
    )


def sign(secret: str, timestamp_ms: int) -> str:
    """The `sign` parameter before URL encoding: base64 HMAC-SHA256 of "t\\nsecret"."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


def payload(message: Message) -> dict[str, Any]:
    """The JSON DingTalk receives: markdown with a title, and whom to @."""
    recipient = message.recipient
    text = f"#### {message.subject}\n\n{message.text}" if message.subject else message.text
    mobiles = [recipient.mobile] if recipient.mobile else []
    user_ids = [recipient.user_id] if recipient.user_id else []
    mentions = " ".join(f"@{who}" for who in (*mobiles, *user_ids))
    if mentions:
        text = f"{text}\n\n{mentions}"
    at: dict[str, Any] = {"atMobiles": mobiles, "isAtAll": False}
    if user_ids:
        at["atUserIds"] = user_ids
    title = message.subject or message.text.strip().split("\n", 1)[0][:60] or "Tenure"
    return {
        "msgtype": "markdown",
        "markdown": {"title": title, "text": truncate_bytes(text, TEXT_LIMIT)},
        "at": at,
    }


class DingTalkChannel:
    """Post to a DingTalk group through its custom robot."""

    kind: ClassVar[str] = "dingtalk"
    label: ClassVar[str] = "DingTalk robot (钉钉)"
    Settings: ClassVar[type[PluginSettings]] = DingTalkSettings
    Secrets: ClassVar[type[PluginSettings]] = DingTalkSecrets

    def send(self, message: Message, settings: Any, secrets: Any) -> Delivery:
        """Post the message, signed when a secret is set.

        Args:
            message: the rendered message; `recipient.mobile` (and `user_id`) is @-ed.
            settings: a `DingTalkSettings`.
            secrets: a `DingTalkSecrets`.

        Returns:
            The delivery (the robot API gives no message id).

        Raises:
            DeliveryError: transient on timeouts, 5xx, errcode 130101 and -1; permanent on
                other error codes.
        """
        params = {"access_token": secrets.access_token}
        if secrets.secret:
            timestamp = int(time.time() * 1000)
            # httpx URL-encodes the query value: that is the documented urlencode step.
            params.update(timestamp=str(timestamp), sign=sign(secrets.secret, timestamp))
        url = settings.base_url.rstrip("/") + SEND_PATH
        response = post(url, encode_json(payload(message)), timeout=settings.timeout, params=params)
        check_code(
            response,
            code_keys=("errcode",),
            message_keys=("errmsg",),
            transient_codes=TRANSIENT_CODES,
            vendor="DingTalk",
        )
        return Delivery(detail={"status": response.status_code})
