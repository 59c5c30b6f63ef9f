"""Importing events into the event store: validation, generated ids, deduplication."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

from tenure.events.store import EventStore
from tenure.imports.events import message_id_for
from tenure.imports.report import ImportOptions, RowError
from tenure.imports.service import import_file
from tenure.kit.runtime import Runtime

Write = Callable[..., Path]
EVENTS = (
    "message_id,account_id,event,timestamp,feature\n"
    "m-1,A1,login,2024-03-01T09:00:00Z,\n"
    ",A1,feature.used,2024-03-01T09:05:00+08:00,reports\n"
    ",A2,login,2024-03-02 10:00:00,\n"
)


def _stored(rt: Runtime) -> list[dict[str, object]]:
    table = EventStore(rt.settings.events_path).dataset().to_table()
    columns = ["message_id", "account_id", "event", "timestamp", "properties"]
    return sorted(table.select(columns).to_pylist(), key=lambda r: str(r["timestamp"]))


class TestEventImport:
    def test_import_then_reimport_is_deduplicated(self, seeded: Runtime, write: Write) -> None:
        mapping = write("m.toml", 'attributes = ["feature"]\n')
        options = ImportOptions(mapping=mapping)
        path = write("events.csv", EVENTS)
        first = import_file(seeded, "events", path, options)
        assert (first.read, first.inserted, first.unchanged, first.rejected) == (3, 3, 0, 0)
        generated = message_id_for(
            "A1", "feature.used", dt.datetime(2024, 3, 1, 1, 5), '{"feature":"reports"}'
        )
        stored = _stored(seeded)
        assert [(e["message_id"], e["account_id"], e["event"]) for e in stored] == [
            (generated, "A1", "feature.used"),
            ("m-1", "A1", "login"),
            (message_id_for("A2", "login", dt.datetime(2024, 3, 2, 10), None), "A2", "login"),
        ]
        assert stored[0]["timestamp"] == dt.datetime(2024, 3, 1, 1, 5, tzinfo=dt.UTC)
        assert stored[0]["properties"] == '{"feature":"reports"}'

        again = import_file(seeded, "events", path, options)
        assert (again.inserted, again.unchanged, again.rejected) == (0, 3, 0)
        assert EventStore(seeded.settings.events_path).count() == 3

    def test_unknown_accounts_and_repeated_ids_are_rejected(
        self, seeded: Runtime, write: Write, tmp_path: Path
    ) -> None:
        text = (
            '{"message_id": "x", "account_id": "A1", "event": "login", "timestamp": "2024-03-01"}\n'
            '{"message_id": "x", "account_id": "A1", "event": "logout", "timestamp": "2024-03-01"}\n'
            '{"account_id": "A404", "event": "login", "timestamp": "2024-03-01"}\n'
            '{"account_id": "A1", "event": "login", "timestamp": "yesterday"}\n'
            '{"account_id": "A1", "event": "export", "timestamp": "2024-03-01",'
            ' "properties": {"rows": 10, "format": "xlsx"}}\n'
        )
        rejects = tmp_path / "events-rejects.jsonl"
        summary = import_file(
            seeded, "events", write("e.jsonl", text), ImportOptions(rejects=rejects)
        )
        assert summary.row_label == "line"
        assert summary.errors == [
            RowError(1, "message_id", "duplicate message_id 'x': also in line 2"),
            RowError(2, "message_id", "duplicate message_id 'x': also in line 1"),
            RowError(3, "account_id", "unknown account 'A404'"),
            RowError(
                4,
                "timestamp",
                "'yesterday' is not a date-time in format ISO 8601 (%Y-%m-%d or %Y-%m-%dT%H:%M:%S)",
            ),
        ]
        assert (summary.inserted, summary.rejected) == (1, 4)
        assert [e["properties"] for e in _stored(seeded)] == ['{"format":"xlsx","rows":10}']
        kept = [json.loads(line) for line in rejects.read_text().splitlines()]
        assert [(k["_row"], k["event"]) for k in kept] == [
            (1, "login"),
            (2, "logout"),
            (3, "login"),
            (4, "login"),
        ]
        assert "message_id" not in kept[2]  # absent keys stay absent

    def test_identical_rows_without_ids_are_one_event(self, seeded: Runtime, write: Write) -> None:
        text = "account_id,event,timestamp\nA1,login,2024-03-01\nA1,login,2024-03-01\n"
        summary = import_file(seeded, "events", write("e.csv", text))
        assert (summary.inserted, summary.unchanged) == (1, 1)

    def test_dry_run_and_strict_store_nothing(self, seeded: Runtime, write: Write) -> None:
        path = write("e.csv", EVENTS.replace(",A2,", ",A9,"))
        dry = import_file(seeded, "events", path, ImportOptions(dry_run=True))
        assert (dry.inserted, dry.rejected, dry.committed) == (2, 1, False)
        strict = import_file(seeded, "events", path, ImportOptions(strict=True))
        assert (strict.inserted, strict.rejected, strict.committed) == (0, 1, False)
        assert EventStore(seeded.settings.events_path).count() == 0
