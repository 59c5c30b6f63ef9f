"""/settings/channels through the app's own pages (TestClient, real local receivers)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from tests.web.conftest import form_token, web_app

from tenure.accounts.models import User
from tenure.auth.deps import SESSION_COOKIE
from tenure.auth.service import start_session
from tenure.channels import sending, service
from tenure.db import transaction
from tenure.kit.runtime import Runtime, open_runtime

from .conftest import VendorServer, webhook_receiver

SECRET = "whsec-typed-into-the-form"


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """One home and app for the module (building the app is what takes time)."""
    rt = open_runtime(tmp_path_factory.mktemp("channels-pages") / "home")
    with transaction(rt.sessions) as s:
        for role in ("admin", "csm"):
            s.add(User(external_id=role, email=f"{role}@example.com", name=role.title(), role=role))
    yield rt
    rt.close()


@pytest.fixture(scope="module")
def app(runtime: Runtime) -> FastAPI:
    return web_app(runtime)


@pytest.fixture(autouse=True)
def _no_endpoints_left(runtime: Runtime) -> Iterator[None]:
    yield
    with runtime.engine.begin() as conn:
        conn.execute(text("DELETE FROM channel_endpoints"))


def signed_in(app: FastAPI, runtime: Runtime, role: str) -> TestClient:
    """A browser signed in as the user of `role` (a real session cookie, English pages)."""
    with transaction(runtime.sessions) as s:
        user = s.scalars(select(User).where(User.role == role)).one()
        cookie, _ = start_session(s, user=user)
    return TestClient(app, cookies={"lang": "en", SESSION_COOKIE: cookie})


@pytest.fixture
def client(app: FastAPI, runtime: Runtime) -> Iterator[TestClient]:
    """The admin's browser."""
    with signed_in(app, runtime, "admin") as c:
        yield c


def as_admin(client: TestClient) -> str:
    """The CSRF token of the admin's channels page."""
    return form_token(client.get("/settings/channels").text)


def add_webhook(client: TestClient, token: str, url: str, **extra: str) -> int:
    response = client.post(
        "/settings/channels",
        data={"csrf_token": token, "kind": "webhook", "name": "ops hook", "enabled": "1",
              "settings.url": url, "settings.timeout": "5", "secrets.signing_secret": SECRET,
              **extra},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("=", 1)[1])


def test_a_csm_is_told_only_admins_may(app: FastAPI, runtime: Runtime) -> None:
    with signed_in(app, runtime, "csm") as client:
        page = client.get("/settings/channels")
        assert page.status_code == 403
        assert "Only admins can see and change delivery channels" in page.text
        settings_page = client.get("/settings").text
        assert 'id="settings-channels-link"' not in settings_page
        token = form_token(settings_page)
        posted = client.post(
            "/settings/channels",
            data={"csrf_token": token, "kind": "webhook", "name": "x",
                  "settings.url": "http://127.0.0.1:9", "secrets.signing_secret": SECRET},
        )  # fmt: skip
        assert posted.status_code == 403
        with runtime.sessions() as s:
            assert (
                service.list_endpoints(s, key=sending.secret_key(runtime.settings.home)).total == 0
            )


def test_admin_adds_an_endpoint_from_its_kind_form(
    client: TestClient, runtime: Runtime, vendor_server: Callable[..., VendorServer]
) -> None:
    token = as_admin(client)
    assert 'href="/settings/channels" id="settings-channels-link"' in client.get("/settings").text
    page = client.get("/settings/channels").text
    assert re.findall(r'<details id="add-(\w+)"', page) == [
        "email", "webhook", "slack", "wecom", "dingtalk", "feishu"
    ]  # fmt: skip
    assert 'type="password" name="secrets.password"' in page
    assert '<option value="starttls" selected>' in page  # the model's default
    receiver = vendor_server(webhook_receiver(SECRET))
    endpoint_id = add_webhook(client, token, receiver.url + "/in")

    listed = client.get(f"/settings/channels?saved={endpoint_id}").text
    assert 'id="channels-saved"' in listed
    row = re.search(rf'<tr data-endpoint="{endpoint_id}">.*?</tr>', listed, re.S)
    assert row and "ops hook" in row.group() and "signing_secret" in row.group()
    edit = client.get(f"/settings/channels/{endpoint_id}").text
    assert SECRET not in listed and SECRET not in edit
    assert re.search(r'data-secret="signing_secret">set<', edit)

    # The Test button (HTMX) sends at once and shows the outcome.
    result = client.post(
        f"/settings/channels/{endpoint_id}/test", data={"csrf_token": token},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert result.status_code == 200
    assert 'data-test-ok="true"' in result.text and "ok (id evt_1)" in result.text
    assert json.loads(receiver.received[0].body)["recipient"]["email"] == "admin@example.com"


def test_a_refused_form_names_the_field_and_keeps_the_input(client: TestClient) -> None:
    token = as_admin(client)
    response = client.post(
        "/settings/channels",
        data={"csrf_token": token, "kind": "email", "name": "mail", "settings.host": "smtp.example.com",
              "settings.port": "not-a-port", "settings.security": "starttls",
              "settings.sender_address": "cs@example.com", "secrets.password": "hunter2-secret"},
    )  # fmt: skip
    assert response.status_code == 422
    assert re.search(r'data-error-for="settings.port"', response.text)
    assert re.search(r'data-error-for="secrets"', response.text) is None
    assert "<code>secrets</code>: give both username and password, or neither" in response.text
    assert 'value="not-a-port"' in response.text
    assert "hunter2-secret" not in response.text
    assert '<details id="add-email" open>' in response.text


def test_edit_keeps_empty_secrets_and_delete(
    client: TestClient, runtime: Runtime, vendor_server: Callable[..., VendorServer]
) -> None:
    token = as_admin(client)
    receiver = vendor_server(lambda _: (503, "text/plain", b"down"))
    endpoint_id = add_webhook(client, token, receiver.url)
    saved = client.post(
        f"/settings/channels/{endpoint_id}",
        data={"csrf_token": token, "name": "ops hook", "enabled": "1",
              "settings.url": receiver.url + "/v2", "settings.timeout": "2",
              "secrets.signing_secret": ""},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303, saved.text
    key = sending.secret_key(runtime.settings.home)
    with runtime.sessions() as s:
        _, settings, secrets = sending.resolve(s, endpoint_id, key=key)
    assert settings.model_dump() == {"url": receiver.url + "/v2", "timeout": 2.0}
    assert secrets.model_dump() == {"signing_secret": SECRET}

    failed = client.post(
        f"/settings/channels/{endpoint_id}/test", data={"csrf_token": token},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert 'data-test-ok="false"' in failed.text
    assert "failed (transient): HTTP 503: down" in failed.text

    deleted = client.post(
        f"/settings/channels/{endpoint_id}/delete", data={"csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert deleted.status_code == 303
    assert client.get(f"/settings/channels/{endpoint_id}").status_code == 404


def test_the_page_speaks_chinese(client: TestClient) -> None:
    as_admin(client)
    client.cookies.set("lang", "zh-CN")
    page = client.get("/settings/channels").text
    assert "<h1>触达渠道</h1>" in page and "SMTP 服务器" in page
