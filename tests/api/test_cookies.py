"""The REST API from a browser: the session cookie, and the CSRF token on every change."""

from __future__ import annotations

from fastapi.testclient import TestClient

from .conftest import PASSWORD, Book


def sign_in(client: TestClient, email: str) -> str:
    """Sign in (the client keeps the cookie); return the session's CSRF token."""
    response = client.post("/api/v1/auth/login", json={"login": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    token: str = response.json()["csrf_token"]
    return token


def test_reads_need_only_the_cookie(client: TestClient) -> None:
    assert client.get("/api/v1/accounts").status_code == 401
    sign_in(client, "viewer@example.com")
    assert client.get("/api/v1/accounts").json()["total"] == 2


def test_changes_need_the_csrf_token(client: TestClient) -> None:
    csrf = sign_in(client, "csm@example.com")
    refused = client.patch("/api/v1/accounts/A-1", json={"region": "North"})
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "CSRF token missing or wrong"
    wrong = client.patch(
        "/api/v1/accounts/A-1", json={"region": "North"}, headers={"X-CSRF-Token": "guess"}
    )
    assert wrong.status_code == 403
    accepted = client.patch(
        "/api/v1/accounts/A-1", json={"region": "North"}, headers={"X-CSRF-Token": csrf}
    )
    assert accepted.status_code == 200
    assert accepted.json()["region"] == "North"


def test_a_cookie_session_still_follows_the_matrix(client: TestClient, book: Book) -> None:
    csrf = {"X-CSRF-Token": sign_in(client, "csm@example.com")}
    other = client.post(f"/api/v1/alerts/{book.ids['A-2:open']}/acknowledge", headers=csrf)
    assert other.status_code == 403
    own = client.post(f"/api/v1/alerts/{book.ids['A-1:open']}/acknowledge", headers=csrf)
    assert own.json()["status"] == "acknowledged"
    config = client.put("/api/v1/config", json={}, headers=csrf)
    assert config.status_code == 403
    assert config.json()["error"]["message"] == (
        "role csm may not change the configuration (needs admin)"
    )
