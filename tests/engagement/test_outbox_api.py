"""The outbox REST API: who reads what (a csm only their accounts' messages), who may retry
and cancel (admins and managers), and the answers to wrong requests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.api.conftest import Book

from tenure.auth.models import AuditEntry
from tenure.kit.runtime import Runtime

from .conftest_outbox import book_home, copy_home, outbox_app

API = "/api/v1/outbox"
Home = tuple[Path, Book, dict[str, int]]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Home:
    return book_home(tmp_path_factory.mktemp("outbox"))


@pytest.fixture
def runtime(template: Home, tmp_path: Path) -> Iterator[Runtime]:
    rt = copy_home(template[0], tmp_path)
    yield rt
    rt.close()


@pytest.fixture
def book(template: Home) -> Book:
    return template[1]


@pytest.fixture
def ids(template: Home) -> dict[str, int]:
    return template[2]


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(outbox_app(runtime)) as c:
        yield c


def get(client: TestClient, book: Book, who: str, path: str = "") -> Any:
    return client.get(f"{API}{path}", headers=book.headers(who))


def labels(page: dict[str, Any]) -> list[str]:
    return [item["idempotency_key"] for item in page["items"]]


class TestRead:
    @pytest.mark.parametrize("who", ["admin", "manager", "viewer"])
    def test_admins_managers_and_viewers_read_every_message_newest_first(
        self, client: TestClient, book: Book, who: str
    ) -> None:
        response = get(client, book, who)
        assert response.status_code == 200
        page = response.json()
        assert page["total"] == 5
        assert labels(page) == ["team-queued", "a2-failed", "a1-sent", "a1-queued", "a1-dead"]
        dead = page["items"][-1]
        assert (dead["status"], dead["attempts"], dead["last_error"]) == (
            "dead",
            8,
            "HTTP 500: boom",
        )
        assert (dead["account_external_id"], dead["account_name"]) == ("A-1", "Account 1")
        assert dead["recipient"] == {"name": "Reader a1-dead", "email": "a1-dead@example.com"}

    def test_a_csm_reads_only_the_messages_of_accounts_they_own(
        self, client: TestClient, book: Book, ids: dict[str, int]
    ) -> None:
        assert labels(get(client, book, "csm-owner").json()) == ["a1-sent", "a1-queued", "a1-dead"]
        assert labels(get(client, book, "csm-other").json()) == ["a2-failed"]
        own = get(client, book, "csm-owner", f"/{ids['a1-dead']}")
        assert own.status_code == 200
        assert (own.json()["text"], own.json()["html"]) == ("Text a1-dead", "<p>a1-dead</p>")
        for label in ("a2-failed", "team-queued"):
            other = get(client, book, "csm-owner", f"/{ids[label]}")
            assert other.status_code == 403
            assert other.json()["error"]["message"] == (
                "a csm may read only the messages of accounts they own;"
                f" message {ids[label]} is not"
            )

    def test_filters(self, client: TestClient, book: Book) -> None:
        assert labels(get(client, book, "viewer", "?status=queued").json()) == [
            "team-queued",
            "a1-queued",
        ]
        assert labels(get(client, book, "viewer", "?account=A-2").json()) == ["a2-failed"]
        assert labels(get(client, book, "viewer", "?source=playbook:").json()) == [
            "a2-failed",
            "a1-sent",
            "a1-queued",
            "a1-dead",
        ]
        assert labels(get(client, book, "viewer", "?source=alert:7").json()) == ["team-queued"]
        assert get(client, book, "viewer", "?channel=slack").json()["total"] == 0
        paged = get(client, book, "viewer", "?limit=2&offset=1").json()
        assert (labels(paged), paged["total"]) == (["a2-failed", "a1-sent"], 5)

    def test_a_wrong_filter_names_the_allowed_values(self, client: TestClient, book: Book) -> None:
        response = get(client, book, "viewer", "?status=bounced")
        assert response.status_code == 422
        assert response.json()["error"]["details"] == [
            {
                "field": "status",
                "message": "unknown status 'bounced'; allowed: queued, sending, sent, failed, dead, cancelled",
            }
        ]
        assert get(client, book, "viewer", "?account=nope").status_code == 404

    def test_unknown_message_and_anonymous(self, client: TestClient, book: Book) -> None:
        missing = get(client, book, "admin", "/999999")
        assert missing.status_code == 404
        assert missing.json()["error"]["message"] == "no outbox message has id 999999"
        assert get(client, book, "anonymous").status_code == 401


class TestRetryAndCancel:
    @pytest.mark.parametrize("who", ["admin", "manager"])
    def test_admins_and_managers_retry_a_dead_message(
        self, client: TestClient, book: Book, ids: dict[str, int], runtime: Runtime, who: str
    ) -> None:
        response = client.post(f"{API}/{ids['a1-dead']}/retry", headers=book.headers(who))
        assert response.status_code == 200, response.text
        assert (response.json()["status"], response.json()["attempts"]) == ("queued", 0)
        assert get(client, book, "viewer", f"/{ids['a1-dead']}").json()["status"] == "queued"
        with runtime.sessions() as session:
            entry = session.scalars(
                select(AuditEntry).where(AuditEntry.entity == "outbox_message")
            ).one()
        assert (entry.action, entry.actor, entry.entity_id) == (
            "retry",
            f"token:{who}-token",
            str(ids["a1-dead"]),
        )

    def test_cancel_a_queued_message(
        self, client: TestClient, book: Book, ids: dict[str, int]
    ) -> None:
        response = client.post(f"{API}/{ids['a1-queued']}/cancel", headers=book.headers("manager"))
        assert response.status_code == 200
        assert response.json()["status"] == "cancelled"

    @pytest.mark.parametrize("who", ["csm-owner", "csm-other", "viewer"])
    @pytest.mark.parametrize("action", ["retry", "cancel"])
    def test_others_may_not_and_are_told_why(
        self, client: TestClient, book: Book, ids: dict[str, int], who: str, action: str
    ) -> None:
        response = client.post(f"{API}/{ids['a2-failed']}/{action}", headers=book.headers(who))
        assert response.status_code == 403
        role = "viewer" if who == "viewer" else "csm"
        assert response.json()["error"]["message"] == (
            f"role {role} may not retry or cancel outbox messages (needs admin or manager)"
        )
        assert get(client, book, "admin", f"/{ids['a2-failed']}").json()["status"] == "failed"

    def test_anonymous_gets_401(self, client: TestClient, ids: dict[str, int]) -> None:
        assert client.post(f"{API}/{ids['a1-dead']}/retry").status_code == 401

    def test_a_change_that_does_not_apply_is_a_conflict(
        self, client: TestClient, book: Book, ids: dict[str, int]
    ) -> None:
        sent = client.post(f"{API}/{ids['a1-sent']}/retry", headers=book.headers("admin"))
        assert sent.status_code == 409
        assert sent.json()["error"] == {
            "code": "invalid_outbox_state",
            "message": f"outbox message {ids['a1-sent']} is sent; only dead or failed messages can be retried",
            "details": [],
        }
        dead = client.post(f"{API}/{ids['a1-dead']}/cancel", headers=book.headers("admin"))
        assert dead.status_code == 409
        assert "only queued or failed messages can be cancelled" in dead.json()["error"]["message"]
        missing = client.post(f"{API}/999999/retry", headers=book.headers("admin"))
        assert missing.status_code == 404
