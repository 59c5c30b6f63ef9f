"""The REST API on PostgreSQL: the same book, the calls whose SQL differs most between stores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tenure.config import DEFAULT_CONFIG_PATH, load_config
from tenure.kit.runtime import Runtime

from .conftest import Book, build_app, seed

API = "/api/v1"


@pytest.fixture
def pg(pg_runtime: Runtime) -> Iterator[tuple[TestClient, Book]]:
    book = seed(pg_runtime)
    with TestClient(build_app(pg_runtime)) as client:
        yield client, book


def test_lists_filters_and_scores(pg: tuple[TestClient, Book]) -> None:
    client, book = pg
    admin = book.headers("admin")
    accounts = client.get(f"{API}/accounts?sort=-health_score&search=account", headers=admin)
    assert [a["external_id"] for a in accounts.json()["items"]] == ["A-1", "A-2"]
    day = client.get(f"{API}/tickets?since=2024-06-02&until=2024-06-02", headers=admin).json()
    assert [t["external_id"] for t in day["items"]] == ["T-2"]
    history = client.get(f"{API}/accounts/A-2/scores", headers=admin).json()
    assert [s["as_of"] for s in history["items"]] == ["2024-06-30", "2024-05-31"]
    basic = client.get(f"{API}/scores?quadrant=basic", headers=admin).json()
    assert [s["account_external_id"] for s in basic["items"]] == ["A-2"]
    numeric = client.get(f"{API}/accounts/{10**17}", headers=admin)  # beyond an INTEGER id
    assert numeric.json()["error"]["message"] == f"no account has id or external id '{10**17}'"
    nul = client.get(f"{API}/accounts?search=a%00b", headers=admin)  # PostgreSQL refuses NUL
    assert nul.status_code == 422
    assert nul.json()["error"]["details"][0]["field"] == "search"


def test_writes_permissions_and_conflicts(pg: tuple[TestClient, Book]) -> None:
    client, book = pg
    csm = book.headers("csm-owner")
    body = {"external_id": "I-9", "account": "A-1", "contact": "C-1", "user": "csm@example.com",
            "occurred_at": "2024-07-01T10:00:00Z", "channel": "wecom", "type": "visit"}  # fmt: skip
    created = client.post(f"{API}/interactions", json=body, headers=csm)
    assert created.status_code == 201, created.text
    assert created.json()["user_id"] == book.ids["csm"]
    assert client.post(f"{API}/interactions", json=body, headers=csm).status_code == 409
    other = client.post(f"{API}/interactions", json={**body, "external_id": "I-10",
                        "account": "A-2", "contact": None}, headers=csm)  # fmt: skip
    assert other.status_code == 403
    patched = client.patch(
        f"{API}/accounts/A-1", json={"attributes": {"tier": "gold"}}, headers=csm
    )
    assert patched.json()["attributes"] == {"tier": "gold"}
    assert client.delete(f"{API}/accounts/A-1", headers=book.headers("manager")).status_code == 204
    assert client.get(f"{API}/interactions/I-9", headers=csm).status_code == 404


def test_alert_workflow_and_config(pg: tuple[TestClient, Book]) -> None:
    client, book = pg
    alert = book.ids["A-1:open"]
    csm = book.headers("csm-owner")
    assert client.post(f"{API}/alerts/{alert}/acknowledge", headers=csm).json()["status"] == (
        "acknowledged"
    )
    resolved = client.post(f"{API}/alerts/{alert}/resolve", json={"note": "fixed"}, headers=csm)
    assert resolved.json()["resolution_note"] == "fixed"
    closed = client.post(f"{API}/alerts/{book.ids['A-1:closed']}/acknowledge", headers=csm)
    assert closed.status_code == 409
    config = load_config(DEFAULT_CONFIG_PATH).model_dump(mode="json")
    admin = book.headers("admin")
    assert client.put(f"{API}/config", json=config, headers=admin).json()["version"] == 1
    assert client.put(f"{API}/config", json=config, headers=admin).json()["version"] == 2
    assert client.get(f"{API}/config/versions", headers=admin).json()["total"] == 2
