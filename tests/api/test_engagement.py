"""REST endpoints of playbooks, runs and tasks: validation with paths, and who may do what."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from .conftest import Book

DEFINITION: dict[str, Any] = {
    "trigger": {"type": "rule", "rule": "no_login_7d"},
    "steps": [{"action": "task", "title": "Call {{ account.name }}", "due_days": 1}],
}


def _create(client: TestClient, book: Book, who: str = "admin", **changes: Any) -> Any:
    body = {"key": "follow_up", "name": "Follow up", "definition": DEFINITION, **changes}
    return client.post("/api/v1/playbooks", json=body, headers=book.headers(who))


def test_admin_builds_edits_and_deletes_a_playbook(client: TestClient, book: Book) -> None:
    created = _create(client, book)
    assert created.status_code == 201, created.text
    assert created.json()["trigger_type"] == "rule" and created.json()["version"] == 1
    assert _create(client, book).status_code == 409
    listed = client.get("/api/v1/playbooks", headers=book.headers("viewer"))
    assert [p["key"] for p in listed.json()] == ["call_back", "follow_up"]  # seeded, created
    patched = client.patch(
        "/api/v1/playbooks/follow_up",
        json={"enabled": False, "definition": {**DEFINITION, "reenrol": "always"}},
        headers=book.headers("admin"),
    )
    assert patched.json()["version"] == 2 and patched.json()["enabled"] is False
    assert (
        client.delete("/api/v1/playbooks/call_back", headers=book.headers("admin")).status_code
        == 204
    )
    assert (
        client.get("/api/v1/playbooks/call_back", headers=book.headers("admin")).status_code == 404
    )


def test_only_admins_write_playbooks(client: TestClient, book: Book) -> None:
    for who in ("manager", "csm", "viewer"):
        assert _create(client, book, who).status_code == 403
    assert client.post("/api/v1/playbooks").status_code == 401
    installed = client.post("/api/v1/playbooks/install-shipped", headers=book.headers("admin"))
    assert installed.status_code == 200 and installed.json()["onboarding"] == "added"
    assert (
        client.post(
            "/api/v1/playbooks/install-shipped", headers=book.headers("manager")
        ).status_code
        == 403
    )


def test_a_bad_definition_names_the_field(client: TestClient, book: Book) -> None:
    bad_stage = {**DEFINITION, "trigger": {"type": "stage", "stage": "teen"}}
    response = _create(client, book, definition=bad_stage)
    assert response.status_code == 422
    detail = response.json()["error"]["details"]
    assert any("teen" in d["message"] and "stage" in d["field"] for d in detail), detail
    bad_rule = {**DEFINITION, "conditions": "days_since_logn >= 3"}
    detail = _create(client, book, definition=bad_rule).json()["error"]["details"]
    assert any("days_since_login" in d["message"] for d in detail), detail  # the suggestion
    no_steps = {**DEFINITION, "steps": []}
    assert _create(client, book, definition=no_steps).status_code == 422
    unknown_template = {**DEFINITION, "steps": [{"action": "send", "template": "nope"}]}
    response = _create(client, book, definition=unknown_template)
    assert response.status_code == 400
    assert "definition.steps[0].template" in response.json()["error"]["message"]


def test_runs_and_tasks_are_changed_by_the_accounts_csm_not_another(
    client: TestClient, book: Book
) -> None:
    # The seeded run and task are on A-1, owned by csm (tests/api/conftest.py).
    run_id, task_id = book.ids["run"], book.ids["task"]
    runs = client.get("/api/v1/playbook-runs?account=A-1", headers=book.headers("viewer")).json()
    assert [r["id"] for r in runs["items"]] == [run_id] and runs["items"][0][
        "playbook_key"
    ] == "call_back"
    assert (
        client.get("/api/v1/playbook-runs?account=A-2", headers=book.headers("viewer")).json()[
            "total"
        ]
        == 0
    )
    cancel = f"/api/v1/playbook-runs/{run_id}/cancel"
    assert client.post(cancel, headers=book.headers("csm2")).status_code == 403
    assert client.post(cancel, headers=book.headers("viewer")).status_code == 403
    assert client.post(cancel, headers=book.headers("csm")).json()["status"] == "cancelled"

    tasks = client.get("/api/v1/tasks?mine=true", headers=book.headers("csm")).json()
    assert [t["id"] for t in tasks["items"]] == [task_id]
    status = f"/api/v1/tasks/{task_id}/status"
    assert (
        client.post(status, json={"status": "done"}, headers=book.headers("csm2")).status_code
        == 403
    )
    assert (
        client.post(status, json={"status": "finished"}, headers=book.headers("csm")).status_code
        == 422
    )
    done = client.post(status, json={"status": "done"}, headers=book.headers("csm"))
    assert done.json()["status"] == "done" and done.json()["completed_at"]
    assert client.get("/api/v1/tasks", headers=book.headers("csm")).json()["total"] == 0
