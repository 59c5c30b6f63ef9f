"""Slack incoming webhook against a local server answering as Slack documents it."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tenure.channels.base import DeliveryError, Message, Recipient
from tenure.channels.slack import SlackChannel, SlackSecrets, SlackSettings

from .conftest import Answer, Received, VendorServer

HOOK_PATH = "/services/T0001/B0001/XXXXXXXXXXXXXXXXXXXXXXXX"


def slack(*, archived: bool = False) -> Callable[[Received], Answer]:
    """Slack's incoming webhook: `ok`, or 400 invalid_payload / 404 / 410 with a code."""

    def handle(received: Received) -> Answer:
        if received.path != HOOK_PATH:
            return 404, "text/plain", b"no_service"
        if archived:
            return 410, "text/plain", b"channel_is_archived"
        try:
            body = json.loads(received.body)
        except ValueError:
            return 400, "text/plain", b"invalid_payload"
        blocks = body.get("blocks", [])
        valid = isinstance(body.get("text"), str) and isinstance(blocks, list) and len(blocks) <= 50
        for block in blocks:
            kind, text = block.get("type"), block.get("text", {})
            if kind == "header":
                valid &= text.get("type") == "plain_text" and 0 < len(text.get("text", "")) <= 150
            elif kind == "section":
                valid &= text.get("type") == "mrkdwn" and 0 < len(text.get("text", "")) <= 3000
            else:
                valid = False
        if not valid:
            return 400, "text/plain", b"invalid_payload"
        return 200, "text/html", b"ok"

    return handle


def secrets(server: VendorServer, path: str = HOOK_PATH) -> SlackSecrets:
    return SlackSecrets(webhook_url=server.url + path)


def test_posts_text_and_blocks(vendor_server: Callable[..., VendorServer]) -> None:
    server = vendor_server(slack())
    message = Message(
        idempotency_key="k1",
        subject="Health dropped for ACME",
        text="**ACME** fell to 41 <below 50> & [open it](https://cs.example.com/a/1)",
        recipient=Recipient(user_id="U024BE7LH"),
    )
    SlackChannel().send(message, SlackSettings(), secrets(server))
    body = json.loads(server.received[0].body)
    assert body["text"] == "Health dropped for ACME"
    assert body["blocks"] == [
        {"type": "header", "text": {"type": "plain_text", "text": "Health dropped for ACME"}},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "<@U024BE7LH> *ACME* fell to 41 &lt;below 50&gt; &amp; "
                "<https://cs.example.com/a/1|open it>",
            },
        },
    ]


def test_long_text_is_split_into_sections_slack_accepts(
    vendor_server: Callable[..., VendorServer],
) -> None:
    server = vendor_server(slack())
    long_text = "\n".join(f"line {i} " + "x" * 90 for i in range(100))  # ~10,000 characters
    SlackChannel().send(
        Message(idempotency_key="k2", subject="S" * 400, text=long_text), SlackSettings(),
        secrets(server),
    )  # fmt: skip
    blocks = json.loads(server.received[0].body)["blocks"]
    assert len(blocks[0]["text"]["text"]) == 150
    sections = [b["text"]["text"] for b in blocks[1:]]
    assert len(sections) == 4 and all(len(s) <= 3000 for s in sections)
    assert "\n".join(sections) == long_text


@pytest.mark.parametrize(
    ("path", "archived", "expected"),
    [("/services/T0001/B0001/revoked", False, "HTTP 404: no_service"),
     (HOOK_PATH, True, "HTTP 410: channel_is_archived")],
)  # fmt: skip
def test_revoked_or_archived_is_permanent(
    vendor_server: Callable[..., VendorServer], path: str, archived: bool, expected: str
) -> None:
    server = vendor_server(slack(archived=archived))
    with pytest.raises(DeliveryError) as caught:
        SlackChannel().send(
            Message(idempotency_key="k", subject="s", text="t"), SlackSettings(),
            secrets(server, path),
        )  # fmt: skip
    assert (caught.value.transient, caught.value.reason) == (False, expected)


def test_rate_limit_and_server_errors_are_transient(
    vendor_server: Callable[..., VendorServer],
) -> None:
    for status, body in ((429, b"rate_limited"), (500, b"rollup_error")):
        server = vendor_server(lambda _, s=status, b=body: (s, "text/plain", b))
        with pytest.raises(DeliveryError) as caught:
            SlackChannel().send(
                Message(idempotency_key="k", subject="s", text="t"), SlackSettings(),
                secrets(server),
            )  # fmt: skip
        assert caught.value.transient is True


def test_an_answer_other_than_ok_is_not_taken_for_delivery(
    vendor_server: Callable[..., VendorServer],
) -> None:
    server = vendor_server(lambda _: (200, "text/html", b"<html>captive portal</html>"))
    with pytest.raises(DeliveryError, match="instead of 'ok'"):
        SlackChannel().send(
            Message(idempotency_key="k", subject="s", text="t"), SlackSettings(), secrets(server)
        )
