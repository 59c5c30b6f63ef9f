"""Who is asking: the principal of a request, and the checks endpoints depend on.

A request is authenticated by `Authorization: Bearer tnr_…` (an API token, limited to its
scopes) or by the `tenure_session` cookie (a signed-in browser, which has every scope but
must send its CSRF token on unsafe methods). `CurrentPrincipal` applies the CSRF check and
the token scope that the method needs (`read` for safe methods, `write` for unsafe ones), so
an endpoint that depends on it is protected without further work.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Literal, Protocol

from fastapi import Depends, HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from tenure.accounts.models import Role, User
from tenure.auth.clock import utcnow
from tenure.auth.models import ApiToken, UserSession
from tenure.auth.tokens import SCOPES, expand_scopes, hash_token, verify_token
from tenure.kit.deps import SessionDep

SESSION_COOKIE = "tenure_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FORM_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
TOUCH_EVERY = dt.timedelta(minutes=1)
WRITE_ROLES = frozenset({Role.ADMIN.value, Role.MANAGER.value})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class OwnedAccount(Protocol):
    """Anything with an owner (an `Account`, or a read-only view of one)."""

    @property
    def owner_id(self) -> int | None: ...


@dataclass(frozen=True, eq=False)
class Principal:
    """The user behind a request and how they signed in (cookie session or API token)."""

    user: User
    via: Literal["session", "token"]
    scopes: frozenset[str]
    session: UserSession | None = None
    token: ApiToken | None = None

    @property
    def role(self) -> str:
        """The user's role: admin, manager, csm or viewer."""
        return self.user.role

    @property
    def is_admin(self) -> bool:
        """Whether the user has the admin role (see `can_admin` for what a token may do)."""
        return self.user.role == Role.ADMIN.value

    @property
    def label(self) -> str:
        """How the audit log names this principal: the e-mail, or `token:<name>`."""
        if self.via == "token" and self.token is not None:
            return f"token:{self.token.name}"
        return self.user.email

    def has_scope(self, scope: str) -> bool:
        """Whether the principal holds `scope` (sessions hold every scope)."""
        return scope in self.scopes

    def can_admin(self) -> bool:
        """Admins signed in, or admins' tokens with the `admin` scope."""
        return self.is_admin and self.has_scope("admin")

    def can_write(self) -> bool:
        """Whether the role and scopes allow changing accounts at all (some or every one)."""
        return self.has_scope("write") and self.role != Role.VIEWER.value

    def can_write_account(self, account: OwnedAccount) -> bool:
        """Admins and managers change any account, a csm only the accounts they own."""
        if not self.has_scope("write"):
            return False
        if self.role in WRITE_ROLES:
            return True
        return self.role == Role.CSM.value and account.owner_id == self.user.id


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _touch(last: dt.datetime | None, now: dt.datetime) -> bool:
    return last is None or now - last >= TOUCH_EVERY


def token_principal(
    session: Session, plain: str, *, now: dt.datetime | None = None
) -> Principal | None:
    """The principal of an API token (also a tracking write key); None when not valid."""
    now = now or utcnow()
    token = verify_token(session, plain, now=now)
    if token is None:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        return None
    if _touch(token.last_used_at, now):
        token.last_used_at = now
    return Principal(user=user, via="token", scopes=expand_scopes(token.scopes or []), token=token)


def session_principal(
    session: Session, cookie: str, *, now: dt.datetime | None = None
) -> Principal | None:
    """The principal of a session cookie; None when unknown, expired or the user inactive."""
    now = now or utcnow()
    row = session.scalar(select(UserSession).where(UserSession.token_hash == hash_token(cookie)))
    if row is None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    if _touch(row.last_seen_at, now):
        row.last_seen_at = now
    return Principal(user=user, via="session", scopes=frozenset(SCOPES), session=row)


def get_principal(request: Request, session: SessionDep) -> Principal | None:
    """The principal of the request (a bearer token wins over the cookie), or None."""
    plain = _bearer(request)
    if plain is not None:
        # A wrong bearer token is not silently replaced by the cookie: the caller meant it.
        return token_principal(session, plain)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return session_principal(session, cookie)
    return None


OptionalPrincipal = Annotated[Principal | None, Depends(get_principal)]


def _forbidden(message: str) -> HTTPException:
    return HTTPException(status_code=403, detail=message)


async def _sent_csrf_token(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(FORM_TYPES):
        form = await request.form()  # Starlette caches it; the endpoint can read it again.
        value = form.get(CSRF_FORM_FIELD)
        return value if isinstance(value, str) else None
    return None


async def check_csrf(request: Request, principal: Principal | None) -> None:
    """Refuse an unsafe cookie-session request without the session's CSRF token (403)."""
    if principal is None or principal.via != "session" or principal.session is None:
        return
    if request.method.upper() in SAFE_METHODS:
        return
    sent = await _sent_csrf_token(request)
    expected = principal.session.csrf_token
    if sent is None or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise _forbidden("CSRF token missing or wrong")


async def csrf_protect(request: Request, principal: OptionalPrincipal) -> None:
    """Dependency form of `check_csrf` (for endpoints that take an OptionalPrincipal)."""
    await check_csrf(request, principal)


def _check_scope(principal: Principal, scope: str) -> None:
    if not principal.has_scope(scope):
        name = principal.token.name if principal.token is not None else "?"
        raise _forbidden(f"token {name!r} lacks the {scope!r} scope")


async def _authenticated(request: Request, principal: Principal | None) -> Principal:
    if principal is None:
        raise HTTPException(
            status_code=401,
            detail="sign in or send an API token (Authorization: Bearer tnr_…)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    await check_csrf(request, principal)
    return principal


async def require_principal(request: Request, principal: OptionalPrincipal) -> Principal:
    """The principal, or 401; unsafe methods also need the CSRF token or the `write` scope."""
    principal = await _authenticated(request, principal)
    unsafe = request.method.upper() not in SAFE_METHODS
    _check_scope(principal, "write" if unsafe else "read")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(require_principal)]


def require_role(
    *roles: str, action: str = "do this"
) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting only `roles` (403 naming the role and the action otherwise)."""
    allowed = frozenset(str(r) for r in roles)
    unknown = allowed - {r.value for r in Role}
    if unknown or not allowed:
        raise ValueError(f"unknown roles {sorted(unknown)}; roles are {[r.value for r in Role]}")

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            needed = " or ".join(sorted(allowed))
            raise _forbidden(f"role {principal.role} may not {action} (needs {needed})")
        return principal

    return dependency


def require_scope(scope: str) -> Callable[[Request, Principal | None], Awaitable[Principal]]:
    """A dependency admitting sessions and tokens holding `scope` (401/403 otherwise).

    Use it instead of CurrentPrincipal: it checks `scope` in place of the method's default
    (so `require_scope("events:write")` admits a tracking write key on a POST).
    """
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}; scopes are {list(SCOPES)}")

    async def dependency(request: Request, principal: OptionalPrincipal) -> Principal:
        principal = await _authenticated(request, principal)
        _check_scope(principal, scope)
        return principal

    return dependency


async def require_admin(principal: CurrentPrincipal) -> Principal:
    """Admins only, and through a token only with the `admin` scope (403 otherwise)."""
    if not principal.is_admin:
        raise _forbidden(f"role {principal.role} may not manage users and tokens (needs admin)")
    _check_scope(principal, "admin")
    return principal


AdminPrincipal = Annotated[Principal, Depends(require_admin)]
