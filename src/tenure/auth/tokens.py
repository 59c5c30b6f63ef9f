"""Random secrets and API tokens: `tnr_<random>`, stored only as a SHA-256 and a prefix."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.accounts.models import User
from tenure.auth.clock import utcnow
from tenure.auth.models import ApiToken
from tenure.errors import TenureError

SCOPES = ("read", "write", "admin", "events:write")
TOKEN_MARK = "tnr_"
PREFIX_LENGTH = 8
# "admin" is a superset of "read" and "write"; "write" includes "read". "events:write" (a
# tracking write key) grants nothing else, so a leaked write key cannot read customer data.
IMPLIED_SCOPES = {"admin": {"read", "write"}, "write": {"read"}}


class InvalidScope(TenureError):
    """A token scope is not one Tenure knows."""

    status_code = 422


def random_secret(nbytes: int = 32) -> str:
    """A URL-safe random string with `nbytes` of entropy (session cookies, CSRF tokens)."""
    return secrets.token_urlsafe(nbytes)


def hash_token(plain: str) -> str:
    """The SHA-256 hex digest the tables keep instead of a token."""
    return hashlib.sha256(plain.encode()).hexdigest()


def new_api_token() -> str:
    """A fresh plain API token, `tnr_` followed by 43 random URL-safe characters."""
    return TOKEN_MARK + random_secret(32)


def expand_scopes(scopes: Iterable[str]) -> frozenset[str]:
    """The scopes granted, with the ones `admin` and `write` imply."""
    granted = set(scopes)
    for scope in list(granted):
        granted |= IMPLIED_SCOPES.get(scope, set())
    return frozenset(granted)


def normalize_scopes(scopes: Iterable[str]) -> list[str]:
    """Check `scopes` against SCOPES and return them sorted without duplicates."""
    wanted = sorted({s.strip() for s in scopes if s.strip()})
    if not wanted:
        raise InvalidScope(f"a token needs at least one scope; allowed: {', '.join(SCOPES)}")
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown:
        raise InvalidScope(
            f"unknown scope {', '.join(map(repr, unknown))}; allowed: {', '.join(SCOPES)}"
        )
    return wanted


def create_token(
    session: Session,
    *,
    user: User,
    name: str,
    scopes: Iterable[str],
    expires_at: dt.datetime | None = None,
) -> tuple[str, ApiToken]:
    """Store a new token for `user`; return the plain token (shown once) and its row."""
    plain = new_api_token()
    token = ApiToken(
        user_id=user.id,
        name=name,
        prefix=plain[:PREFIX_LENGTH],
        token_hash=hash_token(plain),
        scopes=normalize_scopes(scopes),
        created_at=utcnow(),
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return plain, token


def verify_token(
    session: Session, plain: str, *, now: dt.datetime | None = None
) -> ApiToken | None:
    """The live token whose hash matches `plain`; None when unknown, revoked or expired."""
    if not plain.startswith(TOKEN_MARK):
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(plain)))
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= (now or utcnow()):
        return None
    return token


def revoke_token(token: ApiToken, *, now: dt.datetime | None = None) -> bool:
    """Mark `token` revoked; False when it was revoked already (the first time is kept)."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = now or utcnow()
    return True
