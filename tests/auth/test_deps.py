"""The dependencies other endpoints use: who is asking, CSRF, roles, scopes, ownership."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tenure.accounts.models import Account, User
from tenure.auth.clock import utcnow
from tenure.auth.deps import Principal, require_role, require_scope
from tenure.auth.models import ApiToken, UserSession
from tenure.db import transaction
from tenure.kit.runtime import Runtime


class TestCsrf:
    def test_cookie_post_needs_the_sessions_csrf_token(
        self, client: TestClient, users: dict[str, int], accounts: dict[str, int], h: Any
    ) -> None:
        csrf = h.sign_in(client, "manager")
        url = f"/probe/accounts/{accounts['other']}"
        for headers in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": csrf[:-1]}):
            response = client.post(url, headers=headers)
            assert response.status_code == 403
            assert response.json()["error"]["message"] == "CSRF token missing or wrong"
        assert client.post(url, headers={"X-CSRF-Token": csrf}).json() == {
            "changed": accounts["other"]
        }

    def test_form_field_carries_the_token_and_the_form_still_reads(
        self, client: TestClient, users: dict[str, int], h: Any
    ) -> None:
        csrf = h.sign_in(client, "viewer")
        assert client.post("/probe/form", data={"note": "hi"}).status_code == 403
        response = client.post("/probe/form", data={"note": "hi", "csrf_token": csrf})
        assert response.status_code == 200
        assert response.json() == {"note": "hi"}

    def test_another_sessions_token_does_not_pass(
        self, app: Any, client: TestClient, users: dict[str, int], h: Any
    ) -> None:
        h.sign_in(client, "admin")
        with TestClient(app) as other:
            other_csrf = h.sign_in(other, "manager")
        response = client.post("/probe/managers", headers={"X-CSRF-Token": other_csrf})
        assert response.status_code == 403

    def test_safe_methods_and_bearer_tokens_need_no_csrf(
        self, client: TestClient, users: dict[str, int], h: Any
    ) -> None:
        h.sign_in(client, "manager")
        assert client.get("/probe/whoami").json() == {
            "email": "manager@example.com",
            "via": "session",
        }
        token = h.issue_token("manager", "write")
        with TestClient(client.app) as script:
            assert script.post("/probe/managers", headers=h.bearer(token)).status_code == 200


class TestBearer:
    def test_token_authenticates_and_a_bad_bearer_is_not_replaced_by_the_cookie(
        self, client: TestClient, users: dict[str, int], h: Any
    ) -> None:
        token = h.issue_token("csm", "read")
        assert client.get("/probe/whoami", headers=h.bearer(token)).json() == {
            "email": "csm@example.com",
            "via": "token",
        }
        h.sign_in(client, "admin")
        assert client.get("/probe/whoami", headers=h.bearer("tnr_nope")).status_code == 401
        assert client.get("/probe/maybe", headers=h.bearer("tnr_nope")).json() == {"email": None}

    def test_revoked_and_expired_tokens_are_401(
        self, client: TestClient, users: dict[str, int], h: Any, runtime: Runtime
    ) -> None:
        revoked, expired = h.issue_token("csm", "read"), h.issue_token("viewer", "read")
        with transaction(runtime.sessions) as session:
            session.execute(
                update(ApiToken).where(ApiToken.prefix == revoked[:8]).values(revoked_at=utcnow())
            )
            session.execute(
                update(ApiToken)
                .where(ApiToken.prefix == expired[:8])
                .values(expires_at=utcnow() - dt.timedelta(seconds=1))
            )
        for plain in (revoked, expired):
            response = client.get("/probe/whoami", headers=h.bearer(plain))
            assert response.status_code == 401
            assert response.headers["WWW-Authenticate"] == "Bearer"

    def test_tokens_of_deactivated_users_stop_working(
        self, client: TestClient, users: dict[str, int], h: Any, runtime: Runtime
    ) -> None:
        token = h.issue_token("csm", "read")
        with transaction(runtime.sessions) as session:
            session.execute(update(User).where(User.id == users["csm"]).values(is_active=False))
        assert client.get("/probe/whoami", headers=h.bearer(token)).status_code == 401

    def test_read_token_may_read_but_not_write(
        self, client: TestClient, users: dict[str, int], accounts: dict[str, int], h: Any
    ) -> None:
        token = h.issue_token("manager", "read")
        assert client.get("/probe/whoami", headers=h.bearer(token)).status_code == 200
        response = client.post(f"/probe/accounts/{accounts['other']}", headers=h.bearer(token))
        assert response.status_code == 403
        assert response.json()["error"]["message"] == "token 'manager:read' lacks the 'write' scope"

    def test_write_key_posts_events_and_reads_nothing(
        self, client: TestClient, users: dict[str, int], h: Any
    ) -> None:
        key = h.issue_token("csm", "events:write")
        assert client.post("/probe/events", headers=h.bearer(key)).json() == {"ok": True}
        assert client.get("/probe/whoami", headers=h.bearer(key)).status_code == 403
        read_only = h.issue_token("csm", "read")
        assert client.post("/probe/events", headers=h.bearer(read_only)).status_code == 403
        assert client.post("/probe/events").status_code == 401

    def test_last_used_is_written_at_most_once_a_minute(
        self, client: TestClient, users: dict[str, int], h: Any, runtime: Runtime
    ) -> None:
        token = h.issue_token("csm", "read")

        def last_used() -> dt.datetime | None:
            with runtime.sessions() as session:
                return session.scalars(select(ApiToken.last_used_at)).one()

        assert last_used() is None
        client.get("/probe/whoami", headers=h.bearer(token))
        first = last_used()
        assert first is not None
        client.get("/probe/whoami", headers=h.bearer(token))
        assert last_used() == first
        with transaction(runtime.sessions) as session:
            session.execute(update(ApiToken).values(last_used_at=first - dt.timedelta(minutes=2)))
        client.get("/probe/whoami", headers=h.bearer(token))
        second = last_used()
        assert second is not None and second >= first


class TestSessions:
    def test_expired_session_is_401(
        self, client: TestClient, users: dict[str, int], h: Any, runtime: Runtime
    ) -> None:
        h.sign_in(client, "csm")
        assert client.get("/probe/whoami").status_code == 200
        with transaction(runtime.sessions) as session:
            session.execute(update(UserSession).values(expires_at=utcnow()))
        assert client.get("/probe/whoami").status_code == 401

    def test_last_seen_moves_only_after_a_minute(
        self, client: TestClient, users: dict[str, int], h: Any, runtime: Runtime
    ) -> None:
        h.sign_in(client, "csm")
        old = utcnow() - dt.timedelta(minutes=5)
        recent = utcnow() - dt.timedelta(seconds=20)

        def seen_after(value: dt.datetime) -> dt.datetime:
            with transaction(runtime.sessions) as session:
                session.execute(update(UserSession).values(last_seen_at=value))
            client.get("/probe/whoami")
            with runtime.sessions() as session:
                return session.scalars(select(UserSession.last_seen_at)).one()

        assert seen_after(recent) == recent
        assert seen_after(old) > recent


class TestRoles:
    @pytest.mark.parametrize(
        ("role", "account", "status"),
        [
            ("viewer", "csm", 403),
            ("csm", "csm", 200),
            ("csm", "other", 403),
            ("manager", "csm", 200),
            ("admin", "other", 200),
        ],
    )
    def test_who_may_change_which_account(
        self,
        client: TestClient,
        users: dict[str, int],
        accounts: dict[str, int],
        h: Any,
        role: str,
        account: str,
        status: int,
    ) -> None:
        csrf = h.sign_in(client, role)
        response = client.post(
            f"/probe/accounts/{accounts[account]}", headers={"X-CSRF-Token": csrf}
        )
        assert response.status_code == status

    def test_require_role_names_the_role_and_the_action(
        self, client: TestClient, users: dict[str, int], h: Any
    ) -> None:
        csrf = h.sign_in(client, "viewer")
        response = client.post("/probe/managers", headers={"X-CSRF-Token": csrf})
        assert response.status_code == 403
        assert response.json()["error"]["message"] == (
            "role viewer may not run the probe (needs admin or manager)"
        )
        csrf = h.sign_in(client, "manager")
        assert client.post("/probe/managers", headers={"X-CSRF-Token": csrf}).status_code == 200

    def test_unauthenticated_is_401_in_the_error_shape(self, client: TestClient) -> None:
        response = client.post("/probe/managers")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.headers["WWW-Authenticate"] == "Bearer"

    def test_factories_refuse_unknown_roles_and_scopes(self) -> None:
        with pytest.raises(ValueError, match="owner"):
            require_role("owner")
        with pytest.raises(ValueError, match="delete"):
            require_scope("delete")


def principal(role: str, via: str = "session", scopes: set[str] | None = None) -> Principal:
    user = User(id=7, external_id="u7", email="u7@x.org", name="U7", role=role)
    granted = frozenset(scopes if scopes is not None else {"read", "write", "admin"})
    return Principal(user=user, via=via, scopes=granted)  # type: ignore[arg-type]


class TestPrincipal:
    def test_can_write_account_follows_the_matrix(self) -> None:
        own, foreign, unowned = Account(owner_id=7), Account(owner_id=8), Account(owner_id=None)
        assert all(principal(r).can_write_account(foreign) for r in ("admin", "manager"))
        assert principal("csm").can_write_account(own)
        assert not principal("csm").can_write_account(foreign)
        assert not principal("csm").can_write_account(unowned)
        assert not principal("viewer").can_write_account(own)

    def test_tokens_need_write_scope_to_write(self) -> None:
        account = Account(owner_id=7)
        assert not principal("admin", "token", {"read"}).can_write_account(account)
        assert not principal("csm", "token", {"events:write"}).can_write_account(account)
        assert principal("csm", "token", {"read", "write"}).can_write_account(account)

    def test_can_admin_needs_the_role_and_the_scope(self) -> None:
        assert principal("admin").can_admin()
        assert principal("admin").is_admin
        assert not principal("admin", "token", {"read", "write"}).can_admin()
        assert not principal("manager").can_admin()
        assert principal("manager").role == "manager"
