"""Accounts and their records through the API: lists, reads, writes, errors and the audit log."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tenure.auth.models import AuditEntry
from tenure.kit.runtime import Runtime

from .conftest import Book

API = "/api/v1"


def details(response: Any) -> dict[str, str]:
    """{field: message} of an error response."""
    return {d["field"]: d["message"] for d in response.json()["error"]["details"]}


class TestAccounts:
    def test_list_filters_sorts_and_pages(self, client: TestClient, admin: dict[str, str]) -> None:
        page = client.get(f"{API}/accounts?sort=-health_score&limit=1", headers=admin).json()
        assert (page["total"], page["limit"], page["offset"]) == (2, 1, 0)
        assert [a["external_id"] for a in page["items"]] == ["A-1"]
        risky = client.get(f"{API}/accounts?health_band=at_risk", headers=admin).json()
        assert [a["external_id"] for a in risky["items"]] == ["A-2"]
        owned = client.get(f"{API}/accounts?owner=csm2@example.com", headers=admin).json()
        assert [a["external_id"] for a in owned["items"]] == ["A-2"]

    def test_a_bad_filter_names_the_allowed_values(
        self, client: TestClient, admin: dict[str, str]
    ) -> None:
        response = client.get(f"{API}/accounts?quadrant=gold", headers=admin)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_query"
        assert "strategic_partner" in response.json()["error"]["message"]
        bad_sort = client.get(f"{API}/contacts?sort=shoe_size", headers=admin)
        assert bad_sort.status_code == 422
        assert "unknown sort key 'shoe_size'" in bad_sort.json()["error"]["message"]

    def test_get_by_id_or_external_id(
        self, client: TestClient, admin: dict[str, str], book: Book
    ) -> None:
        by_key = client.get(f"{API}/accounts/A-1", headers=admin).json()
        by_id = client.get(f"{API}/accounts/{book.ids['A-1']}", headers=admin).json()
        assert by_key == by_id
        assert by_key["contacts"][0]["external_id"] == "C-1"
        missing = client.get(f"{API}/accounts/NOPE", headers=admin)
        assert missing.status_code == 404
        assert missing.json()["error"] == {
            "code": "resource_not_found",
            "message": "no account has external id 'NOPE'",
            "details": [],
        }

    def test_create_update_delete_are_audited(
        self, client: TestClient, admin: dict[str, str], book_runtime: Runtime
    ) -> None:
        body = {"external_id": "ZEN", "name": "Zen Ltd", "employees": 40, "owner": "csm"}
        assert client.post(f"{API}/accounts", json=body, headers=admin).status_code == 422
        body["owner"] = "csm@example.com"
        created = client.post(f"{API}/accounts", json=body, headers=admin)
        assert created.status_code == 201
        account = created.json()
        assert (account["owner"]["email"], account["status"], account["attributes"]) == (
            "csm@example.com",
            "active",
            {},
        )
        patched = client.patch(
            f"{API}/accounts/ZEN", json={"industry": "retail", "employees": None}, headers=admin
        )
        assert (patched.json()["industry"], patched.json()["employees"]) == ("retail", None)
        assert patched.json()["name"] == "Zen Ltd"  # fields left out stay
        assert client.delete(f"{API}/accounts/ZEN", headers=admin).status_code == 204
        assert client.get(f"{API}/accounts/ZEN", headers=admin).status_code == 404
        with book_runtime.sessions() as s:
            entries = s.scalars(
                select(AuditEntry).where(AuditEntry.entity == "account").order_by(AuditEntry.id)
            ).all()
        assert [(e.action, e.actor) for e in entries] == [
            ("create", "token:admin-token"),
            ("update", "token:admin-token"),
            ("delete", "token:admin-token"),
        ]
        assert entries[0].before is None and entries[0].after["name"] == "Zen Ltd"
        assert (entries[1].before["employees"], entries[1].after["employees"]) == (40, None)
        assert entries[2].before["industry"] == "retail" and entries[2].after is None

    def test_duplicate_external_id_is_a_conflict(
        self, client: TestClient, admin: dict[str, str]
    ) -> None:
        response = client.post(
            f"{API}/accounts", json={"external_id": "A-2", "name": "Again"}, headers=admin
        )
        assert response.status_code == 409
        assert response.json()["error"]["message"] == (
            "external id 'A-2' is taken by another account"
        )
        renamed = client.patch(f"{API}/accounts/A-1", json={"external_id": "A-2"}, headers=admin)
        assert renamed.status_code == 409

    def test_deleting_an_account_deletes_its_records(
        self, client: TestClient, admin: dict[str, str]
    ) -> None:
        assert client.delete(f"{API}/accounts/A-1", headers=admin).status_code == 204
        for path in ("contacts/C-1", "subscriptions/S-1", "tickets/T-1", "interactions/I-1"):
            assert client.get(f"{API}/{path}", headers=admin).status_code == 404
        assert client.get(f"{API}/tickets", headers=admin).json()["total"] == 1


class TestMalformedPayloads:
    @pytest.mark.parametrize(
        ("path", "body", "fields"),
        [
            (
                "/accounts",
                {"external_id": "", "name": "x" * 301, "industry_influence": 101, "status": "gone"},
                {"external_id", "name", "industry_influence", "status"},
            ),
            ("/accounts", {"name": "No key", "colour": "red"}, {"external_id", "colour"}),
            (
                "/contacts",
                {"external_id": "C", "account": "A-1", "name": "N", "timezone": "Mars/Base",
                 "channel_preference": "pigeon", "opt_out_channels": ["email", "fax"]},
                {"timezone", "channel_preference", "opt_out_channels.1"},
            ),
            (
                "/subscriptions",
                {"external_id": "S", "account": "A-1", "product": "P", "start_date": "2024-13-01",
                 "arr": -1, "currency": "yuan"},
                {"start_date", "arr", "currency"},
            ),
            (
                "/orders",
                {"external_id": "O", "account": 2**63, "order_date": "2024-01-01", "amount": 1},
                {"account"},
            ),
            (
                "/nps-responses",
                {"external_id": "N", "account": "A-1", "responded_at": "2024-01-01T00:00:00",
                 "score": 5, "contact": 0},
                {"contact"},
            ),
            (
                "/orders",
                {"external_id": "O", "account": "A-1", "order_date": "2024-01-01", "amount": -5},
                {"amount"},
            ),
            (
                "/nps-responses",
                {"external_id": "N", "account": "A-1", "responded_at": "yesterday", "score": 11},
                {"responded_at", "score"},
            ),
            (
                "/interactions",
                {"external_id": "I", "account": "A-1", "occurred_at": "2024-01-01T00:00:00",
                 "channel": "email", "type": "", "sentiment": "angry"},
                {"type", "sentiment"},
            ),
            (
                "/tickets",
                {"external_id": "T", "account": "A-1", "opened_at": "2024-01-01T00:00:00",
                 "severity": "urgent", "subject": "bad\x00byte"},
                {"severity", "subject"},
            ),
        ],
    )  # fmt: skip
    def test_every_bad_field_is_named(
        self, client: TestClient, admin: dict[str, str], path: str, body: Any, fields: set[str]
    ) -> None:
        response = client.post(f"{API}{path}", json=body, headers=admin)
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert set(details(response)) == fields
        assert {d["location"] for d in error["details"]} == {"body"}

    def test_an_update_may_not_null_a_required_field(
        self, client: TestClient, admin: dict[str, str]
    ) -> None:
        response = client.patch(
            f"{API}/subscriptions/S-1", json={"product": None, "end_date": None}, headers=admin
        )
        assert response.status_code == 422
        assert details(response) == {"product": "Value error, must not be null"}

    def test_dates_out_of_order_are_refused_with_the_field(
        self, client: TestClient, admin: dict[str, str]
    ) -> None:
        response = client.patch(
            f"{API}/subscriptions/S-1", json={"end_date": "2023-01-01"}, headers=admin
        )
        assert response.status_code == 422
        assert details(response) == {"end_date": "end_date must not be before start_date"}
        ticket = client.patch(
            f"{API}/tickets/T-1", json={"resolved_at": "2024-06-01T08:00:00"}, headers=admin
        )
        assert details(ticket) == {"resolved_at": "resolved_at must not be before opened_at"}

    def test_references_must_exist_and_belong_to_the_account(
        self, client: TestClient, admin: dict[str, str]
    ) -> None:
        body = {"external_id": "T-9", "opened_at": "2024-07-01T00:00:00"}
        unknown = client.post(f"{API}/tickets", json={**body, "account": "A-9"}, headers=admin)
        assert details(unknown) == {"account": "no account has external id 'A-9'"}
        foreign = client.post(
            f"{API}/tickets", json={**body, "account": "A-1", "contact": "C-2"}, headers=admin
        )
        assert details(foreign) == {
            "contact": "contact 'C-2' belongs to another account than 'A-1'"
        }
        nobody = client.patch(f"{API}/interactions/I-1", json={"user": "ghost"}, headers=admin)
        assert details(nobody) == {"user": "no user has external id or e-mail 'ghost'"}


class TestRecords:
    def test_list_by_account_and_date_range(
        self, client: TestClient, admin: dict[str, str], book: Book
    ) -> None:
        by_key = client.get(f"{API}/interactions?account=A-2", headers=admin).json()
        by_id = client.get(f"{API}/interactions?account={book.ids['A-2']}", headers=admin).json()
        assert by_key == by_id
        assert [i["external_id"] for i in by_key["items"]] == ["I-2"]
        # Interactions happened on 1 and 2 June 2024 at 09:00; `until` includes its whole day.
        day = client.get(f"{API}/interactions?since=2024-06-02&until=2024-06-02", headers=admin)
        assert [i["external_id"] for i in day.json()["items"]] == ["I-2"]
        first = client.get(f"{API}/orders?until=2024-06-01", headers=admin).json()
        assert [o["external_id"] for o in first["items"]] == ["O-1"]
        missing = client.get(f"{API}/orders?account=NOPE", headers=admin)
        assert missing.status_code == 404

    def test_sort_and_page(self, client: TestClient, admin: dict[str, str]) -> None:
        page = client.get(f"{API}/nps-responses?sort=score&limit=1&offset=1", headers=admin).json()
        assert (page["total"], [n["score"] for n in page["items"]]) == (2, [7])
        newest = client.get(f"{API}/subscriptions", headers=admin).json()["items"]
        assert [s["external_id"] for s in newest] == ["S-2", "S-1"]  # -start_date by default
        assert client.get(f"{API}/orders?limit=0", headers=admin).status_code == 422

    def test_filters_by_column(self, client: TestClient, admin: dict[str, str]) -> None:
        assert client.get(f"{API}/tickets?severity=low", headers=admin).json()["total"] == 0
        assert client.get(f"{API}/tickets?severity=high", headers=admin).json()["total"] == 2
        bad = client.get(f"{API}/tickets?severity=urgent", headers=admin)
        assert bad.status_code == 422
        assert details(bad) == {"severity": "Input should be 'low', 'medium', 'high' or 'critical'"}

    def test_record_lifecycle(self, client: TestClient, book: Book) -> None:
        csm = book.headers("csm-owner")
        body = {"external_id": "T-new", "account": "A-1", "contact": "C-1",
                "opened_at": "2024-07-01T10:00:00+08:00", "subject": "Export fails"}  # fmt: skip
        created = client.post(f"{API}/tickets", json=body, headers=csm)
        assert created.status_code == 201
        ticket = created.json()
        assert ticket["opened_at"] == "2024-07-01T02:00:00"  # stored as naive UTC
        assert (ticket["account_external_id"], ticket["severity"]) == ("A-1", "medium")
        assert client.post(f"{API}/tickets", json=body, headers=csm).status_code == 409
        resolved = client.patch(
            f"{API}/tickets/{ticket['id']}", json={"resolved_at": "2024-07-02T00:00:00"},
            headers=csm,
        )  # fmt: skip
        assert resolved.json()["resolved_at"] == "2024-07-02T00:00:00"
        assert resolved.json()["subject"] == "Export fails"
        assert client.get(f"{API}/tickets/T-new", headers=csm).json() == resolved.json()
        assert client.delete(f"{API}/tickets/T-new", headers=csm).status_code == 204
        gone = client.delete(f"{API}/tickets/T-new", headers=csm)
        assert gone.status_code == 404
        assert gone.json()["error"]["message"] == "no ticket has external id 'T-new'"

    def test_the_account_detail_sees_new_records(
        self, client: TestClient, admin: dict[str, str]
    ) -> None:
        body = {"external_id": "S-3", "account": "A-1", "product": "Add-on",
                "start_date": "2024-03-01", "arr": 2400}  # fmt: skip
        assert client.post(f"{API}/subscriptions", json=body, headers=admin).status_code == 201
        account = client.get(f"{API}/accounts/A-1", headers=admin).json()
        assert account["arr"] == 14400.0
        assert {s["external_id"] for s in account["subscriptions"]} == {"S-1", "S-3"}


class TestScores:
    def test_history_newest_first(self, client: TestClient, admin: dict[str, str]) -> None:
        page = client.get(f"{API}/accounts/A-2/scores", headers=admin).json()
        assert [s["as_of"] for s in page["items"]] == ["2024-06-30", "2024-05-31"]
        latest = page["items"][0]
        assert (latest["quadrant"], latest["lifecycle_stage"], latest["health_band"]) == (
            "basic",
            "mature",
            "at_risk",
        )
        assert latest["rfm_code"] == "345"
        assert latest["health_breakdown"]["core_usage"]["points"] == 57.1
        assert set(latest) >= {"value_score", "value_breakdown", "features", "health_score"}
        assert client.get(f"{API}/accounts/NOPE/scores", headers=admin).status_code == 404

    def test_scores_of_a_date(self, client: TestClient, admin: dict[str, str]) -> None:
        latest = client.get(f"{API}/scores", headers=admin).json()
        assert (latest["as_of"], latest["total"]) == ("2024-06-30", 2)
        older = client.get(f"{API}/scores?as_of=2024-05-31&quadrant=growth", headers=admin).json()
        assert (older["as_of"], older["total"]) == ("2024-05-31", 2)
        basic = client.get(f"{API}/scores?quadrant=basic&sort=-health_score", headers=admin)
        assert [s["account_external_id"] for s in basic.json()["items"]] == ["A-2"]
        assert client.get(f"{API}/scores?as_of=2020-01-01", headers=admin).json()["total"] == 0
        assert client.get(f"{API}/scores?stage=teen", headers=admin).status_code == 422
