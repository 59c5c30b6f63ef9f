"""The web UI's routes: sign-in and sign-out, the language switch, and every page.

`router` holds every page; `mount_static(app)` serves the CSS, JavaScript and vendored
libraries under /static. Pages need a signed-in user and send others to /login.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from tenure.auth.deps import SESSION_COOKIE, OptionalPrincipal, check_csrf
from tenure.auth.service import (
    SESSION_LIFETIME,
    InvalidCredentials,
    TooManyAttempts,
    authenticate,
    end_session,
    start_session,
)
from tenure.auth.tokens import random_secret
from tenure.channels import pages as channel_pages
from tenure.content import pages as content_pages
from tenure.engagement import pages as engagement_pages
from tenure.kit.deps import SessionDep
from tenure.surveys import pages as survey_pages
from tenure.web import account_pages, alert_pages, dashboard_pages, settings_pages
from tenure.web.i18n import LANG_COOKIE, normalize
from tenure.web.templating import STATIC_DIR, STATIC_URL, over_tls, render, safe_next

# Login CSRF: before there is a session, the sign-in form carries a random token that must
# match this cookie, so another site cannot sign a browser in to an account it controls.
LOGIN_CSRF_COOKIE = "tenure_login_csrf"
LANG_COOKIE_AGE = 365 * 24 * 3600

router = APIRouter(include_in_schema=False)


def mount_static(app: FastAPI) -> None:
    """Serve web/static/ (our CSS and JS, vendored ECharts and HTMX) at /static."""
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")


def _login_page(
    request: Request, *, next_url: str, error: str | None = None, status_code: int = 200
) -> Response:
    token = random_secret(24)
    response = render(
        request,
        "login.html",
        principal=None,
        status_code=status_code,
        csrf_token=token,
        next_url=next_url,
        error=error,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=over_tls(request),
    )
    return response


@router.get("/login")
def login_form(request: Request, principal: OptionalPrincipal, next: str = "/") -> Response:
    """The sign-in form (signed-in users go straight on)."""
    if principal is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, next_url=safe_next(next))


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    login: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the password, open a session and set the session cookie."""
    next_url = safe_next(next)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected.encode(), csrf_token.encode()):
        return _login_page(request, next_url=next_url, error="error.forbidden", status_code=403)
    ip = request.client.host if request.client else None
    try:
        user = authenticate(session, login=login, password=password, ip=ip)
    except TooManyAttempts as exc:
        page = _login_page(request, next_url=next_url, error="login.throttled", status_code=429)
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    except InvalidCredentials:
        # The failed attempt is committed with the request, so the throttle counts it.
        return _login_page(request, next_url=next_url, error="login.failed", status_code=401)
    cookie, _ = start_session(
        session, user=user, ip=ip, user_agent=request.headers.get("user-agent")
    )
    response = RedirectResponse(next_url, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=over_tls(request),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, session: SessionDep, principal: OptionalPrincipal) -> Response:
    """End the session (the form must carry its CSRF token) and go to the sign-in page."""
    await check_csrf(request, principal)
    if principal is not None and principal.session is not None:
        end_session(session, user_session=principal.session, actor=principal)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, next: str = "/") -> Response:
    """Remember the chosen language in the `lang` cookie and go back to the page."""
    response = RedirectResponse(safe_next(next), status_code=303)
    language = normalize(code)
    if language is not None:
        response.set_cookie(
            LANG_COOKIE,
            language,
            max_age=LANG_COOKIE_AGE,
            path="/",
            samesite="lax",
            secure=over_tls(request),
        )
    return response


router.include_router(dashboard_pages.router)
router.include_router(account_pages.router)
router.include_router(alert_pages.router)
router.include_router(settings_pages.router)
router.include_router(engagement_pages.router)
router.include_router(content_pages.router)
router.include_router(channel_pages.router)
router.include_router(survey_pages.router)
