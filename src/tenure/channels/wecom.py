"""WeCom (企业微信) group robot: `POST <base>/cgi-bin/webhook/send?key=KEY`.

The key in the URL is the credential. A message is `msgtype` markdown; WeCom's robot
markdown cannot @-mention by mobile number, so a message for a recipient with a mobile
goes as `msgtype` text with `mentioned_mobile_list`. WeCom answers
`{"errcode": 0, "errmsg": "ok"}`; 45009 (over the 20 messages a minute) and -1 (system
busy) are worth retrying, other codes are not.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from tenure.channels.base import Delivery, Message, PluginSettings
from tenure.channels.http import check_code, encode_json, post
from tenure.channels.text import truncate_bytes

DEFAULT_BASE = "https://qyapi.weixin.qq.com"
SEND_PATH = "/cgi-bin/webhook/send"
MARKDOWN_LIMIT = 4096  # bytes
TEXT_LIMIT = 2048  # bytes
TRANSIENT_CODES = frozenset({-1, 45009})


class WeComSettings(PluginSettings):
    """Where the robot API is."""

    base_url: str = Field(
        DEFAULT_BASE,
        pattern=r"^https?://[^\s?#]+$",
        max_length=500,
        description="WeCom API base URL (change only for a proxy or a test server)",
    )
    timeout: float = Field(10.0, gt=0, le=120, description="seconds to wait for WeCom")


class WeComSecrets(PluginSettings):
    """The robot's key, from its webhook URL."""

    key: str = Field(
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9\-_]+$",
        description="the key=… part of the robot's webhook URL",
    )


def payload(message: Message) -> dict[str, Any]:
    """The JSON WeCom receives: markdown, or text with `mentioned_mobile_list`."""
    recipient = message.recipient
    if recipient.mobile:
        content = f"{message.subject}\n{message.text}" if message.subject else message.text
        text: dict[str, Any] = {
            "content": truncate_bytes(content, TEXT_LIMIT),
            "mentioned_mobile_list": [recipient.mobile],
        }
        if recipient.user_id:
            text["mentioned_list"] = [recipient.user_id]
        return {"msgtype": "text", "text": text}
    body = f"## {message.subject}\n\n{message.text}" if message.subject else message.text
    if recipient.user_id:
        body = f"{body}\n<@{recipient.user_id}>"
    return {"msgtype": "markdown", "markdown": {"content": truncate_bytes(body, MARKDOWN_LIMIT)}}


class WeComChannel:
    """Post to a WeCom group through its robot."""

    kind: ClassVar[str] = "wecom"
    label: ClassVar[str] = "WeCom group robot (企业微信)"
    Settings: ClassVar[type[PluginSettings]] = WeComSettings
    Secrets: ClassVar[type[PluginSettings]] = WeComSecrets

    def send(self, message: Message, settings: Any, secrets: Any) -> Delivery:
        """Post the message to the robot's group.

        Args:
            message: the rendered message; `recipient.mobile` is @-mentioned (as a text
                message), `recipient.user_id` (a WeCom userid) too.
            settings: a `WeComSettings`.
            secrets: a `WeComSecrets`.

        Returns:
            The delivery (the robot API gives no message id).

        Raises:
            DeliveryError: transient on timeouts, 5xx, errcode 45009 and -1; permanent on
                other error codes (93000: the key is not a valid robot).
        """
        url = settings.base_url.rstrip("/") + SEND_PATH
        response = post(
            url,
            encode_json(payload(message)),
            timeout=settings.timeout,
            params={"key": secrets.key},
        )
        check_code(
            response,
            code_keys=("errcode",),
            message_keys=("errmsg",),
            transient_codes=TRANSIENT_CODES,
            vendor="WeCom",
        )
        return Delivery(detail={"status": response.status_code})
