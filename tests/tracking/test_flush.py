"""The inbox flush: events to the Delta store, traits to contacts and accounts, crash safety."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from tenure.jobs import Scheduler
from tenure.kit.runtime import Runtime
from tenure.tracking import flush as flush_module
from tenure.tracking.flush import _only_flush, flush_inbox, flush_job
from tenure.tracking.models import InboxMessage

from .conftest import (
    AUTH,
    MakeClient,
    account_of,
    add_accounts,
    add_contact,
    contact_of,
    inbox,
    stored_events,
    track,
)


def send(client: TestClient, *calls: dict[str, Any]) -> None:
    response = client.post("/v1/batch", auth=AUTH, json={"batch": list(calls)})
    assert response.status_code == 200, response.text


def age_inbox(runtime: Runtime, hours: int) -> None:
    """Pretend every inbox row arrived `hours` ago."""
    old = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=hours)
    with runtime.engine.begin() as conn:
        conn.execute(update(InboxMessage).values(received_at=old))


class TestEvents:
    def test_moves_track_calls_to_the_event_store_and_empties_the_inbox(
        self, any_runtime: Runtime, make_client: MakeClient
    ) -> None:
        client = make_client(any_runtime)
        send(
            client,
            track("m1", "report.created", timestamp="2026-06-01T12:00:00Z",
                  properties={"b": 2, "a": 1}),
            track("m2", timestamp="2026-06-02T08:30:00Z", context={}, userId="u9",
                  properties={"account_id": "globex"}),
        )  # fmt: skip
        result = flush_inbox(any_runtime)
        assert (result.moved, result.events_added, result.events_duplicate) == (2, 2, 0)
        assert inbox(any_runtime) == []
        events = stored_events(any_runtime)
        assert [
            (
                e["message_id"],
                e["account_id"],
                e["contact_id"],
                e["event"],
                e["timestamp"],
                e["properties"],
            )
            for e in events
        ] == [
            (
                "m1",
                "acme",
                "u1",
                "report.created",
                dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC),
                '{"b":2,"a":1}',
            ),
            (
                "m2",
                "globex",
                "u9",
                "login",
                dt.datetime(2026, 6, 2, 8, 30, tzinfo=dt.UTC),
                '{"account_id":"globex"}',
            ),
        ]

    def test_a_resent_batch_after_a_flush_adds_nothing(
        self, any_runtime: Runtime, make_client: MakeClient
    ) -> None:
        add_accounts(any_runtime, "acme")
        client = make_client(any_runtime)
        calls = [track(f"m{i}", timestamp="2026-06-01T12:00:00Z") for i in range(5)]
        calls.append({"type": "group", "userId": "u1", "groupId": "acme", "messageId": "g",
                      "traits": {"industry": "retail"}})  # fmt: skip
        send(client, *calls)
        first = flush_inbox(any_runtime)
        assert first.events_added == 5
        send(client, *calls)
        assert len(inbox(any_runtime)) == 6  # the inbox no longer knows them ...
        again = flush_inbox(any_runtime)
        assert (again.events_added, again.events_duplicate) == (0, 5)  # ... the store does
        assert (again.accounts_updated, again.contacts_created, again.contacts_updated) == (0, 0, 0)
        assert len(stored_events(any_runtime)) == 5
        assert inbox(any_runtime) == []

    def test_attributes_a_users_events_to_their_account(
        self, runtime: Runtime, client: TestClient
    ) -> None:
        add_accounts(runtime, "acme", "globex")
        add_contact(runtime, "known", "globex")
        send(
            client,
            track("1", userId="known", context={}),
            track("2", userId="new", context={}),  # before the group call: waits
            {"type": "group", "userId": "new", "groupId": "acme", "messageId": "g"},
            track("3", userId="new", context={}),
            {"type": "group", "userId": "known", "groupId": "acme", "messageId": "g2"},
            track("4", userId="known", context={}),  # the user moved to acme
        )
        result = flush_inbox(runtime)
        assert [(e["message_id"], e["account_id"]) for e in stored_events(runtime)] == [
            ("1", "globex"), ("3", "acme"), ("4", "acme"),
        ]  # fmt: skip
        assert result.waiting == 1 and [c["messageId"] for c in inbox(runtime)] == ["2"]
        flush_inbox(runtime)
        assert ("2", "acme") in [(e["message_id"], e["account_id"]) for e in stored_events(runtime)]
        assert inbox(runtime) == []


class TestTraits:
    def test_identify_sets_contact_fields_and_group_sets_account_fields(
        self, any_runtime: Runtime, make_client: MakeClient
    ) -> None:
        add_accounts(any_runtime, "acme")
        client = make_client(any_runtime)
        send(
            client,
            {"type": "group", "userId": "u1", "groupId": "acme", "messageId": "g",
             "traits": {"name": "Acme Ltd", "industry": "retail", "employees": "250",
                        "plan": "enterprise", "id": "acme"}},
            {"type": "identify", "userId": "u1", "messageId": "i1",
             "traits": {"firstName": "Lei", "lastName": "Li", "email": "li@acme.cn",
                        "phone": "+86 21 1234", "title": "CTO", "favourite": "tea"},
             "context": {"locale": "zh-CN", "timezone": "Asia/Shanghai"}},
            {"type": "identify", "userId": "u1", "messageId": "i2", "traits": {"title": "CEO"}},
        )  # fmt: skip
        result = flush_inbox(any_runtime)
        assert (result.contacts_created, result.accounts_updated) == (1, 1)
        found = contact_of(any_runtime, "u1")
        assert found is not None
        contact, account = found
        assert account == "acme"
        assert (contact.name, contact.email, contact.phone, contact.title) == (
            "Lei Li", "li@acme.cn", "+86 21 1234", "CEO",
        )  # fmt: skip
        assert (contact.locale, contact.timezone) == ("zh-CN", "Asia/Shanghai")
        acme = account_of(any_runtime, "acme")
        assert acme is not None
        assert (acme.name, acme.industry, acme.employees) == ("Acme Ltd", "retail", 250)
        assert acme.attributes == {"plan": "enterprise"}

    def test_identify_naming_a_known_account_creates_the_contact(
        self, runtime: Runtime, client: TestClient
    ) -> None:
        add_accounts(runtime, "acme")
        send(client, {"type": "identify", "userId": "u1", "messageId": "i",
                      "traits": {"email": "a@acme.cn", "company": {"id": "acme"}}})  # fmt: skip
        assert flush_inbox(runtime).contacts_created == 1
        found = contact_of(runtime, "u1")
        assert found is not None and found[1] == "acme"
        assert found[0].name == "a@acme.cn"  # no name trait: the e-mail stands in

    def test_identify_waits_for_the_group_call_of_a_later_request(
        self, runtime: Runtime, client: TestClient
    ) -> None:
        add_accounts(runtime, "acme")
        send(
            client,
            {"type": "identify", "userId": "u1", "messageId": "i1", "traits": {"name": "Old"}},
        )
        first = flush_inbox(runtime)
        assert (first.waiting, first.moved, contact_of(runtime, "u1")) == (1, 0, None)
        send(
            client,
            {"type": "group", "userId": "u1", "groupId": "acme", "messageId": "g"},
            {"type": "identify", "userId": "u1", "messageId": "i2", "traits": {"name": "New"}},
        )
        second = flush_inbox(runtime)  # i1 still waits (its user had no account when read),
        assert second.waiting == 2  # and i2 waits behind it so the traits keep their order
        third = flush_inbox(runtime)
        assert (third.moved, third.waiting) == (2, 0)
        found = contact_of(runtime, "u1")
        assert found is not None and found[0].name == "New"

    def test_calls_that_cannot_be_placed_go_to_a_rejects_file_that_can_be_resent(
        self, runtime: Runtime, client: TestClient
    ) -> None:
        send(
            client,
            {"type": "group", "userId": "u1", "groupId": "nobody", "messageId": "g"},
            {"type": "track", "anonymousId": "a1", "event": "visit", "messageId": "t"},
            {"type": "identify", "userId": "u2", "messageId": "i", "traits": {"name": "X"}},
        )
        age_inbox(runtime, hours=2)  # past the wait for a group call
        result = flush_inbox(runtime)
        assert (result.rejected, result.moved, result.waiting) == (3, 3, 0)
        assert result.rejects_path is not None
        lines = [json.loads(line) for line in result.rejects_path.read_text().splitlines()]
        assert [(c["messageId"], c["_error"]) for c in lines] == [
            ("g", "unknown account 'nobody'"),
            ("t", "anonymous call without context.groupId"),
            ("i", "user 'u2' has no account: no group call came"),
        ]
        add_accounts(runtime, "nobody")
        send(client, lines[0], {**lines[1], "context": {"groupId": "nobody"}})  # fixed, resent
        again = flush_inbox(runtime)
        assert (again.contacts_created, again.events_added) == (1, 1)

    def test_create_accounts_lets_group_calls_create_them(
        self, runtime: Runtime, client: TestClient
    ) -> None:
        send(client, {"type": "group", "userId": "u1", "groupId": "newco", "messageId": "g",
                      "traits": {"name": "NewCo"}},
             track("t", userId="u1", context={}))  # fmt: skip
        result = flush_inbox(runtime, create_accounts=True)
        assert (result.accounts_created, result.contacts_created, result.events_added) == (1, 1, 1)
        newco = account_of(runtime, "newco")
        assert newco is not None and newco.name == "NewCo"


class TestCrashSafety:
    def test_a_crash_after_the_append_repeats_the_batch_without_doubling(
        self, any_runtime: Runtime, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        add_accounts(any_runtime, "acme")
        client = make_client(any_runtime)
        send(client, *[track(f"m{i}") for i in range(20)],
             {"type": "group", "userId": "u1", "groupId": "acme", "messageId": "g",
              "traits": {"industry": "retail"}})  # fmt: skip

        def crash(*_: Any) -> int:
            raise RuntimeError("killed between the append and the delete")

        monkeypatch.setattr(flush_module, "delete_rows", crash)
        with pytest.raises(RuntimeError):
            flush_inbox(any_runtime)
        assert len(stored_events(any_runtime)) == 20  # appended ...
        assert len(inbox(any_runtime)) == 21  # ... but not deleted, and no traits applied
        assert contact_of(any_runtime, "u1") is None
        monkeypatch.undo()

        result = flush_inbox(any_runtime)
        assert (result.events_added, result.events_duplicate, result.moved) == (0, 20, 21)
        assert sorted(e["message_id"] for e in stored_events(any_runtime)) == sorted(
            f"m{i}" for i in range(20)
        )
        assert contact_of(any_runtime, "u1") is not None
        assert inbox(any_runtime) == []

    def test_small_batches_keep_the_order_of_calls(
        self, runtime: Runtime, client: TestClient
    ) -> None:
        add_accounts(runtime, "acme")
        send(client, {"type": "group", "userId": "u1", "groupId": "acme", "messageId": "g"},
             *[{"type": "identify", "userId": "u1", "messageId": f"i{n}", "traits": {"title": f"T{n}"}}
               for n in range(5)],
             track("t"))  # fmt: skip
        result = flush_inbox(runtime, batch=2)
        assert (result.batches, result.moved, result.events_added) == (4, 7, 1)
        found = contact_of(runtime, "u1")
        assert found is not None and found[0].title == "T4"

    def test_only_one_flush_runs_at_a_time(
        self, any_runtime: Runtime, make_client: MakeClient
    ) -> None:
        send(make_client(any_runtime), track("m"))
        with _only_flush(any_runtime) as mine:
            assert mine
            assert flush_inbox(any_runtime).busy
        assert flush_inbox(any_runtime).events_added == 1


def test_flush_job_runs_on_the_scheduler(runtime: Runtime, client: TestClient) -> None:
    send(client, track("m"))
    scheduler = Scheduler(runtime, [flush_job(every=5)])
    assert scheduler.run_due(now=0) == ["tracking-flush"]
    assert scheduler.jobs[0].last_error is None
    assert len(stored_events(runtime)) == 1 and inbox(runtime) == []
