"""The permission matrix of docs/server.md: every endpoint × every principal."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tenure.api import api_router
from tenure.config import DEFAULT_CONFIG_PATH, load_config

from .conftest import PRINCIPALS, Book

CONFIG = load_config(DEFAULT_CONFIG_PATH).model_dump(mode="json")


@dataclass(frozen=True)
class Case:
    """One endpoint call; `rule` is who may: "read" (anyone signed in), "owned-read"
    (anyone signed in but a csm of another account), "write" (admins, managers and the
    owning csm), "manage" (admins and managers) or "admin"."""

    method: str
    path: str
    rule: str
    ok: int = 200
    body: dict[str, Any] | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


READS = [
    Case("GET", path, "read")
    for path in (
        "/accounts",
        "/accounts/A-1",
        "/accounts/A-1/scores",
        "/scores",
        "/scores?as_of=2024-05-31",
        "/contacts?account=A-1",
        "/contacts/C-1",
        "/subscriptions",
        "/subscriptions/S-1",
        "/orders",
        "/orders/O-1",
        "/tickets",
        "/tickets/T-1",
        "/nps-responses",
        "/nps-responses/N-1",
        "/interactions",
        "/interactions/I-1",
        "/alerts",
        "/alerts/<A-1:open>",
        "/config",
        "/config/versions",
        "/channels/kinds",
        "/templates",
        "/templates/<tpl>",
        "/talk-tracks?q=renewal",
        "/talk-tracks/<tt>",
        "/playbooks",
        "/playbooks/<pb>",
        "/playbook-runs?account=A-1",
        "/playbook-runs/<run>",
        "/tasks",
        "/tasks/<task>",
        "/outbox",
        "/surveys/invitations?account=A-1",
        "/surveys/nps/stats?account=A-1",
    )
]
PLAYBOOK = {"trigger": {"type": "stage", "stage": "mature"},
            "steps": [{"action": "task", "title": "Meet {{ account.name }}"}]}  # fmt: skip
ENGAGEMENT = [
    Case("GET", "/outbox/<msg>", "owned-read"),
    Case("POST", "/templates/preview", "read", 200, {"template_id": "<tpl>", "account": "A-1"}),
    Case("POST", "/playbook-runs/<run>/cancel", "write"),
    Case("POST", "/tasks/<task>/status", "write", 200, {"status": "done"}),
    Case("POST", "/surveys/nps/send", "write", 200, {"account": "A-1"}),
    Case("POST", "/templates", "manage", 201,
         {"key": "renewal_note", "locale": "en", "name": "Renewal", "subject": "Renewal",
          "body": "Dear {{ contact.name }}"}),
    Case("PATCH", "/templates/<tpl>", "manage", 200, {"name": "Welcome!"}),
    Case("DELETE", "/templates/<tpl>", "manage", 204),
    Case("POST", "/talk-tracks", "manage", 201,
         {"key": "sla", "locale": "en", "topic": "SLA", "question": "Uptime?",
          "answer": "99.9%"}),
    Case("PATCH", "/talk-tracks/<tt>", "manage", 200, {"answer": "Annual; 60 days notice."}),
    Case("DELETE", "/talk-tracks/<tt>", "manage", 204),
    Case("POST", "/outbox/<msg>/retry", "manage"),
    Case("POST", "/outbox/<msg>/cancel", "manage"),
    Case("GET", "/channels", "admin"),
    Case("POST", "/channels", "admin", 201,
         {"name": "team-hook", "kind": "webhook", "settings": {"url": "http://127.0.0.1:9/x"},
          "secrets": {"signing_secret": "0123456789abcdef"}}),
    Case("GET", "/channels/<hook>", "admin"),
    Case("PATCH", "/channels/<hook>", "admin", 200, {"enabled": False}),
    Case("DELETE", "/channels/<hook>", "admin", 204),
    Case("POST", "/channels/<hook>/test", "admin"),
    Case("POST", "/playbooks", "admin", 201,
         {"key": "meet", "name": "Meet", "definition": PLAYBOOK}),
    Case("PATCH", "/playbooks/<pb>", "admin", 200, {"enabled": False}),
    Case("DELETE", "/playbooks/<pb>", "admin", 204),
    Case("POST", "/playbooks/install-shipped", "admin"),
]  # fmt: skip
NEW = {"external_id": "NEW", "account": "A-1"}
RECORDS = {
    "contacts": ("C-1", {**NEW, "name": "Dana"}, {"title": "CTO"}),
    "subscriptions": (
        "S-1",
        {**NEW, "product": "Suite", "start_date": "2024-07-01"},
        {"auto_renew": True},
    ),
    "orders": ("O-1", {**NEW, "order_date": "2024-07-01", "amount": 10}, {"margin": 2}),
    "tickets": ("T-1", {**NEW, "opened_at": "2024-07-01T08:00:00"}, {"is_complaint": True}),
    "nps-responses": (
        "N-1",
        {**NEW, "responded_at": "2024-07-01T08:00:00", "score": 9},
        {"score": 3},
    ),
    "interactions": (
        "I-1",
        {**NEW, "occurred_at": "2024-07-01T08:00:00", "channel": "phone", "type": "call"},
        {"summary": "renewal talk"},
    ),
}
WRITES = [
    Case(
        "POST",
        "/accounts",
        "write",
        201,
        {"external_id": "NEW", "name": "New", "owner": "csm@example.com"},
    ),
    Case("PATCH", "/accounts/A-1", "write", 200, {"region": "North"}),
    Case("DELETE", "/accounts/A-1", "write", 204),
    *(
        case
        for resource, (key, create, patch) in RECORDS.items()
        for case in (
            Case("POST", f"/{resource}", "write", 201, create),
            Case("PATCH", f"/{resource}/{key}", "write", 200, patch),
            Case("DELETE", f"/{resource}/{key}", "write", 204),
        )
    ),
    Case("POST", "/alerts/<A-1:open>/assign", "write", 200, {"assignee": "csm@example.com"}),
    Case("POST", "/alerts/<A-1:open>/acknowledge", "write"),
    Case("POST", "/alerts/<A-1:acknowledged>/resolve", "write", 200, {"note": "called them"}),
    Case("POST", "/alerts/<A-1:open>/dismiss", "write", 200, {"reason": "known outage"}),
]
ADMIN = [
    Case("PUT", "/config", "admin", 200, CONFIG),
    Case("POST", "/config/validate", "read", 200, CONFIG),
]
CASES = READS + WRITES + ADMIN + ENGAGEMENT


def expected(case: Case, principal: str) -> int:
    """The status code the matrix gives `principal` for `case`."""
    if principal == "anonymous":
        return 401
    if case.rule == "read":
        return case.ok
    if case.rule == "admin":
        return case.ok if principal == "admin" else 403
    if case.rule == "owned-read":
        return 403 if principal == "csm-other" else case.ok
    if case.rule == "manage":
        return case.ok if principal in ("admin", "manager") else 403
    return 403 if principal in ("viewer", "csm-other") else case.ok


def call(client: TestClient, book: Book, case: Case, principal: str) -> Any:
    path = re.sub(r"<([^>]+)>", lambda m: str(book.ids[m.group(1)]), case.path)
    body = case.body
    if body is not None:  # "<label>" values become the seeded row's id
        body = {
            k: book.ids[v[1:-1]] if isinstance(v, str) and re.fullmatch(r"<[^>]+>", v) else v
            for k, v in body.items()
        }
    return client.request(case.method, f"/api/v1{path}", json=body, headers=book.headers(principal))


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_matrix(client: TestClient, book: Book, case: Case, principal: str) -> None:
    response = call(client, book, case, principal)
    assert response.status_code == expected(case, principal), response.text
    if response.status_code >= 400:
        error = response.json()["error"]
        assert error["code"] == {401: "unauthorized", 403: "forbidden"}[response.status_code]


def test_every_api_operation_is_in_the_matrix() -> None:
    """A new endpoint must be added to the matrix (the versions/{n} read is covered elsewhere)."""
    bare = FastAPI()
    bare.include_router(api_router())
    operations = {
        (method.upper(), re.sub(r"\{[^}]+\}", "{}", path.removeprefix("/api/v1")))
        for path, item in bare.openapi()["paths"].items()
        for method in item
    }
    covered = {
        (case.method, re.sub(r"/[A-Z]-1|/<[^>]+>", "/{}", case.path.split("?")[0]))
        for case in CASES
    }
    assert operations - covered == {("GET", "/config/versions/{}")}


def test_csm_may_not_edit_another_csms_account(client: TestClient, book: Book) -> None:
    response = client.patch(
        "/api/v1/accounts/A-2", json={"region": "West"}, headers=book.headers("csm-owner")
    )
    assert response.status_code == 403
    assert response.json()["error"]["message"] == (
        "a csm may change only the accounts they own; account 'A-2' is not theirs"
    )
    own = client.patch(
        "/api/v1/accounts/A-2", json={"region": "West"}, headers=book.headers("csm-other")
    )
    assert own.status_code == 200
    assert own.json()["region"] == "West"


def test_csm_may_not_hand_an_account_to_someone_else(client: TestClient, book: Book) -> None:
    response = client.patch(
        "/api/v1/accounts/A-1",
        json={"owner": "csm2@example.com"},
        headers=book.headers("csm-owner"),
    )
    assert response.status_code == 403
    manager = client.patch(
        "/api/v1/accounts/A-1", json={"owner": "csm2@example.com"}, headers=book.headers("manager")
    )
    assert manager.json()["owner"]["email"] == "csm2@example.com"


def test_csm_creating_an_account_owns_it(client: TestClient, book: Book) -> None:
    response = client.post(
        "/api/v1/accounts",
        json={"external_id": "MINE", "name": "Mine"},
        headers=book.headers("csm-other"),
    )
    assert response.status_code == 201
    assert response.json()["owner"]["email"] == "csm2@example.com"


def test_viewer_may_not_write_and_is_told_why(client: TestClient, book: Book) -> None:
    response = client.post(
        "/api/v1/contacts", json={**NEW, "name": "Eve"}, headers=book.headers("viewer")
    )
    assert response.status_code == 403
    assert response.json()["error"]["message"] == (
        "role viewer may only read; changes need the csm, manager or admin role"
    )


def test_a_read_only_token_may_read_but_not_write(
    client: TestClient, book: Book, book_runtime: Any
) -> None:
    from sqlalchemy import select

    from tenure.accounts.models import User
    from tenure.auth import service
    from tenure.db import transaction

    with transaction(book_runtime.sessions) as s:
        manager = s.scalars(select(User).where(User.email == "manager@example.com")).one()
        plain, _ = service.create_api_token(
            s, user=manager, name="reporting", scopes=["read"], actor="test"
        )
    headers = {"Authorization": f"Bearer {plain}"}
    assert client.get("/api/v1/accounts", headers=headers).status_code == 200
    response = client.patch("/api/v1/accounts/A-1", json={"region": "X"}, headers=headers)
    assert response.status_code == 403
    assert "lacks the 'write' scope" in response.json()["error"]["message"]


def test_config_needs_a_token_with_the_admin_scope(
    client: TestClient, book: Book, book_runtime: Any
) -> None:
    from sqlalchemy import select

    from tenure.accounts.models import User
    from tenure.auth import service
    from tenure.db import transaction

    with transaction(book_runtime.sessions) as s:
        admin = s.scalars(select(User).where(User.email == "admin@example.com")).one()
        plain, _ = service.create_api_token(
            s, user=admin, name="writer", scopes=["write"], actor="test"
        )
    response = client.put(
        "/api/v1/config", json=CONFIG, headers={"Authorization": f"Bearer {plain}"}
    )
    assert response.status_code == 403
    assert "'admin' scope" in response.json()["error"]["message"]
