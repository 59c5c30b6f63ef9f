"""The playbook, task and unsubscribe pages."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.accounts.conftest import build_book
from tests.web.conftest import PASSWORD, form_token, give_password, sign_in, web_app

from tenure.accounts.models import Contact, User
from tenure.auth.passwords import hash_password
from tenure.engagement import unsubscribe
from tenure.engagement.models import Task
from tenure.kit.runtime import Runtime


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    ids = build_book(runtime)
    give_password(runtime, "alice@example.com")
    with runtime.sessions() as s, s.begin():
        s.add(User(external_id="u-admin", email="admin@example.com", name="Admin", role="admin",
                   password_hash=hash_password(PASSWORD)))  # fmt: skip
        s.add(Task(account_id=ids["ACME"], owner_id=ids["alice"], title="Call Acme back"))
    with TestClient(web_app(runtime), cookies={"lang": "en"}) as c:
        yield c


def test_admin_installs_and_edits_a_playbook_and_sees_each_problem(client: TestClient) -> None:
    sign_in(client, "admin@example.com")
    page = client.get("/playbooks")
    assert page.status_code == 200 and "Install shipped playbooks" in page.text
    installed = client.post(
        "/playbooks/install-shipped", data={"csrf_token": form_token(page.text)}
    )
    assert installed.status_code == 200 and 'id="playbooks-installed"' in installed.text
    assert 'data-key="onboarding"' in installed.text and 'data-key="alert_push"' in installed.text

    editor = client.get("/playbooks/alert_push")
    definition = json.loads(editor.text.split('id="playbook-definition">')[1].split("</textarea>")[0]
                            .replace("&#34;", '"').replace("&quot;", '"'))  # fmt: skip
    definition["steps"][0]["template"] = "no_such_template"
    definition["trigger"]["on"] = "sometimes"
    refused = client.post(
        "/playbooks/alert_push",
        data={"csrf_token": form_token(editor.text), "name": "Alert push",
              "definition": json.dumps(definition), "enabled": "on"},
    )  # fmt: skip
    assert refused.status_code == 422
    assert "definition.trigger.on" in refused.text
    not_json = client.post(
        "/playbooks/alert_push",
        data={"csrf_token": form_token(editor.text), "name": "x", "definition": "{oops"},
    )
    assert not_json.status_code == 422 and "line 1, column 2" in not_json.text

    definition["trigger"]["on"] = "cleared"
    saved = client.post(
        "/playbooks/alert_push",
        data={"csrf_token": form_token(editor.text), "name": "Alert cleared",
              "definition": json.dumps(definition), "enabled": "on"},
    )  # fmt: skip
    assert saved.status_code == 400 and "definition.steps[0].template" in saved.text
    definition["steps"][0]["template"] = "alert_notification"
    saved = client.post(
        "/playbooks/alert_push",
        data={"csrf_token": form_token(editor.text), "name": "Alert cleared",
              "definition": json.dumps(definition), "enabled": "on"},
    )  # fmt: skip
    assert saved.status_code == 200 and 'id="playbook-saved"' in saved.text and "v2" in saved.text


def test_a_csm_reads_playbooks_but_cannot_edit(client: TestClient) -> None:
    sign_in(client)
    page = client.get("/playbooks")
    assert "Install shipped playbooks" not in page.text
    assert (
        client.post(
            "/playbooks/new", data={"csrf_token": form_token(page.text), "definition": "{}"}
        ).status_code
        == 403
    )
    assert client.post("/playbooks/new", data={"definition": "{}"}).status_code == 403  # no CSRF


def test_tasks_page_lists_my_tasks(client: TestClient) -> None:
    sign_in(client)
    mine = client.get("/tasks")
    assert "Call Acme back" in mine.text and "data-task-done" in mine.text
    done = client.get("/tasks?status=done")
    assert "Call Acme back" not in done.text


def test_unsubscribe_link_opts_out_once_and_refuses_a_forged_one(
    client: TestClient, runtime: Runtime
) -> None:
    with runtime.sessions() as s:
        contact = s.scalars(select(Contact).where(Contact.external_id == "C1")).one()
    key = unsubscribe.signing_key(runtime.settings.home)
    token = unsubscribe.make_token(key, contact.id, "email")
    page = client.get(f"/u/{token}")
    assert page.status_code == 200 and "Wang Wei" in page.text
    # A mail client's RFC 8058 one-click POST carries no form fields but this one.
    done = client.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and 'id="unsubscribe-done"' in done.text
    everything = client.post(f"/u/{token}", data={"scope": "all"})
    assert everything.status_code == 200
    with runtime.sessions() as s:
        contact = s.get(Contact, contact.id)
        assert contact is not None
        assert contact.opt_out_channels == ["email"] and contact.opted_out_all is True
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(f"/u/{forged}").status_code == 400
    other = unsubscribe.make_token(b"another key" * 3, contact.id, "email")
    assert client.post(f"/u/{other}", data={"scope": "all"}).status_code == 400
