"""The inbox's SQL and the pure parts: group commit, exact deletes, capacity, call rules."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from tenure.db import make_engine
from tenure.kit.runtime import Runtime
from tenure.tracking.api import key_from_header
from tenure.tracking.calls import event_time
from tenure.tracking.inbox import (
    INBOX,
    InboxWriter,
    delete_rows,
    id_runs,
    inbox_is_full,
    insert_calls,
)
from tenure.tracking.plan import plan_batch

NOW = dt.datetime(2026, 6, 1, 12)


def calls(*ids: str) -> list[tuple[str, str, str]]:
    return [(i, "track", f'{{"messageId": "{i}"}}') for i in ids]


def stored_ids(runtime: Runtime) -> list[str]:
    with runtime.engine.connect() as conn:
        return list(conn.scalars(select(INBOX.c.message_id).order_by(INBOX.c.id)))


class TestInboxWriter:
    def test_concurrent_requests_are_each_committed_once(self, any_runtime: Runtime) -> None:
        writer = InboxWriter()
        errors: list[BaseException] = []

        def request(n: int) -> None:
            try:  # neighbours overlap: every id is sent by two requests
                writer.write(any_runtime.engine, calls(*(f"m{k}" for k in range(n, n + 20))), NOW)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=request, args=(n * 10,)) for n in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        ids = stored_ids(any_runtime)
        assert sorted(ids) == sorted(f"m{k}" for k in range(170))

    def test_a_failed_write_raises_and_does_not_wedge_the_writer(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        writer = InboxWriter()
        empty = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # no tables
        with pytest.raises(OperationalError):
            writer.write(empty, calls("a"), NOW)
        empty.dispose()
        writer.write(runtime.engine, calls("b"), NOW)
        assert stored_ids(runtime) == ["b"]


class TestInsert:
    def test_stores_ids_and_payloads_exactly_in_order_and_skips_known_ids(
        self, any_runtime: Runtime
    ) -> None:
        tricky = [
            ('q"uote\\back', "track", '{"event":"say \\"hi\\"","props":{"zh":"中文 ✓"}}'),
            ("plain", "identify", '{"traits":{"name":"Li Lei"},"n":1.5e3}'),
            ("zh-消息", "group", "{}"),
        ]
        with any_runtime.engine.begin() as conn:
            assert insert_calls(conn, tricky, NOW) == 3
            assert insert_calls(conn, [*calls("new"), tricky[1]], NOW) == 1
            stored = conn.execute(
                select(
                    INBOX.c.message_id, INBOX.c.kind, INBOX.c.payload, INBOX.c.received_at
                ).order_by(INBOX.c.id)
            ).all()
        assert [tuple(row[:3]) for row in stored] == [*tricky, *calls("new")]
        assert {row[3] for row in stored} == {NOW}


class TestDeletes:
    def test_runs_of_consecutive_ids(self) -> None:
        assert id_runs([7, 3, 4, 5, 9, 10, 1]) == [(1, 1), (3, 5), (7, 7), (9, 10)]
        assert id_runs([]) == []

    def test_deletes_exactly_the_ids_read(self, any_runtime: Runtime) -> None:
        with any_runtime.engine.begin() as conn:
            insert_calls(conn, calls(*"abcdefg"), NOW)
            ids = list(conn.scalars(select(INBOX.c.id).order_by(INBOX.c.id)))
            # Rows b and e were not read (say, they committed late): they must stay.
            assert delete_rows(conn, [ids[0], ids[2], ids[3], ids[5], ids[6]]) == 5
        assert stored_ids(any_runtime) == ["b", "e"]


class TestCapacity:
    def test_counts_exactly_when_ids_have_gaps(self, any_runtime: Runtime) -> None:
        with any_runtime.engine.begin() as conn:
            insert_calls(conn, calls(*"abcdef"), NOW)
            ids = list(conn.scalars(select(INBOX.c.id).order_by(INBOX.c.id)))
            delete_rows(conn, ids[1:5])  # two rows left, but the id span is six
            assert conn.scalar(select(func.count()).select_from(INBOX)) == 2
            assert not inbox_is_full(conn, 3)
            assert inbox_is_full(conn, 2)
            delete_rows(conn, [ids[0], ids[5]])
            assert not inbox_is_full(conn, 1)


class TestCallRules:
    @pytest.mark.parametrize(
        ("times", "expected"),
        [
            ({"timestamp": NOW}, NOW),
            ({"originalTimestamp": NOW}, NOW),
            # the device clock is 1 h fast; sent 5 minutes after the event
            ({"originalTimestamp": NOW, "sentAt": NOW + dt.timedelta(minutes=5)},
             dt.datetime(2026, 6, 1, 13) - dt.timedelta(minutes=5)),
            ({}, dt.datetime(2026, 6, 1, 13)),
        ],
    )  # fmt: skip
    def test_event_time(self, times: dict[str, dt.datetime], expected: dt.datetime) -> None:
        full: dict[str, dt.datetime | None] = {
            "timestamp": None, "originalTimestamp": None, "sentAt": None, "receivedAt": None,
            **times,
        }  # fmt: skip
        assert event_time(full, received_at=dt.datetime(2026, 6, 1, 13)) == expected

    def test_write_key_from_the_authorization_header(self) -> None:
        assert key_from_header(None) is None
        assert key_from_header("Basic dG5yX2tleTo=") == "tnr_key"  # "tnr_key:"
        assert key_from_header("Basic dG5yX2tleQ==") == "tnr_key"  # no colon
        assert key_from_header("Bearer tnr_key") == "tnr_key"
        assert key_from_header("Basic %%%") == ""


def call(kind: str, message_id: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "messageId": message_id, "timestamp": "2026-06-01T12:00:00+00:00",
            **fields}  # fmt: skip


class TestPlan:
    def test_group_moves_a_user_but_identify_only_places_an_unplaced_one(self) -> None:
        plan = plan_batch(
            [
                call("identify", "1", userId="u1", context={"groupId": "b"}),  # u1 is in a
                call("track", "2", userId="u1", event="x"),
                call("group", "3", userId="u1", groupId="b"),
                call("track", "4", userId="u1", event="x"),
                call("identify", "5", userId="u2", context={"groupId": "b"}),
            ],
            [True] * 5,
            links={"u1": "a"},
            known_accounts={"a", "b"},
            waiting_users=set(),
        )
        assert [(e["message_id"], e["account_id"]) for e in plan.events] == [("2", "a"), ("4", "b")]
        assert plan.contacts["u1"].account == "b" and plan.contacts["u2"].account == "b"

    def test_unreadable_rows_are_set_aside(self) -> None:
        plan = plan_batch(
            [
                {"type": None, "_payload": "{"},
                call("track", "2", userId="u1", event="x", context={"groupId": "a"}),
                call("track", "3", userId="u1", context={"groupId": "a"}),  # no event
            ],
            [True] * 3, {}, set(), set(),
        )  # fmt: skip
        assert [e["message_id"] for e in plan.events] == ["2"]
        assert [(i, reason.split(":")[0]) for i, reason in plan.rejected] == [
            (0, "not a track, identify or group call"),
            (2, "malformed inbox row"),
        ]
