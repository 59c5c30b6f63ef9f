"""Slack incoming webhook: POST `{"text", "blocks"}` to the webhook's secret URL.

The URL itself is the credential (it names the workspace, app and channel), so it is kept
in the secrets. Slack answers `ok` with HTTP 200; errors come as 4xx with a short code in
the body (`invalid_payload`, `channel_not_found`, `channel_is_archived`, …), rate limits
as 429, its own trouble as 5xx.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from tenure.channels.base import Delivery, DeliveryError, Message, PluginSettings
from tenure.channels.http import encode_json, post, raise_for_status
from tenure.channels.text import markdown_to_slack, slack_escape, truncate_chars

SECTION_LIMIT = 3000  # characters of a section block's text
HEADER_LIMIT = 150  # characters of a header block's plain text
MAX_SECTIONS = 40  # a message holds at most 50 blocks


class SlackSettings(PluginSettings):
    """How long to wait for Slack."""

    timeout: float = Field(10.0, gt=0, le=120, description="seconds to wait for Slack")


class SlackSecrets(PluginSettings):
    """The incoming webhook URL (it is the credential)."""

    webhook_url: str = Field(
        pattern=r"^https?://\S+$",
        max_length=2000,
        description="incoming webhook URL, https://hooks.slack.com/services/T…/B…/…",
    )


def _chunks(text: str, size: int) -> list[str]:
    """`text` in pieces of at most `size` characters, cut at line ends where possible."""
    pieces: list[str] = []
    while len(text) > size:
        cut = text.rfind("\n", 0, size)
        cut = cut if cut > 0 else size
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    if text:
        pieces.append(text)
    return pieces


def payload(message: Message) -> dict[str, Any]:
    """The JSON Slack receives: a plain fallback `text` and the blocks shown in the channel."""
    body = markdown_to_slack(message.text)
    if message.recipient.user_id:
        body = f"<@{message.recipient.user_id}> {body}"
    blocks: list[dict[str, Any]] = []
    if message.subject:
        header = truncate_chars(message.subject, HEADER_LIMIT)
        blocks.append({"type": "header", "text": {"type": "plain_text", "text": header}})
    for piece in _chunks(body, SECTION_LIMIT)[:MAX_SECTIONS]:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": piece}})
    fallback = slack_escape(message.subject) if message.subject else body
    return {"text": truncate_chars(fallback, SECTION_LIMIT), "blocks": blocks}


class SlackChannel:
    """Post to a Slack channel through an incoming webhook."""

    kind: ClassVar[str] = "slack"
    label: ClassVar[str] = "Slack"
    Settings: ClassVar[type[PluginSettings]] = SlackSettings
    Secrets: ClassVar[type[PluginSettings]] = SlackSecrets

    def send(self, message: Message, settings: Any, secrets: Any) -> Delivery:
        """Post the message (header block with the subject, mrkdwn sections with the text).

        Args:
            message: the rendered message; `recipient.user_id` (a Slack member id) is
                mentioned at the start.
            settings: a `SlackSettings`.
            secrets: a `SlackSecrets`.

        Returns:
            The delivery (Slack gives no message id to an incoming webhook).

        Raises:
            DeliveryError: transient on timeouts, 429 and 5xx; permanent on other 4xx
                (the body's code in the reason) and on a 200 whose body is not `ok`.
        """
        body = encode_json(payload(message))
        response = post(secrets.webhook_url, body, timeout=settings.timeout)
        raise_for_status(response)
        if response.text.strip() != "ok":
            raise DeliveryError(
                f"Slack answered {response.text[:200]!r} instead of 'ok'", transient=False
            )
        return Delivery(detail={"status": response.status_code})
