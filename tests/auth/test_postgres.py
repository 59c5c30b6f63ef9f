"""The sign-in flow on PostgreSQL: login, CSRF-protected writes, throttling, tokens."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tenure.auth.models import AuditEntry, LoginAttempt
from tenure.db import transaction
from tenure.kit.runtime import Runtime

pytestmark = pytest.mark.postgres


@pytest.fixture
def runtime(pg_runtime: Runtime) -> Runtime:
    """Every auth fixture of this module (app, users, accounts) on PostgreSQL."""
    assert pg_runtime.engine.dialect.name == "postgresql"
    return pg_runtime


def test_login_csrf_write_token_and_logout(
    client: TestClient, users: dict[str, int], accounts: dict[str, int], h: Any, runtime: Runtime
) -> None:
    csrf = h.sign_in(client, "csm")
    assert client.get("/api/v1/auth/me").json()["user"]["email"] == "csm@example.com"
    own = f"/probe/accounts/{accounts['csm']}"
    assert client.post(own).status_code == 403
    assert client.post(own, headers={"X-CSRF-Token": csrf}).status_code == 200
    assert (
        client.post(
            f"/probe/accounts/{accounts['other']}", headers={"X-CSRF-Token": csrf}
        ).status_code
        == 403
    )
    token = h.issue_token("manager", "read", "write")
    with TestClient(client.app) as script:
        assert (
            script.post(f"/probe/accounts/{accounts['other']}", headers=h.bearer(token)).status_code
            == 200
        )
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 401
    with runtime.sessions() as session:
        actions = session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.entity_id == str(users["csm"]))
            .order_by(AuditEntry.id)
        ).all()
    assert actions == ["login", "logout"]


def test_throttle_on_postgresql(
    client: TestClient, users: dict[str, int], runtime: Runtime
) -> None:
    body = {"login": "viewer@example.com", "password": "not the password"}
    for _ in range(5):
        assert client.post("/api/v1/auth/login", json=body).status_code == 401
    right = {"login": "viewer@example.com", "password": "correct horse battery"}
    refused = client.post("/api/v1/auth/login", json=right)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    with transaction(runtime.sessions) as session:
        session.execute(
            update(LoginAttempt).values(
                attempted_at=LoginAttempt.attempted_at - dt.timedelta(minutes=16)
            )
        )
    assert client.post("/api/v1/auth/login", json=right).status_code == 200
