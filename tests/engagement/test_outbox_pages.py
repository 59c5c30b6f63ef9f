"""The outbox page: status tabs with counts, the table, and retry / cancel through HTMX."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.api.conftest import PASSWORD, Book

from tenure.kit.runtime import Runtime

from .conftest_outbox import book_home, copy_home, message, outbox_app

Home = tuple[Path, Book, dict[str, int]]
FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
META_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
ROW = re.compile(r'<tr data-outbox="(\d+)" data-status="(\w+)">')


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Home:
    return book_home(tmp_path_factory.mktemp("outbox-pages"))


@pytest.fixture
def runtime(template: Home, tmp_path: Path) -> Iterator[Runtime]:
    rt = copy_home(template[0], tmp_path)
    yield rt
    rt.close()


@pytest.fixture
def ids(template: Home) -> dict[str, int]:
    return template[2]


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(outbox_app(runtime), cookies={"lang": "en"}) as c:
        yield c


def sign_in(client: TestClient, role: str) -> str:
    """Sign in through the form as the book's user of `role`; the page's CSRF token."""
    form = client.get("/login")
    token = FORM_TOKEN.search(form.text)
    assert token is not None
    response = client.post(
        "/login",
        data={"login": f"{role}@example.com", "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    meta = META_TOKEN.search(client.get("/outbox").text)
    assert meta is not None
    return meta.group(1)


def rows(html: str) -> dict[int, str]:
    return {int(mid): status for mid, status in ROW.findall(html)}


def tab_count(html: str, status: str) -> int:
    found = re.search(
        rf'data-status="{status}" [^>]*>[^<]*<span class="muted count">(\d+)</span>', html
    )
    assert found is not None, status
    return int(found.group(1))


def test_not_signed_in_goes_to_login(client: TestClient) -> None:
    response = client.get("/outbox", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Foutbox"


def test_a_manager_sees_every_message_with_counts_and_buttons(
    client: TestClient, ids: dict[str, int]
) -> None:
    sign_in(client, "manager")
    html = client.get("/outbox").text
    assert "<h1>Outbox</h1>" in html
    assert rows(html) == {
        ids["team-queued"]: "queued",
        ids["a2-failed"]: "failed",
        ids["a1-sent"]: "sent",
        ids["a1-queued"]: "queued",
        ids["a1-dead"]: "dead",
    }
    counts = {
        s: tab_count(html, s) for s in ("queued", "sending", "sent", "failed", "dead", "cancelled")
    }
    assert counts == {"queued": 2, "sending": 0, "sent": 1, "failed": 1, "dead": 1, "cancelled": 0}
    assert "HTTP 500: boom" in html and "a1-dead@example.com" in html
    assert f'hx-post="/outbox/{ids["a1-dead"]}/retry?page=1"' in html
    assert f'hx-post="/outbox/{ids["a2-failed"]}/cancel?page=1"' in html
    assert f'hx-post="/outbox/{ids["a1-queued"]}/cancel?page=1"' in html
    assert f"/outbox/{ids['a1-sent']}/" not in html  # nothing to do with a sent message


def test_a_status_tab_shows_only_that_status(client: TestClient, ids: dict[str, int]) -> None:
    sign_in(client, "viewer")
    html = client.get("/outbox?status=dead").text
    assert rows(html) == {ids["a1-dead"]: "dead"}
    assert 'aria-current="page">Dead' in html
    assert "hx-post" not in html  # viewers have no buttons


def test_retry_through_htmx_refreshes_the_results(
    client: TestClient, ids: dict[str, int], runtime: Runtime
) -> None:
    token = sign_in(client, "admin")
    mid = ids["a1-dead"]
    response = client.post(
        f"/outbox/{mid}/retry?status=dead&page=1",
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.text.startswith('<section id="outbox-results"')
    assert f"Message {mid} is queued again." in response.text
    assert rows(response.text) == {}  # the dead tab is empty now
    assert tab_count(response.text, "queued") == 3
    stored = message(runtime, mid)
    assert (stored.status, stored.attempts) == ("queued", 0)


def test_cancel_that_no_longer_applies_says_why(client: TestClient, ids: dict[str, int]) -> None:
    token = sign_in(client, "manager")
    mid = ids["a1-sent"]
    response = client.post(
        f"/outbox/{mid}/cancel", headers={"X-CSRF-Token": token, "HX-Request": "true"}
    )
    assert response.status_code == 200
    assert (
        f"outbox message {mid} is sent; only queued or failed messages can be cancelled"
        in response.text
    )
    assert rows(response.text)[mid] == "sent"


def test_a_change_needs_the_csrf_token(
    client: TestClient, ids: dict[str, int], runtime: Runtime
) -> None:
    sign_in(client, "admin")
    response = client.post(f"/outbox/{ids['a1-queued']}/cancel", headers={"HX-Request": "true"})
    assert response.status_code == 403
    assert message(runtime, ids["a1-queued"]).status == "queued"


def test_a_csm_sees_only_their_accounts_and_cannot_change_them(
    client: TestClient, ids: dict[str, int], runtime: Runtime
) -> None:
    token = sign_in(client, "csm")
    html = client.get("/outbox").text
    assert rows(html) == {
        ids["a1-sent"]: "sent",
        ids["a1-queued"]: "queued",
        ids["a1-dead"]: "dead",
    }
    assert tab_count(html, "queued") == 1 and tab_count(html, "failed") == 0
    assert "hx-post" not in html
    response = client.post(f"/outbox/{ids['a1-dead']}/retry", headers={"X-CSRF-Token": token})
    assert response.status_code == 403
    assert message(runtime, ids["a1-dead"]).status == "dead"


def test_the_page_speaks_chinese(client: TestClient) -> None:
    sign_in(client, "viewer")
    client.cookies.set("lang", "zh-CN")
    html = client.get("/outbox").text
    assert "<h1>发件箱</h1>" in html and "已放弃" in html and "最近错误" in html
