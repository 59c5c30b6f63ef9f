"""Rendering pages: the Jinja2 environment, the per-request context, redirects and cookies.

Templates are our own files (never user input) but still run in Jinja2's sandbox, as every
Jinja2 use in Tenure does; autoescaping is on for every template.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import FileSystemLoader, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from tenure import __version__
from tenure.auth.deps import Principal
from tenure.web.i18n import LANG_COOKIE, LANGUAGES, choose_language, label_of, translator

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
STATIC_URL = "/static"


def number(value: float | int | None, digits: int = 0) -> str:
    """`1234567.8` as "1,234,568" (or with `digits` decimals); "—" for a missing value."""
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def signed(value: float | None, digits: int = 1) -> str:
    """A change with its sign ("+4.0", "-12.5"); "—" when missing."""
    if value is None:
        return "—"
    return f"{value:+.{digits}f}"


def day(value: dt.date | dt.datetime | None) -> str:
    """A date as YYYY-MM-DD, a time as YYYY-MM-DD HH:MM; "—" when missing."""
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


@cache
def environment() -> SandboxedEnvironment:
    """The one template environment (built on first use, not at import)."""
    env = SandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(number=number, signed=signed, day=day)
    env.globals.update(static_url=STATIC_URL, version=__version__, languages=LANGUAGES)
    return env


def request_language(request: Request, principal: Principal | None) -> str:
    """The language of this request (cookie, user locale, Accept-Language)."""
    return choose_language(
        cookie=request.cookies.get(LANG_COOKIE),
        user_locale=principal.user.locale if principal is not None else None,
        accept_language=request.headers.get("accept-language"),
    )


def is_htmx(request: Request) -> bool:
    """Whether HTMX sent the request for a fragment (not a history restore, which needs a page)."""
    return (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-history-restore-request") != "true"
    )


def here(request: Request) -> str:
    """Path and query of the request, for `next=` links."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def render(
    request: Request,
    template: str,
    *,
    principal: Principal | None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render `template` with the request's language, user and CSRF token."""
    language = request_language(request, principal)
    csrf = principal.session.csrf_token if principal and principal.session else None
    page = environment().get_template(template)
    html = page.render(
        request=request,
        lang=language,
        t=translator(language),
        label=label_of(language),
        principal=principal,
        user=principal.user if principal else None,
        csrf_token=context.pop("csrf_token", None) or csrf,
        current_path=request.url.path,
        here=here(request),
        quote=quote,
        **context,
    )
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    response.headers["Vary"] = "HX-Request, Cookie, Accept-Language"
    response.headers["Cache-Control"] = "no-store"
    return response


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go back to; anything that could leave the site becomes `default`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def login_redirect(request: Request) -> Response:
    """Send a visitor who is not signed in to /login, and back here afterwards."""
    target = "/login?" + urlencode({"next": here(request)})
    if request.headers.get("hx-request") == "true":
        # HTMX would swap the login page into a fragment; make it navigate instead.
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def over_tls(request: Request) -> bool:
    """Whether the browser reached us over HTTPS (uvicorn applies X-Forwarded-Proto from
    trusted proxies to the scheme)."""
    return request.url.scheme == "https"
