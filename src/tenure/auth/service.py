"""Users, sign-in and sessions: keyword-only functions that only flush (tokens: token_service).

Every change to a user, session or token writes an audit entry (`tenure.auth.audit`).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from tenure.accounts.models import Role, User
from tenure.auth import audit, passwords, tokens
from tenure.auth.clock import utcnow
from tenure.auth.errors import InvalidCredentials, InvalidUser, LastAdmin, TooManyAttempts
from tenure.auth.models import LoginAttempt, UserSession
from tenure.auth.token_service import (
    create_api_token,
    get_api_token,
    list_api_tokens,
    revoke_api_token,
)
from tenure.errors import ResourceAlreadyExists, ResourceNotFound

if TYPE_CHECKING:
    from tenure.auth.deps import Principal

__all__ = [
    "InvalidCredentials",
    "InvalidUser",
    "LastAdmin",
    "TooManyAttempts",
    "create_api_token",
    "get_api_token",
    "list_api_tokens",
    "revoke_api_token",
]

SESSION_LIFETIME = dt.timedelta(days=14)
THROTTLE_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES = 5
USER_FIELDS = ("id", "external_id", "email", "name", "role", "department", "locale", "is_active")
ROLES = tuple(r.value for r in Role)


# Users ----------------------------------------------------------------------------------


def find_user(session: Session, login: str) -> User | None:
    """The user whose e-mail (any case) or external id is `login`."""
    login = login.strip()
    if not login:
        return None
    return session.scalar(
        select(User).where(or_(func.lower(User.email) == login.lower(), User.external_id == login))
    )


def get_user(session: Session, *, user_id: int) -> User:
    """The user with id `user_id`, or ResourceNotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise ResourceNotFound(f"user {user_id} not found")
    return user


def user_by_login(session: Session, *, login: str) -> User:
    """The user with e-mail or external id `login`, or ResourceNotFound."""
    user = find_user(session, login)
    if user is None:
        raise ResourceNotFound(f"no user with e-mail or external id {login!r}")
    return user


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidUser(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    return role


def _check_email(email: str) -> str:
    email = email.strip().lower()
    local, at, domain = email.partition("@")
    if not (local and at and "." in domain) or " " in email:
        raise InvalidUser(f"{email!r} is not an e-mail address")
    return email


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    password: str | None,
    actor: Principal | str,
    role: str = Role.CSM.value,
    department: str | None = None,
    external_id: str | None = None,
    locale: str | None = None,
) -> User:
    """Add a user (external id defaults to the e-mail); the password is stored as argon2id."""
    email = _check_email(email)
    external_id = (external_id or email).strip()
    if not name.strip():
        raise InvalidUser("name must not be empty")
    if find_user(session, email) is not None or find_user(session, external_id) is not None:
        raise ResourceAlreadyExists(f"a user with e-mail or external id {email!r} exists")
    if password is not None:
        passwords.check_policy(password)
    user = User(
        email=email,
        external_id=external_id,
        name=name.strip(),
        role=_check_role(role),
        department=department,
        password_hash=None if password is None else passwords.hash_password(password),
        is_active=True,
    )
    if locale:
        user.locale = locale
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="user",
        entity_id=user.id,
        after=audit.snapshot(user, USER_FIELDS),
    )
    return user


def _active_admins(session: Session) -> int:
    query = select(func.count()).where(User.role == Role.ADMIN.value, User.is_active.is_(True))
    return session.scalar(query) or 0


