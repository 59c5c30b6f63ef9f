"""The web UI on the small account book: an app with the pages, a signed-in client."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import NoMatchFound
from tests.accounts.conftest import build_book

from tenure.accounts.models import User
from tenure.api import api_router
from tenure.app import create_app
from tenure.auth.passwords import hash_password
from tenure.db import transaction
from tenure.kit.runtime import Runtime
from tenure.web.pages import mount_static, router

PASSWORD = "correct horse battery staple"
LOGIN = "alice@example.com"
TOKEN_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def web_app(runtime: Runtime) -> FastAPI:
    """The app with the web pages and the REST API (added here until `create_app` has them)."""
    app = create_app(runtime)
    if not has_route(app, "acknowledge_alert", alert_id=1):
        app.include_router(api_router())
    if not has_route(app, "login_form"):
        app.include_router(router)
        mount_static(app)
    return app


def has_route(app: FastAPI, name: str, **params: object) -> bool:
    """Whether the app has a route called `name` (included routers are searched too)."""
    try:
        app.url_path_for(name, **params)
    except NoMatchFound:
        return False
    return True


def give_password(runtime: Runtime, email: str, password: str = PASSWORD) -> None:
    """Let the user with `email` sign in with `password`."""
    with transaction(runtime.sessions) as s:
        user = s.query(User).filter(User.email.ilike(email)).one()
        user.password_hash = hash_password(password)


def form_token(html: str) -> str:
    """The CSRF token a page's form carries."""
    found = TOKEN_FIELD.search(html)
    assert found, "no csrf_token field in the page"
    return found.group(1)


def sign_in(client: TestClient, login: str = LOGIN, password: str = PASSWORD) -> None:
    """Sign `client` in through the form, as a browser does."""
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"login": login, "password": password, "csrf_token": form_token(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


@pytest.fixture
def book(runtime: Runtime) -> dict[str, int]:
    """The account tests' small book, Alice able to sign in."""
    ids = build_book(runtime)
    give_password(runtime, LOGIN)
    return ids


@pytest.fixture
def client(runtime: Runtime, book: dict[str, int]) -> Iterator[TestClient]:
    """A client of the app on the book, not signed in, reading English pages."""
    with TestClient(web_app(runtime), cookies={"lang": "en"}) as c:
        yield c


@pytest.fixture
def alice(client: TestClient) -> TestClient:
    """The client signed in as Alice (a csm who owns Acme and Gamma)."""
    sign_in(client)
    return client
