"""The Segment tracking API: what each endpoint stores, write keys, bad input, capacity."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, update

from tenure.app import create_app
from tenure.auth.models import ApiToken
from tenure.db import make_engine, make_sessionmaker
from tenure.kit.runtime import Runtime
from tenure.tracking.api import TrackingSettings, install_tracking
from tenure.tracking.flush import flush_inbox
from tenure.tracking.models import InboxMessage

from .conftest import AUTH, WRITE_KEY, MakeClient, add_accounts, add_token, inbox, track


def rows(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(InboxMessage)) or 0)


def details(response: Any) -> list[tuple[str, str]]:
    body = response.json()
    assert body["success"] is False
    return [(d["field"], d["message"]) for d in body["error"]["details"]]


class TestTrack:
    def test_stores_the_normalised_call_and_answers_success(
        self, client: TestClient, runtime: Runtime
    ) -> None:
        response = client.post(
            "/v1/track",
            auth=AUTH,
            json={
                "userId": "u1",
                "event": "report.created",
                "messageId": "m-1",
                "timestamp": "2026-06-01T20:00:00+08:00",
                "properties": {"rows": 3},
                "context": {"groupId": "acme", "locale": "zh-CN", "ip": "10.0.0.1"},
                "integrations": {"All": True},
            },
        )
        assert response.status_code == 200
        assert response.json() == {"success": True}
        assert inbox(runtime) == [
            {
                "type": "track",
                "event": "report.created",
                "messageId": "m-1",
                "timestamp": "2026-06-01T12:00:00+00:00",
                "userId": "u1",
                "properties": {"rows": 3},
                "context": {"groupId": "acme", "locale": "zh-CN"},
            }
        ]

    @pytest.mark.parametrize("key", ["account_id", "accountId"])
    def test_the_account_may_come_from_properties(
        self, client: TestClient, runtime: Runtime, key: str
    ) -> None:
        call = {"anonymousId": "a1", "event": "login", "messageId": "m", "properties": {key: 42}}
        assert client.post("/v1/track", auth=AUTH, json=call).status_code == 200
        (stored,) = inbox(runtime)
        assert stored["context"] == {"groupId": "42"}
        assert stored["anonymousId"] == "a1" and "userId" not in stored

    def test_context_group_id_wins_over_properties(
        self, client: TestClient, runtime: Runtime
    ) -> None:
        call = track("m", context={"groupId": "acme"}, properties={"account_id": "other"})
        assert client.post("/v1/track", auth=AUTH, json=call).status_code == 200
        assert inbox(runtime)[0]["context"] == {"groupId": "acme"}

    def test_corrects_the_client_clock_with_sent_at(
        self, client: TestClient, runtime: Runtime
    ) -> None:
        # The device clock is 10 minutes fast: the event happened 1 minute before it was sent.
        call = track("m", originalTimestamp="2026-06-01T12:10:00Z", sentAt="2026-06-01T12:11:00Z")
        before = dt.datetime.now(dt.UTC)
        assert client.post("/v1/track", auth=AUTH, json=call).status_code == 200
        stamp = dt.datetime.fromisoformat(inbox(runtime)[0]["timestamp"])
        assert before - dt.timedelta(minutes=1, seconds=1) <= stamp <= dt.datetime.now(dt.UTC)

    def test_without_message_id_a_timed_call_gets_a_stable_id(
        self, client: TestClient, runtime: Runtime
    ) -> None:
        call = {"userId": "u1", "event": "login", "timestamp": "2026-06-01T12:00:00Z"}
        for sent in ("2026-06-01T12:00:01Z", "2026-06-01T12:05:00Z"):  # a retry, sent later
            assert (
                client.post("/v1/track", auth=AUTH, json={**call, "sentAt": sent}).status_code
                == 200
            )
        untimed = {"userId": "u1", "event": "login"}
        for _ in range(2):  # nothing tells these apart: both are events
            assert client.post("/v1/track", auth=AUTH, json=untimed).status_code == 200
        ids = [c["messageId"] for c in inbox(runtime)]
        assert len(ids) == 3 and all(i.startswith("srv-") for i in ids)

    def test_page_and_screen_are_track_events(self, client: TestClient, runtime: Runtime) -> None:
        page = {"userId": "u1", "name": "Reports", "messageId": "p", "properties": {"path": "/r"}}
        screen = {"userId": "u1", "name": "Home", "messageId": "s"}
        assert client.post("/v1/page", auth=AUTH, json=page).status_code == 200
        assert client.post("/v1/screen", auth=AUTH, json=screen).status_code == 200
        stored = inbox(runtime)
        assert [(c["type"], c["event"], c["properties"]) for c in stored] == [
            ("track", "page", {"name": "Reports", "path": "/r"}),
            ("track", "screen", {"name": "Home"}),
        ]


class TestIdentifyAndGroup:
    def test_identify_keeps_traits_and_the_company_as_account(
        self, client: TestClient, runtime: Runtime
    ) -> None:
        traits = {
            "name": "Li Lei",
            "email": "li@acme.cn",
            "company": {"id": "acme", "name": "Acme"},
        }
        call = {
            "userId": "u1",
            "messageId": "i",
            "traits": traits,
            "context": {"timezone": "Asia/Shanghai"},
        }
        assert client.post("/v1/identify", auth=AUTH, json=call).status_code == 200
        (stored,) = inbox(runtime)
        assert stored["type"] == "identify" and stored["traits"] == traits
        assert stored["context"] == {"groupId": "acme", "timezone": "Asia/Shanghai"}

    def test_group_keeps_group_id_and_traits(self, client: TestClient, runtime: Runtime) -> None:
        call = {
            "userId": "u1",
            "groupId": "acme",
            "messageId": "g",
            "traits": {"industry": "retail"},
        }
        assert client.post("/v1/group", auth=AUTH, json=call).status_code == 200
        (stored,) = inbox(runtime)
        assert (stored["type"], stored["groupId"], stored["traits"]) == (
            "group",
            "acme",
            {"industry": "retail"},
        )


class TestBatch:
    def test_stores_every_call_in_order_with_the_batch_context(
        self, client: TestClient, runtime: Runtime
    ) -> None:
        body = {
            "batch": [
                {"type": "identify", "userId": "u1", "messageId": "1", "traits": {"name": "Li"}},
                {"type": "group", "userId": "u1", "groupId": "acme", "messageId": "2"},
                {"type": "track", "userId": "u1", "event": "login", "messageId": "3"},
                {"type": "page", "userId": "u1", "name": "Home", "messageId": "4"},
            ],
            "context": {"locale": "en-US"},
        }
        assert client.post("/v1/batch", auth=AUTH, json=body).json() == {"success": True}
        stored = inbox(runtime)
        assert [c["messageId"] for c in stored] == ["1", "2", "3", "4"]
        assert [c["type"] for c in stored] == ["identify", "group", "track", "track"]
        assert all(c["context"]["locale"] == "en-US" for c in stored)

    def test_one_invalid_call_rejects_the_whole_batch(
        self, client: TestClient, runtime: Runtime
    ) -> None:
        body = {"batch": [track("ok"), {"type": "track", "userId": "u1", "messageId": "bad"}]}
        response = client.post("/v1/batch", auth=AUTH, json=body)
        assert response.status_code == 400
        assert details(response) == [("batch.1.event", "a non-empty string is required")]
        assert rows(runtime) == 0


class TestDuplicates:
    def test_a_resent_batch_and_repeats_inside_one_add_nothing(
        self, any_runtime: Runtime, make_client: MakeClient
    ) -> None:
        client = make_client(any_runtime)
        body = {"batch": [track("a"), track("b"), track("a", event="again"), track("c")]}
        assert client.post("/v1/batch", auth=AUTH, json=body).status_code == 200
        assert [(c["messageId"], c["event"]) for c in inbox(any_runtime)] == [
            ("a", "login"), ("b", "login"), ("c", "login"),
        ]  # fmt: skip
        for _ in range(2):
            assert client.post("/v1/batch", auth=AUTH, json=body).json() == {"success": True}
        single = client.post("/v1/track", auth=AUTH, json=track("b", event="other"))
        assert single.status_code == 200
        assert [(c["messageId"], c["event"]) for c in inbox(any_runtime)] == [
            ("a", "login"), ("b", "login"), ("c", "login"),
        ]  # fmt: skip


class TestWriteKey:
    def test_body_write_key_is_accepted(self, client: TestClient, runtime: Runtime) -> None:
        response = client.post("/v1/batch", json={"writeKey": WRITE_KEY, "batch": [track("m")]})
        assert response.status_code == 200
        assert (
            client.post("/v1/track", json={**track("n"), "writeKey": WRITE_KEY}).status_code == 200
        )
        assert rows(runtime) == 2

    def test_bearer_is_accepted_too(self, client: TestClient, runtime: Runtime) -> None:
        headers = {"Authorization": f"Bearer {WRITE_KEY}"}
        assert client.post("/v1/track", headers=headers, json=track("m")).status_code == 200

    @pytest.mark.parametrize(
        "headers",
        [
            {},
            {"Authorization": "Basic " + base64.b64encode(b"tnr_unknown:").decode()},
            {"Authorization": "Basic not-base64!"},
            {"Authorization": "Digest abc"},
        ],
        ids=["missing", "unknown", "malformed", "other-scheme"],
    )
    def test_missing_or_bad_keys_get_401_and_store_nothing(
        self, client: TestClient, runtime: Runtime, headers: dict[str, str]
    ) -> None:
        response = client.post("/v1/track", headers=headers, json=track("m"))
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Basic")
        assert response.json()["error"]["code"] == "unauthorized"
        assert rows(runtime) == 0

    def test_a_bad_header_is_not_rescued_by_a_good_body_key(self, client: TestClient) -> None:
        body = {**track("m"), "writeKey": WRITE_KEY}
        assert client.post("/v1/track", auth=("tnr_wrong", ""), json=body).status_code == 401

    @pytest.mark.parametrize(
        "token",
        [
            {"scopes": ("read", "write", "admin")},
            {"revoked": True},
            {"expires_at": dt.datetime(2020, 1, 1)},
        ],
        ids=["other-scopes", "revoked", "expired"],
    )
    def test_only_live_events_write_tokens_are_write_keys(
        self, client: TestClient, runtime: Runtime, token: dict[str, Any]
    ) -> None:
        add_token(runtime, "tnr_other", **token)
        assert client.post("/v1/track", auth=("tnr_other", ""), json=track("m")).status_code == 401
        add_token(runtime, "tnr_later", expires_at=dt.datetime(2999, 1, 1))
        assert client.post("/v1/track", auth=("tnr_later", ""), json=track("m")).status_code == 200

    def test_a_revoked_key_is_refused_once_its_cached_check_expires(
        self, runtime: Runtime, make_client: MakeClient
    ) -> None:
        cached = make_client(runtime)  # key_cache: 5 s by default
        uncached = make_client(runtime, key_cache=0)
        for client in (cached, uncached):
            assert client.post("/v1/track", auth=AUTH, json=track("m")).status_code == 200
        with runtime.engine.begin() as conn:
            conn.execute(update(ApiToken).values(revoked_at=dt.datetime(2026, 1, 1)))
        assert cached.post("/v1/track", auth=AUTH, json=track("n")).status_code == 200
        assert uncached.post("/v1/track", auth=AUTH, json=track("n")).status_code == 401


class TestBadInput:
    def test_every_bad_field_is_named(self, client: TestClient, runtime: Runtime) -> None:
        body = {
            "batch": [
                {"type": "track", "messageId": "1", "event": "", "timestamp": "yesterday"},
                {"type": "identify", "userId": True, "traits": [1], "messageId": "2"},
                {"type": "group", "userId": "u1", "messageId": "3"},
                {"type": "alias", "userId": "u1", "previousId": "x"},
                {"type": "track", "userId": "u" * 101, "event": "e", "context": {"groupId": {}}},
                "not a call",
            ]
        }
        response = client.post("/v1/batch", auth=AUTH, json=body)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "validation_error"
        assert details(response) == [
            ("batch.0.userId", "userId or anonymousId is required"),
            ("batch.0.timestamp", "must be an ISO 8601 date-time"),
            ("batch.0.event", "a non-empty string is required"),
            ("batch.1.userId", "must be a string"),
            ("batch.1.traits", "must be an object"),
            ("batch.2.groupId", "groupId is required"),
            ("batch.3.type", "must be one of track, identify, group, page, screen; got 'alias'"),
            ("batch.4.userId", "longer than 100 characters"),
            ("batch.4.context.groupId", "must be a string"),
            ("batch.5", "must be an object"),
        ]
        assert response.json()["error"]["details"][0]["location"] == "body"
        assert rows(runtime) == 0

    @pytest.mark.parametrize(
        ("body", "code"),
        [
            (b"{not json", "invalid_json"),
            (b"[1, 2]", "validation_error"),
            (b'{"batch": 3}', "validation_error"),
        ],
    )
    def test_unreadable_bodies_get_400(self, client: TestClient, body: bytes, code: str) -> None:
        response = client.post("/v1/batch", auth=AUTH, content=body)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == code

    def test_size_limits_of_request_and_call(
        self, runtime: Runtime, make_client: MakeClient
    ) -> None:
        client = make_client(runtime, max_request_bytes=2000, max_call_bytes=300)
        big_call = track("m", properties={"text": "x" * 400})
        response = client.post("/v1/batch", auth=AUTH, json={"batch": [track("ok"), big_call]})
        assert response.status_code == 400
        assert details(response) == [("batch.1", "call larger than 300 bytes")]
        huge = {"batch": [track(str(i)) for i in range(40)]}
        response = client.post("/v1/batch", auth=AUTH, json=huge)
        assert (response.status_code, response.json()["error"]["code"]) == (
            400,
            "payload_too_large",
        )
        bomb = gzip.compress(json.dumps({**huge, "pad": "x" * 100_000}).encode())
        response = client.post(
            "/v1/batch", auth=AUTH, content=bomb, headers={"Content-Encoding": "gzip"}
        )
        assert response.status_code == 400
        assert rows(runtime) == 0

    def test_gzip_bodies_are_accepted(self, client: TestClient, runtime: Runtime) -> None:
        body = gzip.compress(json.dumps({"batch": [track("a"), track("b")]}).encode())
        response = client.post(
            "/v1/batch", auth=AUTH, content=body, headers={"Content-Encoding": "gzip"}
        )
        assert response.status_code == 200
        assert rows(runtime) == 2


class TestCapacity:
    def test_a_full_inbox_answers_429_and_stores_nothing(
        self, any_runtime: Runtime, make_client: MakeClient
    ) -> None:
        add_accounts(any_runtime, "acme")
        client = make_client(any_runtime, inbox_capacity=3, retry_after=7, full_recheck=0)
        first = client.post("/v1/batch", auth=AUTH, json={"batch": [track("1"), track("2")]})
        assert first.status_code == 200
        # Below capacity a request is accepted whole, even if it takes the inbox past it.
        second = client.post("/v1/batch", auth=AUTH, json={"batch": [track("3"), track("4")]})
        assert second.status_code == 200
        refused = client.post("/v1/track", auth=AUTH, json=track("5"))
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "7"
        assert refused.json()["error"]["code"] == "inbox_full"
        assert rows(any_runtime) == 4
        flush_inbox(any_runtime)
        assert client.post("/v1/track", auth=AUTH, json=track("5")).status_code == 200
        assert rows(any_runtime) == 1

    def test_a_small_inbox_is_checked_on_every_request(
        self, runtime: Runtime, make_client: MakeClient
    ) -> None:
        client = make_client(runtime, inbox_capacity=2, full_recheck=3600)
        assert client.post("/v1/track", auth=AUTH, json=track("1")).status_code == 200
        assert client.post("/v1/track", auth=AUTH, json=track("2")).status_code == 200
        assert client.post("/v1/track", auth=AUTH, json=track("3")).status_code == 429

    def test_a_full_verdict_is_reused_for_a_while(
        self, runtime: Runtime, make_client: MakeClient
    ) -> None:
        client = make_client(runtime, inbox_capacity=1, full_recheck=3600)
        assert client.post("/v1/track", auth=AUTH, json=track("1")).status_code == 200
        assert client.post("/v1/track", auth=AUTH, json=track("2")).status_code == 429
        with runtime.engine.begin() as conn:
            conn.execute(delete(InboxMessage))
        assert client.post("/v1/track", auth=AUTH, json=track("2")).status_code == 429


def test_an_unreachable_database_answers_503_with_retry_after(runtime: Runtime) -> None:
    dead = make_engine("postgresql://postgres@127.0.0.1:9/none")  # nothing listens on port 9
    broken = Runtime(settings=runtime.settings, engine=dead, sessions=make_sessionmaker(dead))
    app = create_app(broken)
    install_tracking(app, TrackingSettings(retry_after=3))
    with TestClient(app) as client:
        response = client.post("/v1/track", auth=AUTH, json=track("m"))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "3"


def test_openapi_documents_the_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for name in ("track", "identify", "group", "page", "screen", "batch"):
        operation = paths[f"/v1/{name}"]["post"]
        assert operation["description"] and "429" in operation["responses"]
