"""`/api/v1/templates` and `/api/v1/talk-tracks`: who may do what, refusals, previews."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tenure.auth.models import AuditEntry

from .conftest import ContentBook
from .test_render import ESCAPES

API = "/api/v1"
NEW_TEMPLATE = {"key": "check_in", "locale": "en", "name": "Check-in", "subject": "Hi",
                "body": "Hello {{ contact.name if contact else account.name }}"}  # fmt: skip
NEW_TRACK = {"key": "invoices", "locale": "en", "topic": "Invoices", "question": "When?",
             "answer": "Within 3 business days.", "tags": ["billing"]}  # fmt: skip
READERS = ("admin", "manager", "csm", "viewer")
WRITERS = ("admin", "manager")


def shipped_id(client: TestClient, book: ContentBook, key: str, locale: str = "en") -> int:
    page = client.get(f"{API}/templates", params={"key": key, "locale": locale},
                      headers=book.headers("admin")).json()  # fmt: skip
    template_id: int = page["items"][0]["id"]
    return template_id


def track_id(client: TestClient, book: ContentBook, key: str = "sla_support_hours") -> int:
    page = client.get(f"{API}/talk-tracks", params={"q": key.split("_")[0], "locale": "en"},
                      headers=book.headers("admin")).json()  # fmt: skip
    return int(next(t["id"] for t in page["items"] if t["key"] == key))


class TestPermissions:
    def test_reads(self, client: TestClient, content_book: ContentBook) -> None:
        template = shipped_id(client, content_book, "nps_survey")
        track = track_id(client, content_book)
        for role in (*READERS, "anonymous"):
            expected = 401 if role == "anonymous" else 200
            for path in (f"{API}/templates", f"{API}/templates/{template}",
                         f"{API}/talk-tracks?q=续约", f"{API}/talk-tracks/{track}"):  # fmt: skip
                response = client.get(path, headers=content_book.headers(role))
                assert response.status_code == expected, (role, path)
            preview = client.post(f"{API}/templates/preview", json={"template_id": template},
                                  headers=content_book.headers(role))  # fmt: skip
            assert preview.status_code == expected, role

    @pytest.mark.parametrize("role", [*READERS, "anonymous"])
    def test_writes(self, client: TestClient, content_book: ContentBook, role: str) -> None:
        headers = content_book.headers(role)
        template = shipped_id(client, content_book, "weekly_tips")
        track = track_id(client, content_book)
        calls: list[tuple[str, str, dict[str, Any] | None, int]] = [
            ("POST", f"{API}/templates", NEW_TEMPLATE, 201),
            ("PATCH", f"{API}/templates/{template}", {"name": "Tips"}, 200),
            ("DELETE", f"{API}/templates/{template}", None, 204),
            ("POST", f"{API}/talk-tracks", NEW_TRACK, 201),
            ("PATCH", f"{API}/talk-tracks/{track}", {"tags": ["sla"]}, 200),
            ("DELETE", f"{API}/talk-tracks/{track}", None, 204),
            ("POST", f"{API}/templates/preview", {"fields": {"body": "{{ account.name }}"}}, 200),
        ]
        for method, path, body, ok in calls:
            response = client.request(method, path, json=body, headers=headers)
            expected = ok if role in WRITERS else 401 if role == "anonymous" else 403
            assert response.status_code == expected, (method, path, response.text)
            if expected == 403:
                assert response.json()["error"]["code"] == "forbidden"

    def test_changes_are_audited_with_the_principal(
        self, client: TestClient, content_book: ContentBook
    ) -> None:
        created = client.post(f"{API}/templates", json=NEW_TEMPLATE,
                              headers=content_book.headers("manager")).json()  # fmt: skip
        with content_book.runtime.sessions() as s:
            entry = s.scalars(select(AuditEntry).where(AuditEntry.entity == "message_template",
                                                      AuditEntry.entity_id == str(created["id"]))).one()  # fmt: skip
        assert (entry.action, entry.actor) == ("create", "token:manager-token")
        assert created["updated_by_id"] == content_book.ids["bob"]


class TestRefusals:
    @pytest.mark.parametrize("field", ["subject", "body", "html"])
    def test_sandbox_escapes_are_422_with_the_field(
        self, client: TestClient, content_book: ContentBook, field: str
    ) -> None:
        admin = content_book.headers("admin")
        template = shipped_id(client, content_book, "renewal_offer")
        for escape in ESCAPES:
            body = {**NEW_TEMPLATE, field: f"line one\n{escape}"}
            response = client.post(f"{API}/templates", json=body, headers=admin)
            assert response.status_code == 422, (escape, response.text)
            error = response.json()["error"]
            assert error["code"] == "template_error"
            assert error["details"][0]["field"] == field
            assert error["details"][0]["message"].startswith("line 2: ")
            patched = client.patch(f"{API}/templates/{template}", json={field: escape},
                                   headers=admin)  # fmt: skip
            assert patched.status_code == 422, (escape, patched.text)
            assert patched.json()["error"]["details"][0]["field"] == field
        listed = client.get(f"{API}/templates", params={"key": "check_in"}, headers=admin).json()
        assert listed["total"] == 0

    def test_unknown_variable_with_line(
        self, client: TestClient, content_book: ContentBook
    ) -> None:
        body = {**NEW_TEMPLATE, "body": "Hello\n{{ contct.name }}"}
        response = client.post(f"{API}/templates", json=body, headers=content_book.headers("admin"))
        assert response.status_code == 422
        detail = response.json()["error"]["details"][0]
        assert detail["field"] == "body"
        assert detail["message"].startswith(
            "line 2: unknown variable 'contct' (did you mean 'contact'?)"
        )

    def test_conflicts_and_missing(self, client: TestClient, content_book: ContentBook) -> None:
        admin = content_book.headers("admin")
        duplicate = {**NEW_TEMPLATE, "key": "nps_survey", "locale": "en"}
        assert client.post(f"{API}/templates", json=duplicate, headers=admin).status_code == 409
        assert client.get(f"{API}/templates/999999", headers=admin).status_code == 404
        assert client.get(f"{API}/talk-tracks/999999", headers=admin).status_code == 404
        bad = client.post(f"{API}/templates", json={**NEW_TEMPLATE, "locale": "fr"}, headers=admin)
        assert bad.status_code == 422
        assert client.get(f"{API}/talk-tracks?locale=fr", headers=admin).status_code == 422


class TestPreview:
    def test_stored_template_for_an_account(
        self, client: TestClient, content_book: ContentBook
    ) -> None:
        template = shipped_id(client, content_book, "usage_follow_up")
        response = client.post(f"{API}/templates/preview",
                               json={"template_id": template, "account": "ACME", "contact": "C2"},
                               headers=content_book.headers("viewer"))  # fmt: skip
        result = response.json()
        assert result["ok"] and not result["sample"]
        assert result["subject"] == "Acme Manufacturing: a look at the last 30 days"
        assert result["text"].startswith("Hi Li Na,")
        assert "- Core features in use: 50%" in result["text"]

    def test_fields_with_problems(self, client: TestClient, content_book: ContentBook) -> None:
        response = client.post(f"{API}/templates/preview",
                               json={"fields": {"body": "ok\n{{ scores.helth_score }}"}},
                               headers=content_book.headers("admin"))  # fmt: skip
        assert response.status_code == 200
        assert response.json()["problems"] == [
            {"field": "body", "line": 2,
             "message": "scores has no field 'helth_score' (did you mean 'health_score'?)"},
        ]  # fmt: skip

    def test_one_source_and_known_account(
        self, client: TestClient, content_book: ContentBook
    ) -> None:
        admin = content_book.headers("admin")
        both = {"template_id": 1, "fields": {"body": "x"}}
        assert client.post(f"{API}/templates/preview", json=both, headers=admin).status_code == 422
        unknown = {"fields": {"body": "x"}, "account": "NOPE"}
        assert (
            client.post(f"{API}/templates/preview", json=unknown, headers=admin).status_code == 404
        )


def test_talk_track_search_api(client: TestClient, content_book: ContentBook) -> None:
    response = client.get(f"{API}/talk-tracks", params={"q": "解约"},
                          headers=content_book.headers("csm"))  # fmt: skip
    page = response.json()
    assert [(t["key"], t["locale"]) for t in page["items"]] == [("cancellation_process", "zh-CN")]
    assert page["items"][0]["department"] == "客户成功部"
