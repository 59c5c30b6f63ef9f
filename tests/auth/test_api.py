"""The auth API as a browser or script uses it: sign-in, users, tokens, the audit log."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tenure.accounts.models import User
from tenure.auth.models import LoginAttempt, UserSession
from tenure.auth.tokens import hash_token
from tenure.db import transaction
from tenure.kit.runtime import Runtime

PASSWORD = "correct horse battery"
LOGIN = "/api/v1/auth/login"


def login(client: TestClient, login: str, password: str = PASSWORD, **kw: Any) -> Any:
    return client.post(LOGIN, json={"login": login, "password": password}, **kw)


def cookie_header(response: Any) -> str:
    [header] = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    return str(header)


class TestLogin:
    def test_sets_an_httponly_samesite_cookie_without_secure_on_http(
        self, client: TestClient, users: dict[str, int], runtime: Runtime
    ) -> None:
        response = login(client, "csm@example.com")
        assert response.status_code == 200
        header = cookie_header(response)
        attributes = [part.strip().lower() for part in header.split(";")]
        assert attributes[0].startswith("tenure_session=")
        assert "httponly" in attributes
        assert "samesite=lax" in attributes
        assert "path=/" in attributes
        assert f"max-age={14 * 24 * 3600}" in attributes
        assert "secure" not in attributes
        body = response.json()
        assert body["user"]["email"] == "csm@example.com"
        assert "password_hash" not in body["user"]
        cookie = header.split(";")[0].split("=", 1)[1]
        with runtime.sessions() as session:
            row = session.scalars(select(UserSession)).one()
        assert row.token_hash == hash_token(cookie)
        assert row.csrf_token == body["csrf_token"]

    def test_cookie_is_secure_behind_a_tls_proxy(
        self, client: TestClient, users: dict[str, int]
    ) -> None:
        response = login(client, "csm@example.com", headers={"X-Forwarded-Proto": "https"})
        assert response.status_code == 200
        assert "secure" in [p.strip().lower() for p in cookie_header(response).split(";")]

    def test_cookie_is_secure_over_https(self, app: FastAPI, users: dict[str, int]) -> None:
        with TestClient(app, base_url="https://testserver") as client:
            response = login(client, "csm@example.com")
            assert "secure" in [p.strip().lower() for p in cookie_header(response).split(";")]
            assert client.get("/api/v1/auth/me").json()["user"]["email"] == "csm@example.com"

    def test_wrong_password_and_unknown_login_answer_alike(
        self, client: TestClient, users: dict[str, int]
    ) -> None:
        wrong = login(client, "csm@example.com", "not the password")
        unknown = login(client, "nobody@example.com")
        assert wrong.status_code == unknown.status_code == 401
        assert (
            wrong.json()
            == unknown.json()
            == {
                "error": {
                    "code": "unauthorized",
                    "message": "wrong e-mail or password",
                    "details": [],
                }
            }
        )
        assert "set-cookie" not in wrong.headers

    def test_only_json_is_accepted(self, client: TestClient, users: dict[str, int]) -> None:
        body = json.dumps({"login": "csm@example.com", "password": PASSWORD})
        for content_type in (None, "text/plain"):
            headers = {"Content-Type": content_type} if content_type else {}
            response = client.post(LOGIN, content=body.encode(), headers=headers)
            assert response.status_code == 415
            assert "tenure_session" not in client.cookies
        assert login(client, "csm@example.com").status_code == 200

    def test_sixth_attempt_is_429_until_the_window_passes(
        self, client: TestClient, users: dict[str, int], runtime: Runtime
    ) -> None:
        for _ in range(5):
            assert login(client, "csm@example.com", "not the password").status_code == 401
        refused = login(client, "csm@example.com")  # the right password
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "too_many_attempts"
        assert 890 <= int(refused.headers["Retry-After"]) <= 900
        with runtime.sessions() as session:  # failures recorded, the refusal not
            assert len(session.scalars(select(LoginAttempt)).all()) == 5
        with transaction(runtime.sessions) as session:
            session.execute(
                update(LoginAttempt).values(
                    attempted_at=LoginAttempt.attempted_at - dt.timedelta(minutes=15, seconds=1)
                )
            )
        assert login(client, "csm@example.com").status_code == 200

    def test_me_logout_and_the_old_cookie_stops_working(
        self, client: TestClient, users: dict[str, int], h: Any
    ) -> None:
        csrf = h.sign_in(client, "viewer")
        me = client.get("/api/v1/auth/me").json()
        assert me["user"]["role"] == "viewer"
        assert (me["via"], me["csrf_token"]) == ("session", csrf)
        old_cookie = client.cookies["tenure_session"]
        assert client.post("/api/v1/auth/logout").status_code == 403  # no CSRF token
        out = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
        assert out.status_code == 204
        assert "tenure_session=" in out.headers["set-cookie"]
        assert "tenure_session" not in client.cookies
        client.cookies.set("tenure_session", old_cookie)
        response = client.get("/api/v1/auth/me")
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.json()["error"]["code"] == "unauthorized"


class TestUsers:
    def test_admin_creates_a_user_who_can_then_sign_in(
        self, client: TestClient, users: dict[str, int], h: Any, runtime: Runtime
    ) -> None:
        csrf = h.sign_in(client, "admin")
        created = client.post(
            "/api/v1/users",
            json={
                "email": "New@Example.com",
                "name": "New",
                "password": "a fine password",
                "role": "manager",
                "department": "EMEA",
            },
            headers={"X-CSRF-Token": csrf},
        )
        assert created.status_code == 201, created.text
        assert created.json()["email"] == "new@example.com"
        assert "password_hash" not in created.json()
        with runtime.sessions() as session:
            stored = session.scalars(select(User).where(User.email == "new@example.com")).one()
            assert stored.password_hash is not None
            assert stored.password_hash.startswith("$argon2id$")
        with TestClient(client.app) as other:
            assert login(other, "new@example.com", "a fine password").status_code == 200
        listed = client.get("/api/v1/users", params={"role": "manager"}).json()
        assert [u["email"] for u in listed["items"]] == ["manager@example.com", "new@example.com"]
        assert (listed["total"], listed["limit"], listed["offset"]) == (2, 50, 0)

    def test_weak_password_is_422_with_the_reason(
        self, client: TestClient, users: dict[str, int], h: Any
    ) -> None:
        csrf = h.sign_in(client, "admin")
        response = client.post(
            "/api/v1/users",
            json={"email": "x@example.com", "name": "X", "password": "short"},
            headers={"X-CSRF-Token": csrf},
        )
        assert response.status_code == 422
        assert response.json()["error"]["message"] == (
            "password must have at least 10 characters, it has 5"
        )

    def test_non_admins_may_not_manage_users(
        self, client: TestClient, users: dict[str, int], h: Any
    ) -> None:
        h.sign_in(client, "manager")
        response = client.get("/api/v1/users")
        assert response.status_code == 403
        assert response.json()["error"]["message"] == (
            "role manager may not manage users and tokens (needs admin)"
        )

    def test_patch_role_is_audited_and_deactivation_signs_the_user_out(
        self, app: FastAPI, client: TestClient, users: dict[str, int], h: Any
    ) -> None:
        with TestClient(app) as csm_client:
            h.sign_in(csm_client, "csm")
            assert csm_client.get("/api/v1/auth/me").status_code == 200
            csrf = h.sign_in(client, "admin")
            url = f"/api/v1/users/{users['csm']}"
            changed = client.patch(url, json={"role": "viewer"}, headers={"X-CSRF-Token": csrf})
            assert changed.json()["role"] == "viewer"
            entries = client.get(
                "/api/v1/audit", params={"entity": "user", "entity_id": users["csm"]}
            ).json()["items"]
            update = next(e for e in entries if e["action"] == "update")
            assert update["actor"] == "admin@example.com"
            assert update["actor_id"] == users["admin"]
            assert (update["before"]["role"], update["after"]["role"]) == ("csm", "viewer")
            off = client.patch(url, json={"is_active": False}, headers={"X-CSRF-Token": csrf})
            assert off.json()["is_active"] is False
            assert csm_client.get("/api/v1/auth/me").status_code == 401
            assert login(csm_client, "csm@example.com").status_code == 401

    def test_patch_rejects_unknown_fields_and_roles(
        self, client: TestClient, users: dict[str, int], h: Any
    ) -> None:
        csrf = h.sign_in(client, "admin")
        url = f"/api/v1/users/{users['csm']}"
        headers = {"X-CSRF-Token": csrf}
        assert client.patch(url, json={"email": "x@y.z"}, headers=headers).status_code == 422
        bad_role = client.patch(url, json={"role": "owner"}, headers=headers)
        assert bad_role.status_code == 422
        assert bad_role.json()["error"]["details"][0]["field"] == "role"
        missing = client.patch("/api/v1/users/999", json={"name": "X"}, headers=headers)
        assert missing.status_code == 404

    def test_password_reset_by_admin(
        self, app: FastAPI, client: TestClient, users: dict[str, int], h: Any
    ) -> None:
        csrf = h.sign_in(client, "admin")
        response = client.post(
            f"/api/v1/users/{users['viewer']}/password",
            json={"password": "another long one"},
            headers={"X-CSRF-Token": csrf},
        )
        assert response.status_code == 204
        with TestClient(app) as other:
            assert login(other, "viewer@example.com").status_code == 401
            assert login(other, "viewer@example.com", "another long one").status_code == 200
        # The admin's own session survives resetting someone else's password.
        assert client.get("/api/v1/auth/me").status_code == 200


class TestTokens:
    def test_token_is_shown_once_listed_by_prefix_and_revocable(
        self, client: TestClient, users: dict[str, int], h: Any
    ) -> None:
        csrf = h.sign_in(client, "admin")
        headers = {"X-CSRF-Token": csrf}
        created = client.post(
            "/api/v1/tokens",
            json={"name": "etl", "scopes": ["read", "write"], "user_id": users["manager"]},
            headers=headers,
        )
        assert created.status_code == 201, created.text
        body = created.json()
        plain = body["token"]
        assert plain.startswith("tnr_") and body["prefix"] == plain[:8]
        assert body["user_id"] == users["manager"]
        listed = client.get("/api/v1/tokens").json()
        assert listed["total"] == 1
        assert "token" not in listed["items"][0]
        assert plain not in str(listed)
        with TestClient(client.app) as script:
            me = script.get("/api/v1/auth/me", headers=h.bearer(plain)).json()
            assert (me["user"]["email"], me["via"], me["token_name"]) == (
                "manager@example.com",
                "token",
                "etl",
            )
            revoked = client.delete(f"/api/v1/tokens/{body['id']}", headers=headers)
            assert revoked.json()["revoked_at"] is not None
            assert script.get("/api/v1/auth/me", headers=h.bearer(plain)).status_code == 401
        assert client.get("/api/v1/tokens").json()["total"] == 0
        assert client.get("/api/v1/tokens", params={"include_revoked": True}).json()["total"] == 1

    def test_unknown_scope_is_422(self, client: TestClient, users: dict[str, int], h: Any) -> None:
        csrf = h.sign_in(client, "admin")
        response = client.post(
            "/api/v1/tokens", json={"name": "x", "scopes": ["root"]}, headers={"X-CSRF-Token": csrf}
        )
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["field"] == "scopes.0"

    def test_an_admin_token_without_admin_scope_cannot_manage(
        self, client: TestClient, users: dict[str, int], h: Any
    ) -> None:
        token = h.issue_token("admin", "write")
        response = client.get("/api/v1/tokens", headers=h.bearer(token))
        assert response.status_code == 403
        assert response.json()["error"]["message"] == "token 'admin:write' lacks the 'admin' scope"
        admin_token = h.issue_token("admin", "admin")
        assert client.get("/api/v1/tokens", headers=h.bearer(admin_token)).status_code == 200


class TestAudit:
    def test_managers_read_the_log_csms_may_not(
        self, app: FastAPI, client: TestClient, users: dict[str, int], h: Any
    ) -> None:
        with TestClient(app) as admin:
            csrf = h.sign_in(admin, "admin")
            for n in range(3):
                body = {"email": f"u{n}@example.com", "name": "U", "password": PASSWORD}
                created = admin.post("/api/v1/users", json=body, headers={"X-CSRF-Token": csrf})
                assert created.status_code == 201
        h.sign_in(client, "csm")
        denied = client.get("/api/v1/audit")
        assert denied.status_code == 403
        assert denied.json()["error"]["message"] == (
            "role csm may not read the audit log (needs admin or manager)"
        )
        h.sign_in(client, "manager")
        params = {"actor": "admin@example.com", "entity": "user", "action": "create", "limit": 2}
        page = client.get("/api/v1/audit", params=params).json()
        assert (page["total"], page["limit"], page["offset"]) == (3, 2, 0)
        assert [e["after"]["email"] for e in page["items"]] == ["u2@example.com", "u1@example.com"]
        assert {(e["action"], e["actor_id"]) for e in page["items"]} == {("create", users["admin"])}
        rest = client.get("/api/v1/audit", params={**params, "offset": 2}).json()
        assert [e["after"]["email"] for e in rest["items"]] == ["u0@example.com"]
        assert client.get("/api/v1/audit", params={"limit": 0}).status_code == 422
