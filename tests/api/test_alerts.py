"""Alerts through the API: lists, and the workflow open → acknowledged → resolved / dismissed."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tenure.auth.models import AuditEntry
from tenure.kit.runtime import Runtime

from .conftest import Book

API = "/api/v1/alerts"


def act(
    client: TestClient, book: Book, alert: str, action: str, who: str = "admin", **body: Any
) -> Any:
    return client.post(
        f"{API}/{book.ids[alert]}/{action}", json=body or None, headers=book.headers(who)
    )


def test_list_defaults_to_open_alerts(client: TestClient, book: Book) -> None:
    page = client.get(API, headers=book.headers("viewer")).json()
    assert page["total"] == 4
    assert {a["status"] for a in page["items"]} == {"open", "acknowledged"}
    everything = client.get(f"{API}?status=all&account=A-1", headers=book.headers("viewer"))
    assert everything.json()["total"] == 4
    assert client.get(f"{API}?status=snoozed", headers=book.headers("viewer")).status_code == 422


def test_get_shows_assignee_expression_and_note(client: TestClient, book: Book) -> None:
    alert = client.get(f"{API}/{book.ids['A-1:open']}", headers=book.headers("viewer")).json()
    assert (alert["status"], alert["assignee"], alert["resolution_note"]) == ("open", None, None)
    assert alert["expression"] == "rule_open > 0"
    assert alert["owner"]["email"] == "csm@example.com"
    missing = client.get(f"{API}/999999", headers=book.headers("viewer"))
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "no alert has id 999999"


def test_acknowledge_then_resolve(client: TestClient, book: Book, book_runtime: Runtime) -> None:
    early = act(client, book, "A-1:open", "resolve", "csm-owner", note="done")
    assert early.status_code == 409
    assert early.json()["error"]["message"] == (
        f"alert {book.ids['A-1:open']} is open; it can be resolved only when acknowledged"
        " (acknowledge it first)"
    )
    acknowledged = act(client, book, "A-1:open", "acknowledge", "csm-owner")
    assert acknowledged.json()["status"] == "acknowledged"
    again = act(client, book, "A-1:open", "acknowledge", "csm-owner")
    assert again.status_code == 409
    resolved = act(client, book, "A-1:open", "resolve", "csm-owner", note="called the sponsor")
    assert (resolved.json()["status"], resolved.json()["resolution_note"]) == (
        "resolved",
        "called the sponsor",
    )
    assert act(client, book, "A-1:open", "dismiss", reason="late").status_code == 409
    with book_runtime.sessions() as s:
        entries = s.scalars(
            select(AuditEntry).where(AuditEntry.entity == "alert").order_by(AuditEntry.id)
        ).all()
    assert [(e.action, e.actor, e.before["status"], e.after["status"]) for e in entries] == [
        ("acknowledge", "token:csm-token", "open", "acknowledged"),
        ("resolve", "token:csm-token", "acknowledged", "resolved"),
    ]


@pytest.mark.parametrize("alert", ["A-1:open", "A-1:acknowledged"])
def test_dismiss_needs_a_reason(client: TestClient, book: Book, alert: str) -> None:
    missing = act(client, book, alert, "dismiss")
    assert missing.status_code == 422
    empty = act(client, book, alert, "dismiss", reason="")
    assert [d["field"] for d in empty.json()["error"]["details"]] == ["reason"]
    dismissed = act(client, book, alert, "dismiss", reason="known outage")
    assert (dismissed.json()["status"], dismissed.json()["resolution_note"]) == (
        "dismissed",
        "known outage",
    )


@pytest.mark.parametrize("action", ["assign", "acknowledge", "resolve", "dismiss"])
def test_a_closed_alert_cannot_be_worked(client: TestClient, book: Book, action: str) -> None:
    body = {"assign": {"assignee": "csm@example.com"}, "dismiss": {"reason": "x"}}.get(action, {})
    response = act(client, book, "A-1:closed", action, **body)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "invalid_transition"
    assert error["message"].startswith(
        f"alert {book.ids['A-1:closed']} was closed on 2024-06-30 because its signal cleared"
    )


def test_a_resolved_alert_cannot_be_reopened_or_assigned(client: TestClient, book: Book) -> None:
    assert act(client, book, "A-1:resolved", "acknowledge").status_code == 409
    assign = act(client, book, "A-1:resolved", "assign", assignee="csm@example.com")
    assert assign.status_code == 409
    assert "it can be assigned only when open or acknowledged" in assign.json()["error"]["message"]


def test_assign_and_unassign(client: TestClient, book: Book) -> None:
    assigned = act(client, book, "A-2:open", "assign", "manager", assignee="csm@example.com")
    alert = assigned.json()
    assert alert["assignee"]["email"] == "csm@example.com"
    assert alert["owner"]["email"] == "csm@example.com"  # the assignee, else the account owner
    mine = client.get(f"{API}?owner=csm@example.com", headers=book.headers("csm-owner")).json()
    assert book.ids["A-2:open"] in {a["id"] for a in mine["items"]}
    cleared = act(client, book, "A-2:open", "assign", "manager", assignee=None)
    assert cleared.json()["assignee"] is None
    unknown = act(client, book, "A-2:open", "assign", assignee="ghost@example.com")
    assert unknown.status_code == 422
    assert unknown.json()["error"]["details"][0]["field"] == "assignee"


def test_a_csm_works_alerts_only_on_owned_accounts(client: TestClient, book: Book) -> None:
    other = act(client, book, "A-2:open", "acknowledge", "csm-owner")
    assert other.status_code == 403
    assert other.json()["error"]["message"] == (
        "a csm may work alerts only on accounts they own; account 'A-2' is not theirs"
    )
    # Being assigned an alert of someone else's account does not make it theirs to work.
    act(client, book, "A-2:open", "assign", "manager", assignee="csm@example.com")
    assert act(client, book, "A-2:open", "acknowledge", "csm-owner").status_code == 403
    assert act(client, book, "A-2:open", "acknowledge", "csm-other").status_code == 200
