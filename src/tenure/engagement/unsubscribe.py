"""Signed one-click unsubscribe links (RFC 8058) for messages to contacts.

A link is `<base_url>/u/<token>`, the token `<contact id>.<channel>.<signature>` with an
HMAC-SHA256 signature under a key derived from the server key; it does not expire (an
old e-mail's link must still work) and can only ever opt its own contact out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

from tenure.channels.secrets import load_key

_PURPOSE = b"tenure-unsubscribe"


class BadUnsubscribeToken(ValueError):
    """The token is malformed or its signature does not match."""


def signing_key(home: Path) -> bytes:
    """The unsubscribe signing key, derived from the server key."""
    return hmac.new(load_key(home), _PURPOSE, hashlib.sha256).digest()


def _sign(key: bytes, payload: str) -> str:
    digest = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode().rstrip("=")


def make_token(key: bytes, contact_id: int, channel: str) -> str:
    """The token that opts `contact_id` out of `channel`."""
    payload = f"{contact_id}.{channel}"
    return f"{payload}.{_sign(key, payload)}"


def read_token(key: bytes, token: str) -> tuple[int, str]:
    """(contact id, channel) of a valid token; BadUnsubscribeToken otherwise."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isalpha():
        raise BadUnsubscribeToken("malformed unsubscribe link")
    payload = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(_sign(key, payload), parts[2]):
        raise BadUnsubscribeToken("this unsubscribe link has been altered")
    return int(parts[0]), parts[1]


def link(base_url: str, key: bytes, contact_id: int, channel: str) -> str:
    """The full unsubscribe URL."""
    return f"{base_url.rstrip('/')}/u/{make_token(key, contact_id, channel)}"
