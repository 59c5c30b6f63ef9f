"""An app with the auth router and a tiny test router, and users of every role."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException
from fastapi.testclient import TestClient
from sqlalchemy import select

from tenure.accounts.models import Account, User
from tenure.app import create_app
from tenure.auth import service
from tenure.auth.api import router
from tenure.auth.deps import CurrentPrincipal, OptionalPrincipal, require_role, require_scope
from tenure.auth.passwords import hash_password
from tenure.db import transaction
from tenure.kit.deps import SessionDep
from tenure.kit.runtime import Runtime

PASSWORD = "correct horse battery"
ROLES = ("admin", "manager", "csm", "viewer")


def probe_router() -> APIRouter:
    """Endpoints that exist only to exercise the dependencies."""
    probe = APIRouter()

    @probe.get("/probe/whoami")
    def whoami(principal: CurrentPrincipal) -> dict[str, Any]:
        """Who is asking."""
        return {"email": principal.user.email, "via": principal.via}

    @probe.get("/probe/maybe")
    def maybe(principal: OptionalPrincipal) -> dict[str, Any]:
        """Who is asking, if anyone."""
        return {"email": principal.user.email if principal else None}

    @probe.post("/probe/accounts/{account_id}")
    def touch_account(
        account_id: int, principal: CurrentPrincipal, session: SessionDep
    ) -> dict[str, Any]:
        """Change an account (only when the principal may)."""
        account = session.get(Account, account_id)
        assert account is not None
        if not principal.can_write_account(account):
            raise HTTPException(403, f"role {principal.role} may not change this account")
        account.region = "changed"
        return {"changed": account.id}

    @probe.post(
        "/probe/managers",
        dependencies=[Depends(require_role("admin", "manager", action="run the probe"))],
    )
    def managers_only() -> dict[str, Any]:
        """Only admins and managers."""
        return {"ok": True}

    @probe.post("/probe/form")
    def form_post(principal: CurrentPrincipal, note: str = Form()) -> dict[str, Any]:
        """A classic HTML form post."""
        return {"note": note}

    @probe.post("/probe/events")
    def events(principal: Any = Depends(require_scope("events:write"))) -> dict[str, Any]:
        """What a tracking endpoint would do."""
        return {"ok": True}

    return probe


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    built = create_app(runtime)
    built.include_router(router)
    built.include_router(probe_router())
    return built


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def password_hash() -> str:
    """The argon2id hash of PASSWORD, made once (hashing is slow on purpose)."""
    return hash_password(PASSWORD)


@pytest.fixture
def users(runtime: Runtime, password_hash: str) -> dict[str, int]:
    """One active user per role, e-mail `<role>@example.com`, all with PASSWORD."""
    with transaction(runtime.sessions) as session:
        rows = {
            role: User(
                external_id=f"{role}-1",
                email=f"{role}@example.com",
                name=role.title(),
                role=role,
                password_hash=password_hash,
            )
            for role in ROLES
        }
        session.add_all(rows.values())
        session.flush()
        return {role: user.id for role, user in rows.items()}


@pytest.fixture
def accounts(runtime: Runtime, users: dict[str, int]) -> dict[str, int]:
    """An account owned by the csm and one owned by the manager."""
    with transaction(runtime.sessions) as session:
        mine = Account(external_id="A-1", name="Owned by csm", owner_id=users["csm"])
        other = Account(external_id="A-2", name="Owned by manager", owner_id=users["manager"])
        session.add_all([mine, other])
        session.flush()
        return {"csm": mine.id, "other": other.id}


class Helpers:
    """Sign in and issue tokens in tests (a fixture, so tests need not import conftest)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def sign_in(self, client: TestClient, role: str, password: str = PASSWORD) -> str:
        """Sign in as `<role>@example.com`; return the CSRF token."""
        response = client.post(
            "/api/v1/auth/login", json={"login": f"{role}@example.com", "password": password}
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["csrf_token"]
        return token

    def issue_token(self, role: str, *scopes: str) -> str:
        """A plain API token of `<role>@example.com` with `scopes`."""
        with transaction(self.runtime.sessions) as session:
            user = session.scalars(select(User).where(User.email == f"{role}@example.com")).one()
            plain, _ = service.create_api_token(
                session, user=user, name=f"{role}:{','.join(scopes)}", scopes=scopes, actor="test"
            )
        return plain

    @staticmethod
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def h(runtime: Runtime) -> Helpers:
    return Helpers(runtime)
