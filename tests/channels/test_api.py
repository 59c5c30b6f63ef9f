"""`/api/v1/channels`: kinds for everyone signed in, endpoints for admins only."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.api.conftest import build_app

from tenure.accounts.models import Account, User
from tenure.auth.token_service import create_api_token
from tenure.db import transaction
from tenure.kit.runtime import Runtime, open_runtime

from .conftest import VendorServer, webhook_receiver

SECRET = "whsec-api-test-secret"
NOT_ADMIN = ("manager", "csm", "viewer")


@dataclass
class People:
    """API tokens by principal, and the id of account A-1."""

    tokens: dict[str, str] = field(default_factory=dict)
    account_id: int = 0

    def headers(self, principal: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[principal]}"}


def seed_people(runtime: Runtime) -> People:
    """A user and token per role (no passwords: only tokens are used), and account A-1.

    `admin-write` is an admin's token without the `admin` scope."""
    people = People()
    with transaction(runtime.sessions) as s:
        for role in ("admin", "manager", "csm", "viewer"):
            user = User(external_id=role, email=f"{role}@example.com", name=role.title(), role=role)
            s.add(user)
            s.flush()
            scopes = ["admin"] if role == "admin" else ["write"]
            people.tokens[role], _ = create_api_token(
                s, user=user, name=role, scopes=scopes, actor="test"
            )
            if role == "admin":
                people.tokens["admin-write"], _ = create_api_token(
                    s, user=user, name="admin-write", scopes=["write"], actor="test"
                )
        account = Account(external_id="A-1", name="Account 1")
        s.add(account)
        s.flush()
        people.account_id = account.id
    return people


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, People]:
    home = tmp_path_factory.mktemp("channels-api") / "home"
    runtime = open_runtime(home)
    people = seed_people(runtime)
    runtime.close()
    return home, people


@pytest.fixture
def book(template: tuple[Path, People]) -> People:
    return template[1]


@pytest.fixture(scope="module")
def api_runtime(
    template: tuple[Path, People], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Runtime]:
    """One copy of the seeded home for the module (building the app is what takes time)."""
    home = tmp_path_factory.mktemp("channels-api-copy") / "home"
    shutil.copytree(template[0], home)
    runtime = open_runtime(home, migrate=False)
    yield runtime
    runtime.close()


