"""A tracked event enrols its account in an event playbook when the inbox is flushed,
in the flush's transaction, once however often the batch is resent."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from tenure.accounts.models import Account
from tenure.engagement.models import PlaybookRun
from tenure.engagement.schemas import PlaybookWrite
from tenure.engagement.service import create_playbook
from tenure.kit.runtime import Runtime
from tenure.tracking.flush import flush_inbox

from .conftest import AUTH, add_accounts, add_contact, track


def test_a_tracked_event_enrols_its_account_once(runtime: Runtime, client: TestClient) -> None:
    add_accounts(runtime, "acme", "beta")
    add_contact(runtime, "u1", "acme")
    body = PlaybookWrite.model_validate({
        "key": "reports", "name": "Reports",
        "definition": {"trigger": {"type": "event", "event": "report.create",
                                   "where": {"kind": "pivot"}},
                       "steps": [{"action": "task", "title": "Show {{ account.name }} pivots"}],
                       "reenrol": "always"},
    })  # fmt: skip
    with runtime.sessions() as s, s.begin():
        create_playbook(s, "test", body)
    batch = {"batch": [
        track("e1", "report.create", properties={"kind": "pivot"}),
        track("e2", "report.create", properties={"kind": "table"}),
        track("e3", "login"),
        track("e4", "report.create", properties={"kind": "pivot"},
              context={"groupId": "beta"}),
    ]}  # fmt: skip
    for _ in range(2):  # a client retrying the whole batch
        assert client.post("/v1/batch", json=batch, auth=AUTH).status_code == 200
        flush_inbox(runtime)
    with runtime.sessions() as s:
        runs = s.execute(
            select(Account.external_id, PlaybookRun.trigger_key, PlaybookRun.reason)
            .join(Account, Account.id == PlaybookRun.account_id)
            .order_by(PlaybookRun.trigger_key)
        ).all()
    assert [(a, k) for a, k, _ in runs] == [("acme", "event:e1"), ("beta", "event:e4")]
    assert runs[0].reason["properties"] == {"kind": "pivot"}
