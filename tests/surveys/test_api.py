"""The survey endpoints per role, on the API tests' book (A-1 owned by csm, A-2 by csm2)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.api.conftest import PRINCIPALS, Book, build_app, seed

from tenure.accounts.models import Contact
from tenure.auth.models import AuditEntry
from tenure.channels.models import ChannelEndpoint
from tenure.db import transaction
from tenure.engagement.models import OutboxMessage
from tenure.engagement.outbox import utcnow
from tenure.kit.runtime import Runtime, open_runtime
from tenure.surveys.answers import record_answer

from .conftest import ship_templates, token_of

SEND = "/api/v1/surveys/nps/send"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Book]:
    """The API book, its contacts reachable by e-mail, built once for the module."""
    home = tmp_path_factory.mktemp("surveys-api") / "home"
    runtime = open_runtime(home)
    book = seed(runtime)
    with transaction(runtime.sessions) as s:
        for contact in s.scalars(select(Contact)):
            contact.email = f"{contact.external_id.lower()}@example.com"
        s.add(
            Contact(
                external_id="C-1b", account_id=book.ids["A-1"], name="Opted", opted_out_all=True
            )
        )
        s.add(ChannelEndpoint(name="smtp", kind="email", settings={}, is_default=True))
        s.flush()
        ship_templates(s)
    runtime.close()
    return home, book


@pytest.fixture
def book(template: tuple[Path, Book]) -> Book:
    return template[1]


@pytest.fixture
def api_runtime(template: tuple[Path, Book], tmp_path: Path) -> Iterator[Runtime]:
    home = tmp_path / "home"
    shutil.copytree(template[0], home)
    runtime = open_runtime(home, migrate=False)
    yield runtime
    runtime.close()


@pytest.fixture
def client(api_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(build_app(api_runtime)) as c:
        yield c


def send(client: TestClient, book: Book, principal: str, **body: Any) -> Any:
    return client.post(SEND, json={"account": "A-1", **body}, headers=book.headers(principal))


SEND_STATUS = {
    "admin": 200, "manager": 200, "csm-owner": 200,
    "csm-other": 403, "viewer": 403, "anonymous": 401,
}  # fmt: skip


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_who_may_send(client: TestClient, book: Book, principal: str) -> None:
    response = send(client, book, principal)
    assert response.status_code == SEND_STATUS[principal], response.text
    if response.status_code == 200:
        body = response.json()
        assert [i["contact_external_id"] for i in body["invitations"]] == ["C-1"]
        assert body["invitations"][0]["status"] == "pending"
        assert body["invitations"][0]["channel"] == "email"
        assert [(s["contact_external_id"], s["reason"]) for s in body["skipped"]] == [
            ("C-1b", "opted_out")
        ]
    else:
        code = {401: "unauthorized", 403: "forbidden"}[response.status_code]
        assert response.json()["error"]["code"] == code


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("path", ["/surveys/invitations", "/surveys/nps/stats"])
def test_any_signed_in_user_may_read(
    client: TestClient, book: Book, principal: str, path: str
) -> None:
    response = client.get(f"/api/v1{path}?account=A-1", headers=book.headers(principal))
    assert response.status_code == (401 if principal == "anonymous" else 200), response.text


def test_refusals_say_why(client: TestClient, book: Book) -> None:
    other = send(client, book, "csm-other")
    assert other.json()["error"]["message"] == (
        "a csm may send surveys only to the accounts they own; account 'A-1' is not theirs"
    )
    viewer = send(client, book, "viewer")
    assert viewer.json()["error"]["message"] == (
        "role viewer may not send surveys (needs admin, manager or the owning csm)"
    )
    with TestClient(client.app) as fresh:
        assert fresh.get("/api/v1/surveys/invitations").status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"account": "NOPE"}, "account"),
        ({"contacts": ["C-2"]}, "contacts[0]"),
        ({"contacts": ["nobody"]}, "contacts[0]"),
        ({"channel": "pigeon"}, "channel"),
        ({"colour": "blue"}, "colour"),
        ({"contacts": "C-1"}, "contacts"),
    ],
)
def test_a_bad_send_is_refused_with_the_field(
    client: TestClient, book: Book, body: dict[str, Any], field: str
) -> None:
    response = client.post(SEND, json={"account": "A-1", **body}, headers=book.headers("admin"))
    assert response.status_code == 422, response.text
    assert [d["field"] for d in response.json()["error"]["details"]] == [field]


def test_send_queues_audits_and_lists(client: TestClient, book: Book, api_runtime: Runtime) -> None:
    first = send(client, book, "csm-owner", contacts=["C-1"], channel="email")
    assert first.status_code == 200
    invitation = first.json()["invitations"][0]
    again = send(client, book, "csm-owner", contacts=["C-1"])
    assert again.json()["invitations"] == []
    assert again.json()["skipped"][0]["reason"] == "pending"

    with api_runtime.sessions() as s:
        messages = s.scalars(
            select(OutboxMessage).where(OutboxMessage.source != "test")
        ).all()  # not the seeded one
        assert [(m.idempotency_key, m.source) for m in messages] == [
            (f"survey:{invitation['id']}", "survey:api")
        ]
        link = messages[0].links["survey"]
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "survey.send")).all()
        assert len(audit) == 2
        assert audit[0].actor == "token:csm-token"
        assert audit[0].after == {"invitations": [invitation["id"]], "skipped": {}}

    listed = client.get(
        "/api/v1/surveys/invitations?account=A-1&status=pending", headers=book.headers("viewer")
    )
    assert [i["id"] for i in listed.json()["items"]] == [invitation["id"]]
    assert token_of(link) not in listed.text  # the link is the contact's credential only
    assert (
        client.get(
            "/api/v1/surveys/invitations?status=responded", headers=book.headers("viewer")
        ).json()["total"]
        == 0
    )
    bad = client.get("/api/v1/surveys/invitations?status=lost", headers=book.headers("viewer"))
    assert bad.status_code == 422
    assert "allowed: pending, responded, expired" in bad.json()["error"]["message"]
    unknown = client.get("/api/v1/surveys/invitations?account=NOPE", headers=book.headers("viewer"))
    assert unknown.status_code == 404

    with transaction(api_runtime.sessions) as s:
        record_answer(
            s, token_of(link), 6, "slow reports", utcnow(), home=api_runtime.settings.home
        )
    stats = client.get("/api/v1/surveys/nps/stats?account=A-1", headers=book.headers("viewer"))
    assert stats.json() | {"account_id": None} == {
        "account_id": None, "sent": 1, "responded": 1, "pending": 0, "expired": 0,
        "response_rate": 1.0, "promoters": 0, "passives": 0, "detractors": 1, "nps": -100.0,
    }  # fmt: skip
    responded = client.get(
        "/api/v1/surveys/invitations?status=responded", headers=book.headers("viewer")
    ).json()["items"]
    assert [(i["score"], i["comment"], i["status"]) for i in responded] == [
        (6, "slow reports", "responded")
    ]
    everyone = client.get("/api/v1/surveys/nps/stats", headers=book.headers("admin")).json()
    assert (everyone["account_id"], everyone["sent"]) == (None, 1)
