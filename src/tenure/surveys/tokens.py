"""Signed, expiring survey links (pure: no database, no settings).

A token is `base64url("<invitation id>.<expiry unix>.<nonce>")` + "." +
`base64url(HMAC-SHA256(key, payload))`, without padding. The key is derived from the
server's key (`survey_key`), so a token cannot be made or altered without it; the nonce is
the invitation's, so a token of a deleted invitation does not open a new one that reuses
its id. The hosted page's form carries a second HMAC, bound to the token (`form_token`).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Literal

Reason = Literal["malformed", "tampered", "expired"]
SIGNATURE_BYTES = 32  # SHA-256
MAX_TOKEN_CHARS = 512
NONCE = re.compile(r"^[0-9A-Za-z_-]{8,32}$")
B64URL = re.compile(r"^[0-9A-Za-z_-]+$")
TOKEN_LABEL = b"tenure-survey-token"
FORM_LABEL = b"tenure-survey-form"


class InvalidToken(Exception):
    """A survey token that cannot be used, and why: malformed, tampered or expired."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason)
        self.reason: Reason = reason


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says: the invitation, its nonce and when the link expires."""

    invitation_id: int
    nonce: str
    expires_at: dt.datetime  # naive UTC, whole seconds


def survey_key(server_key: bytes) -> bytes:
    """The key survey tokens are signed with: HMAC-SHA256(server key, "tenure-survey-token")."""
    return hmac.new(server_key, TOKEN_LABEL, hashlib.sha256).digest()


def form_key(server_key: bytes) -> bytes:
    """The key of the survey page's form tokens (a separate key: one purpose per key)."""
    return hmac.new(server_key, FORM_LABEL, hashlib.sha256).digest()


def _unix(moment: dt.datetime) -> int:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    return int(aware.timestamp())


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    if not B64URL.match(text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()


def make_token(key: bytes, invitation_id: int, nonce: str, expires_at: dt.datetime) -> str:
    """The token of a link to invitation `invitation_id`, valid until `expires_at` (UTC)."""
    if invitation_id < 1:
        raise ValueError("invitation_id must be positive")
    if not NONCE.match(nonce):
        raise ValueError("nonce must be 8-32 characters of [0-9A-Za-z_-]")
    payload = f"{invitation_id}.{_unix(expires_at)}.{nonce}".encode("ascii")
    return f"{_b64encode(payload)}.{_b64encode(_sign(key, payload))}"


def read_token(key: bytes, token: str, now: dt.datetime) -> TokenClaims:
    """The claims of `token` if it is well formed, signed with `key` and not expired at `now`.

    Raises `InvalidToken("malformed")` for anything that is not a token, `"tampered"` when
    the signature does not match (compared in constant time), `"expired"` at or after the
    expiry. The signature is checked before the payload is trusted or the expiry looked at.
    """
    if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        raise InvalidToken("malformed")
    encoded_payload, encoded_signature = token.split(".")
    try:
        payload = _b64decode(encoded_payload)
        signature = _b64decode(encoded_signature)
    except (ValueError, binascii.Error):
        raise InvalidToken("malformed") from None
    if len(signature) != SIGNATURE_BYTES or not payload:
        raise InvalidToken("malformed")
    if not hmac.compare_digest(signature, _sign(key, payload)):
        raise InvalidToken("tampered")
    claims = _parse(payload)
    if _naive_utc(now) >= claims.expires_at:
        raise InvalidToken("expired")
    return claims


def _parse(payload: bytes) -> TokenClaims:
    try:
        text = payload.decode("ascii")
        raw_id, raw_expiry, nonce = text.split(".")
        invitation_id, expiry = int(raw_id), int(raw_expiry)
        expires_at = dt.datetime.fromtimestamp(expiry, dt.UTC).replace(tzinfo=None)
    except (UnicodeDecodeError, ValueError, OverflowError, OSError):
        raise InvalidToken("malformed") from None
    if invitation_id < 1 or not NONCE.match(nonce) or not raw_id.isdigit():
        raise InvalidToken("malformed")
    return TokenClaims(invitation_id=invitation_id, nonce=nonce, expires_at=expires_at)


def make_form_token(key: bytes, token: str, issued_at: dt.datetime) -> str:
    """The hidden field of the survey page's form: `<issued unix>.<HMAC(key, issued|token)>`."""
    issued = str(_unix(issued_at))
    mac = hmac.new(key, f"{issued}|{token}".encode(), hashlib.sha256).digest()
    return f"{issued}.{_b64encode(mac)}"


def check_form_token(
    key: bytes, token: str, form_token: str, now: dt.datetime, max_age: dt.timedelta
) -> bool:
    """Whether `form_token` was issued for `token` by this server less than `max_age` ago."""
    issued, _, encoded = form_token.partition(".")
    if not issued.isascii() or not issued.isdigit() or len(issued) > 12:
        return False
    expected = make_form_token(key, token, dt.datetime.fromtimestamp(int(issued), dt.UTC))
    if not hmac.compare_digest(expected.encode(), f"{issued}.{encoded}".encode()):
        return False
    age = _unix(now) - int(issued)
    return -60 <= age <= max_age.total_seconds()  # a minute of clock skew between servers