def update_user(
    session: Session, *, user: User, changes: dict[str, Any], actor: Principal | str
) -> User:
    """Change a user's role, name, department or is_active; deactivating ends their sessions."""
    allowed = {"role", "name", "department", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidUser(f"cannot change {', '.join(sorted(unknown))} of a user")
    if "role" in changes:
        _check_role(changes["role"])
    if "name" in changes and not str(changes["name"] or "").strip():
        raise InvalidUser("name must not be empty")
    was_admin = user.role == Role.ADMIN.value and user.is_active
    stays_admin = changes.get("role", user.role) == Role.ADMIN.value and changes.get(
        "is_active", user.is_active
    )
    if was_admin and not stays_admin and _active_admins(session) <= 1:
        raise LastAdmin(f"{user.email} is the last active admin; make another admin first")
    before = audit.snapshot(user, USER_FIELDS)
    for key, value in changes.items():
        setattr(user, key, value)
    if changes.get("is_active") is False:
        _end_all_sessions(session, user)
    session.flush()
    after = audit.snapshot(user, USER_FIELDS)
    if after != before:
        audit.record(
            session,
            actor=actor,
            action="update",
            entity="user",
            entity_id=user.id,
            before=before,
            after=after,
        )
    return user


def set_role(session: Session, *, user: User, role: str, actor: Principal | str) -> User:
    """Give `user` another role."""
    return update_user(session, user=user, changes={"role": role}, actor=actor)


def deactivate_user(session: Session, *, user: User, actor: Principal | str) -> User:
    """Stop `user` from signing in; their sessions end and their tokens stop working."""
    return update_user(session, user=user, changes={"is_active": False}, actor=actor)


def _end_all_sessions(session: Session, user: User, keep: UserSession | None = None) -> None:
    query = delete(UserSession).where(UserSession.user_id == user.id)
    if keep is not None:
        query = query.where(UserSession.id != keep.id)
    session.execute(query)


def reset_password(
    session: Session,
    *,
    user: User,
    password: str,
    actor: Principal | str,
    keep_session: UserSession | None = None,
) -> None:
    """Set a new password and end the user's other sessions."""
    passwords.check_policy(password)
    user.password_hash = passwords.hash_password(password)
    _end_all_sessions(session, user, keep=keep_session)
    session.flush()
    audit.record(session, actor=actor, action="reset_password", entity="user", entity_id=user.id)


def list_users(
    session: Session,
    *,
    role: str | None = None,
    active: bool | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[User], int]:
    """Users ordered by e-mail, filtered by role and activity, and the total matching."""
    query = select(User)
    if role is not None:
        query = query.where(User.role == _check_role(role))
    if active is not None:
        query = query.where(User.is_active.is_(active))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = query.order_by(User.email).offset(offset).limit(limit)
    return list(session.scalars(page)), total


# Sign-in --------------------------------------------------------------------------------


def _retry_after(failures: list[dt.datetime], now: dt.datetime) -> int | None:
    """Seconds until fewer than MAX_FAILURES of `failures` (ascending) are in the window."""
    if len(failures) < MAX_FAILURES:
        return None
    frees_at = failures[len(failures) - MAX_FAILURES] + THROTTLE_WINDOW
    return max(1, math.ceil((frees_at - now).total_seconds()))


def throttle_wait(session: Session, *, login: str, ip: str | None, now: dt.datetime) -> int | None:
    """Seconds the next attempt for `login` or `ip` must wait, or None when it may try."""
    since = now - THROTTLE_WINDOW
    recent = select(LoginAttempt.attempted_at).where(
        LoginAttempt.attempted_at > since, LoginAttempt.succeeded.is_(False)
    )
    # A success forgives the login's earlier failures, not the address's: one address
    # guessing many logins stays throttled.
    last_success = session.scalar(
        select(func.max(LoginAttempt.attempted_at)).where(
            LoginAttempt.login == login, LoginAttempt.succeeded.is_(True)
        )
    )
    by_login = recent.where(LoginAttempt.login == login)
    if last_success is not None:
        by_login = by_login.where(LoginAttempt.attempted_at > last_success)
    waits = [_retry_after(sorted(session.scalars(by_login)), now)]
    if ip:
        waits.append(
            _retry_after(sorted(session.scalars(recent.where(LoginAttempt.ip == ip))), now)
        )
    found = [w for w in waits if w is not None]
    return max(found) if found else None


def authenticate(
    session: Session, *, login: str, password: str, ip: str | None, now: dt.datetime | None = None
) -> User:
    """The active user with this login and password; records the attempt.

    Raises TooManyAttempts (429) after MAX_FAILURES failures for the login or the address
    within THROTTLE_WINDOW, before looking at the password, and InvalidCredentials
    ("wrong e-mail or password") for an unknown login, a wrong password or an inactive user.
    """
    now = now or utcnow()
    key = login.strip().lower()[:255]
    wait = throttle_wait(session, login=key, ip=ip, now=now)
    if wait is not None:
        raise TooManyAttempts(wait)
    user = find_user(session, login)
    if user is None or not user.password_hash:
        passwords.verify_password(passwords.dummy_hash(), password)
        ok = False
    else:
        ok = passwords.verify_password(user.password_hash, password) and user.is_active
    session.add(LoginAttempt(login=key, ip=ip, attempted_at=now, succeeded=ok))
    session.flush()
    if not ok or user is None:
        raise InvalidCredentials("wrong e-mail or password")
    if user.password_hash and passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return user


def prune_login_attempts(session: Session, *, now: dt.datetime | None = None) -> int:
    """Delete attempts older than a day (the throttle only reads the last window)."""
    cutoff = (now or utcnow()) - dt.timedelta(days=1)
    result = session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


def start_session(
    session: Session,
    *,
    user: User,
    ip: str | None = None,
    user_agent: str | None = None,
    now: dt.datetime | None = None,
) -> tuple[str, UserSession]:
    """Open a 14-day session; return the cookie value (kept only hashed) and the row."""
    now = now or utcnow()
    cookie = tokens.random_secret()
    row = UserSession(
        token_hash=tokens.hash_token(cookie),
        user_id=user.id,
        csrf_token=tokens.random_secret(),
        created_at=now,
        last_seen_at=now,
        expires_at=now + SESSION_LIFETIME,
        ip=ip,
        user_agent=(user_agent or "")[:300] or None,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=user.email,
        action="login",
        entity="user",
        entity_id=user.id,
        after={"session_id": row.id, "ip": ip},
        at=now,
    )
    return cookie, row


def end_session(session: Session, *, user_session: UserSession, actor: Principal | str) -> None:
    """Sign a session out (its cookie stops working)."""
    session.delete(user_session)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="logout",
        entity="user",
        entity_id=user_session.user_id,
        before={"session_id": user_session.id},
    )
