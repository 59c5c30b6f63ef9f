"""Templates and talk tracks on the account tests' small book, with a user of every role.

Carol is an admin, Bob a manager, Alice a csm (owner of Acme and Gamma) and Dave a viewer;
each has an API token and can sign in with PASSWORD. The shipped templates and talk tracks
are installed.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.accounts.conftest import build_book
from tests.web.conftest import PASSWORD, form_token, give_password, web_app

from tenure.accounts.models import User
from tenure.auth.service import create_api_token
from tenure.content.install import install_shipped
from tenure.db import transaction
from tenure.kit.runtime import Runtime, open_runtime

ROLES = {"carol": "admin", "bob": "manager", "alice": "csm", "dave": "viewer"}
LOGINS = {
    "admin": "carol@example.com",
    "manager": "Bob@Example.com",
    "csm": "alice@example.com",
    "viewer": "dave@example.com",
}


@dataclass
class ContentBook:
    """Database ids by label (as `build_book` names them) and API tokens by role."""

    runtime: Runtime
    ids: dict[str, int]
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, role: str) -> dict[str, str]:
        """Authorization for `role` ("admin", "manager", "csm", "viewer"; "anonymous": none)."""
        if role == "anonymous":
            return {}
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def build_content_book(runtime: Runtime) -> ContentBook:
    """The account book, a user of every role with a token, the shipped content."""
    book = ContentBook(runtime=runtime, ids=build_book(runtime))
    with transaction(runtime.sessions) as s:
        s.add(User(external_id="u-dave", email="dave@example.com", name="Dave Zhou"))
        s.flush()
        for name, role in ROLES.items():
            user = s.query(User).filter(User.external_id == f"u-{name}").one()
            user.role = role
            scopes = ["admin"] if role == "admin" else ["write"]
            book.tokens[role], _ = create_api_token(
                s, user=user, name=f"{role}-token", scopes=scopes, actor="test"
            )
        install_shipped(s, "test")
    for login in LOGINS.values():
        give_password(runtime, login)
    return book


@pytest.fixture(scope="session")
def content_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ContentBook]:
    """The book built once on SQLite (migrations, password hashes, shipped content)."""
    home = tmp_path_factory.mktemp("content") / "home"
    runtime = open_runtime(home)
    book = build_content_book(runtime)
    runtime.close()  # the last connection closing folds the WAL into tenure.db
    return home, book


@pytest.fixture
def content_book(content_home: tuple[Path, ContentBook], tmp_path: Path) -> Iterator[ContentBook]:
    """A private copy of the book on SQLite."""
    home = tmp_path / "home"
    shutil.copytree(content_home[0], home)
    runtime = open_runtime(home, migrate=False)
    book = content_home[1]
    yield ContentBook(runtime=runtime, ids=book.ids, tokens=book.tokens)
    runtime.close()


@pytest.fixture
def any_library(any_runtime: Runtime) -> Runtime:
    """Only the shipped templates and talk tracks, on SQLite and on PostgreSQL."""
    with transaction(any_runtime.sessions) as s:
        install_shipped(s, "test")
    return any_runtime


@pytest.fixture(scope="session")
def shared_app(content_home: tuple[Path, ContentBook]) -> Iterator[FastAPI]:
    """The app with the REST API and the web pages, built once (building it takes a while);
    each test points it at its own copy of the book."""
    runtime = open_runtime(content_home[0], migrate=False)
    yield web_app(runtime)
    runtime.close()


@pytest.fixture
def app(shared_app: FastAPI, content_book: ContentBook) -> FastAPI:
    """The shared app on this test's copy of the book."""
    shared_app.state.runtime = content_book.runtime
    return shared_app


@pytest.fixture
def client(app: FastAPI, content_book: ContentBook) -> Iterator[TestClient]:
    """A client reading English pages, not signed in."""
    with TestClient(app, cookies={"lang": "en"}) as c:
        app.state.runtime = content_book.runtime  # the lifespan set the app's own again
        yield c


def sign_in_as(client: TestClient, role: str) -> TestClient:
    """Sign `client` in through the form as the user of `role`."""
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"login": LOGINS[role], "password": PASSWORD, "csrf_token": form_token(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client
