"""The auth API: sign-in and out, users, API tokens and the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse

from tenure.auth import audit, service
from tenure.auth.deps import (
    SESSION_COOKIE,
    AdminPrincipal,
    CurrentPrincipal,
    Principal,
    require_role,
)
from tenure.auth.schemas import (
    AuditRead,
    LoginRequest,
    LoginResponse,
    Me,
    PasswordSet,
    TokenCreate,
    TokenCreated,
    TokenRead,
    UserCreate,
    UserRead,
    UserUpdate,
)
from tenure.errors import TenureError
from tenure.kit.deps import SessionDep
from tenure.kit.errors_http import error_body
from tenure.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page

router = APIRouter()

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Offset = Annotated[int, Query(ge=0)]
AuditReader = Annotated[
    Principal, Depends(require_role("admin", "manager", action="read the audit log"))
]


def _is_https(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _refusal(exc: TenureError, headers: dict[str, str] | None = None) -> JSONResponse:
    # Returned rather than raised so that the request's session commits the recorded attempt.
    code = "too_many_attempts" if isinstance(exc, service.TooManyAttempts) else "unauthorized"
    return JSONResponse(error_body(code, exc.message), status_code=exc.status_code, headers=headers)


def _json_only(request: Request) -> None:
    # A cross-site page can post forms and untyped bodies without a CORS preflight; a JSON
    # content type cannot be sent that way, so sign-in cannot be forged from another site.
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise HTTPException(status_code=415, detail="send the sign-in as application/json")


def _naive_utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(dt.UTC).replace(tzinfo=None)


@router.post(
    "/api/v1/auth/login",
    response_model=LoginResponse,
    tags=["auth"],
    dependencies=[Depends(_json_only)],
    responses={401: {"description": "wrong e-mail or password"}, 429: {"description": "throttled"}},
)
def login(
    body: LoginRequest, request: Request, response: Response, session: SessionDep
) -> LoginResponse | JSONResponse:
    """Sign in with e-mail (or external id) and password; sets the `tenure_session` cookie."""
    ip = _client_ip(request)
    try:
        user = service.authenticate(session, login=body.login, password=body.password, ip=ip)
    except service.TooManyAttempts as exc:
        return _refusal(exc, {"Retry-After": str(exc.retry_after)})
    except service.InvalidCredentials as exc:
        return _refusal(exc)
    cookie, user_session = service.start_session(
        session, user=user, ip=ip, user_agent=request.headers.get("user-agent")
    )
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(service.SESSION_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=_is_https(request),
    )
    return LoginResponse(user=UserRead.model_validate(user), csrf_token=user_session.csrf_token)


@router.post("/api/v1/auth/logout", status_code=204, tags=["auth"])
def logout(principal: CurrentPrincipal, request: Request, session: SessionDep) -> Response:
    """Sign out of this browser session (the cookie stops working)."""
    if principal.session is None:
        raise TenureError("API tokens are not signed out; revoke the token instead")
    service.end_session(session, user_session=principal.session, actor=principal)
    response = Response(status_code=204)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_is_https(request)
    )
    return response


@router.get("/api/v1/auth/me", response_model=Me, tags=["auth"])
def me(principal: CurrentPrincipal) -> Me:
    """The signed-in user, how the request is authenticated, and the session's CSRF token."""
    return Me(
        user=UserRead.model_validate(principal.user),
        via=principal.via,
        scopes=sorted(principal.scopes),
        csrf_token=principal.session.csrf_token if principal.session else None,
        token_name=principal.token.name if principal.token else None,
    )


@router.get("/api/v1/users", response_model=Page[UserRead], tags=["users"])
def list_users(
    _: AdminPrincipal,
    session: SessionDep,
    role: str | None = None,
    is_active: bool | None = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[UserRead]:
    """Users ordered by e-mail (admins only)."""
    users, total = service.list_users(
        session, role=role, active=is_active, limit=limit, offset=offset
    )
    items = [UserRead.model_validate(u) for u in users]
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.post("/api/v1/users", response_model=UserRead, status_code=201, tags=["users"])
def create_user(body: UserCreate, principal: AdminPrincipal, session: SessionDep) -> UserRead:
    """Add a user with a role and a password (admins only)."""
    user = service.create_user(
        session,
        email=body.email,
        name=body.name,
        password=body.password,
        role=body.role,
        department=body.department,
        external_id=body.external_id,
        locale=body.locale,
        actor=principal,
    )
    return UserRead.model_validate(user)


@router.patch("/api/v1/users/{user_id}", response_model=UserRead, tags=["users"])
def update_user(
    user_id: int, body: UserUpdate, principal: AdminPrincipal, session: SessionDep
) -> UserRead:
    """Change a user's role, name, department or activity (admins only)."""
    user = service.get_user(session, user_id=user_id)
    service.update_user(session, user=user, changes=body.changes(), actor=principal)
    return UserRead.model_validate(user)


@router.post("/api/v1/users/{user_id}/password", status_code=204, tags=["users"])
def set_password(
    user_id: int, body: PasswordSet, principal: AdminPrincipal, session: SessionDep
) -> Response:
    """Set a user's password and sign out their other sessions (admins only)."""
    user = service.get_user(session, user_id=user_id)
    service.reset_password(
        session, user=user, password=body.password, actor=principal, keep_session=principal.session
    )
    return Response(status_code=204)


@router.get("/api/v1/tokens", response_model=Page[TokenRead], tags=["tokens"])
def list_tokens(
    _: AdminPrincipal,
    session: SessionDep,
    user_id: int | None = None,
    include_revoked: bool = False,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[TokenRead]:
    """API tokens, newest first, without the tokens themselves (admins only)."""
    found, total = service.list_api_tokens(
        session, user_id=user_id, include_revoked=include_revoked, limit=limit, offset=offset
    )
    items = [TokenRead.model_validate(t) for t in found]
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.post("/api/v1/tokens", response_model=TokenCreated, status_code=201, tags=["tokens"])
def create_token(body: TokenCreate, principal: AdminPrincipal, session: SessionDep) -> TokenCreated:
    """Issue an API token; the response is the only time the token is shown (admins only)."""
    owner = principal.user
    if body.user_id is not None:
        owner = service.get_user(session, user_id=body.user_id)
    plain, token = service.create_api_token(
        session,
        user=owner,
        name=body.name,
        scopes=body.scopes,
        expires_at=_naive_utc(body.expires_at),
        actor=principal,
    )
    read = TokenRead.model_validate(token)
    return TokenCreated(**read.model_dump(), token=plain)


@router.delete("/api/v1/tokens/{token_id}", response_model=TokenRead, tags=["tokens"])
def revoke_token(token_id: int, principal: AdminPrincipal, session: SessionDep) -> TokenRead:
    """Revoke an API token; it stops working at once (admins only)."""
    token = service.get_api_token(session, token_id=token_id)
    service.revoke_api_token(session, token=token, actor=principal)
    return TokenRead.model_validate(token)


@router.get("/api/v1/audit", response_model=Page[AuditRead], tags=["audit"])
def list_audit(
    _: AuditReader,
    session: SessionDep,
    entity: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> Page[AuditRead]:
    """Audit log entries, newest first, by entity, id, actor and action (admins, managers)."""
    entries, total = audit.list_entries(
        session,
        entity=entity,
        entity_id=entity_id,
        actor=actor,
        action=action,
        limit=limit,
        offset=offset,
    )
    items = [AuditRead.model_validate(e) for e in entries]
    return Page(items=items, total=total, limit=limit, offset=offset)
