"""API tokens: issue, look up, revoke and list; keyword-only functions that only flush."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tenure.accounts.models import Role, User
from tenure.auth import audit, tokens
from tenure.auth.errors import InvalidUser
from tenure.auth.models import ApiToken
from tenure.errors import ResourceNotFound

if TYPE_CHECKING:
    from tenure.auth.deps import Principal

TOKEN_FIELDS = ("id", "user_id", "name", "prefix", "scopes", "expires_at", "revoked_at")


def create_api_token(
    session: Session,
    *,
    user: User,
    name: str,
    scopes: Iterable[str],
    actor: Principal | str,
    expires_at: dt.datetime | None = None,
) -> tuple[str, ApiToken]:
    """Issue a token for `user`; the plain token is returned once and never stored."""
    if not name.strip():
        raise InvalidUser("a token needs a name")
    wanted = tokens.normalize_scopes(scopes)
    if "admin" in wanted and user.role != Role.ADMIN.value:
        raise tokens.InvalidScope(f"scope 'admin' is only for admins; {user.email} is {user.role}")
    if not user.is_active:
        raise InvalidUser(f"{user.email} is deactivated")
    plain, token = tokens.create_token(
        session, user=user, name=name.strip(), scopes=wanted, expires_at=expires_at
    )
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="api_token",
        entity_id=token.id,
        after=audit.snapshot(token, TOKEN_FIELDS),
    )
    return plain, token


def get_api_token(session: Session, *, token_id: int) -> ApiToken:
    """The token with id `token_id`, or ResourceNotFound."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise ResourceNotFound(f"API token {token_id} not found")
    return token


def revoke_api_token(session: Session, *, token: ApiToken, actor: Principal | str) -> ApiToken:
    """Revoke `token` (idempotent: revoking twice keeps the first time, logs once)."""
    before = audit.snapshot(token, TOKEN_FIELDS)
    if tokens.revoke_token(token):
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="revoke",
            entity="api_token",
            entity_id=token.id,
            before=before,
            after=audit.snapshot(token, TOKEN_FIELDS),
        )
    return token


def list_api_tokens(
    session: Session,
    *,
    user_id: int | None = None,
    include_revoked: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[ApiToken], int]:
    """Tokens, newest first, and the total matching."""
    query = select(ApiToken)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    if not include_revoked:
        query = query.where(ApiToken.revoked_at.is_(None))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = query.order_by(ApiToken.id.desc()).offset(offset).limit(limit)
    return list(session.scalars(page)), total