@pytest.fixture(scope="module")
def client(api_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(build_app(api_runtime)) as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def _no_endpoints_left(api_runtime: Runtime) -> Iterator[None]:
    """Each test starts without endpoints or their audit entries."""
    yield
    with api_runtime.engine.begin() as conn:
        conn.execute(text("DELETE FROM channel_endpoints"))
        conn.execute(text("DELETE FROM audit_log WHERE entity = 'channel_endpoint'"))


def webhook_body(url: str = "http://127.0.0.1:9/in", name: str = "ops-hook") -> dict[str, Any]:
    return {
        "name": name, "kind": "webhook", "settings": {"url": url},
        "secrets": {"signing_secret": SECRET},
    }  # fmt: skip


def create(client: TestClient, book: People, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/channels", json=body, headers=book.headers("admin"))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


@pytest.mark.parametrize("principal", ["admin", *NOT_ADMIN])
def test_every_signed_in_user_reads_the_kinds(
    client: TestClient, book: People, principal: str
) -> None:
    response = client.get("/api/v1/channels/kinds", headers=book.headers(principal))
    assert response.status_code == 200
    kinds = {k["kind"]: k for k in response.json()}
    assert set(kinds) == {"email", "webhook", "slack", "wecom", "dingtalk", "feishu"}
    assert kinds["feishu"]["secret_fields"] == ["token", "secret"]
    assert "base_url" in kinds["feishu"]["settings_schema"]["properties"]


def test_anonymous_gets_401(client: TestClient) -> None:
    assert client.get("/api/v1/channels/kinds").status_code == 401
    assert client.get("/api/v1/channels").status_code == 401


def test_an_admin_token_needs_the_admin_scope(client: TestClient, book: People) -> None:
    response = client.post(
        "/api/v1/channels", json=webhook_body(), headers=book.headers("admin-write")
    )
    assert response.status_code == 403
    assert response.json()["error"]["message"] == (
        "managing delivery channels needs a token with the 'admin' scope"
    )


@pytest.mark.parametrize("principal", NOT_ADMIN)
def test_only_admins_manage_endpoints(client: TestClient, book: People, principal: str) -> None:
    endpoint = create(client, book, webhook_body())
    path = f"/api/v1/channels/{endpoint['id']}"
    calls = [
        ("GET", "/api/v1/channels", None),
        ("POST", "/api/v1/channels", webhook_body(name="other")),
        ("GET", path, None),
        ("PATCH", path, {"enabled": False}),
        ("DELETE", path, None),
        ("POST", f"{path}/test", None),
    ]
    for method, url, body in calls:
        response = client.request(method, url, json=body, headers=book.headers(principal))
        assert response.status_code == 403, (method, url, response.text)
        error = response.json()["error"]
        assert error["code"] == "forbidden"
        assert error["message"] == (
            f"role {principal} may not manage delivery channels (needs admin)"
        )
    # Nothing changed.
    listed = client.get("/api/v1/channels", headers=book.headers("admin")).json()
    assert [(e["name"], e["enabled"]) for e in listed["items"]] == [("ops-hook", True)]


def test_admin_creates_reads_updates_and_deletes(
    client: TestClient, book: People, api_runtime: Runtime
) -> None:
    admin = book.headers("admin")
    created = create(client, book, {**webhook_body(), "account": "A-1", "is_default": True})
    assert created["secrets_set"] == ["signing_secret"]
    assert created["account_id"] == book.account_id
    assert SECRET not in str(created)
    with api_runtime.engine.connect() as conn:
        raw = conn.execute(text("SELECT secrets FROM channel_endpoints")).scalar_one()
    assert SECRET not in raw

    path = f"/api/v1/channels/{created['id']}"
    patched = client.patch(
        path, json={"settings": {"timeout": 2.5}, "account": None}, headers=admin
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["settings"] == {"url": "http://127.0.0.1:9/in", "timeout": 2.5}
    assert patched.json()["account_id"] is None
    assert client.get(path, headers=admin).json()["settings"]["timeout"] == 2.5

    audit = client.get("/api/v1/audit", params={"entity": "channel_endpoint"}, headers=admin)
    if audit.status_code == 200:  # the audit API lists what the service recorded
        assert SECRET not in audit.text
        assert {e["action"] for e in audit.json()["items"]} == {"create", "update"}

    assert client.delete(path, headers=admin).status_code == 204
    missing = client.get(path, headers=admin)
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == f"no channel endpoint has id {created['id']}"


def test_invalid_settings_name_each_field(client: TestClient, book: People) -> None:
    response = client.post(
        "/api/v1/channels",
        json={"name": "mail", "kind": "email",
              "settings": {"host": "smtp.example.com", "port": 70000, "security": "tls"},
              "secrets": {"password": "p"}},
        headers=book.headers("admin"),
    )  # fmt: skip
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_endpoint"
    assert [d["field"] for d in error["details"]] == [
        "settings.port", "settings.security", "settings.sender_address", "secrets",
    ]  # fmt: skip
    unknown = client.post(
        "/api/v1/channels", json={"name": "x", "kind": "pager"}, headers=book.headers("admin")
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"]["details"][0]["field"] == "kind"
    create(client, book, webhook_body())
    again = client.post("/api/v1/channels", json=webhook_body(), headers=book.headers("admin"))
    assert again.status_code == 409
    assert again.json()["error"]["message"] == "a channel endpoint named 'ops-hook' exists already"


def test_test_send_reaches_the_receiver_and_is_recorded(
    client: TestClient, book: People, vendor_server: Callable[..., VendorServer]
) -> None:
    receiver = vendor_server(webhook_receiver(SECRET))
    created = create(client, book, webhook_body(url=receiver.url + "/in"))
    path = f"/api/v1/channels/{created['id']}"
    response = client.post(
        f"{path}/test", json={"recipient": {"mobile": "13800001111"}},
        headers=book.headers("admin"),
    )  # fmt: skip
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["ok"], result["result"]) == (True, "ok (id evt_1)")
    assert len(receiver.received) == 1
    stored = client.get(path, headers=book.headers("admin")).json()
    assert stored["last_test_result"] == "ok (id evt_1)"
    assert stored["last_test_at"] is not None


def test_a_changed_key_is_reported_precisely(
    client: TestClient, book: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = create(client, book, webhook_body())
    monkeypatch.setenv("TENURE_SECRET_KEY", Fernet.generate_key().decode())
    path = f"/api/v1/channels/{created['id']}"
    shown = client.get(path, headers=book.headers("admin")).json()
    assert shown["secrets_set"] == []
    assert shown["secrets_error"].startswith(
        "endpoint 'ops-hook': stored channel secrets cannot be decrypted with this secret key"
    )
    tested = client.post(f"{path}/test", headers=book.headers("admin")).json()
    assert tested["ok"] is False and tested["result"] == shown["secrets_error"]
    monkeypatch.setenv("TENURE_SECRET_KEY", "garbage")
    broken = client.get(path, headers=book.headers("admin"))
    assert broken.status_code == 409
    assert "is not a valid Fernet key" in broken.json()["error"]["message"]
