"""Import product-usage events into the event store (deduplicated by message id)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from tenure.events.schema import EVENT_SCHEMA
from tenure.imports import repository as repo
from tenure.imports.fields import EntitySpec
from tenure.imports.readers import SourceTable
from tenure.imports.rejects import finish_rejects
from tenure.imports.report import ImportOptions, ImportSummary, RowError
from tenure.imports.validate import Candidate, Layout, column_of
from tenure.kit.runtime import Runtime


def canonical_properties(properties: dict[str, Any] | None) -> str | None:
    """Properties as JSON text with sorted keys, so equal objects give equal text."""
    if properties is None:
        return None
    return json.dumps(properties, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def message_id_for(
    account_id: str, event: str, timestamp: dt.datetime, properties: str | None
) -> str:
    """Deterministic message id of an event that has none: re-importing it is a no-op."""
    stamp = timestamp.replace(tzinfo=None).isoformat(timespec="microseconds")
    payload = json.dumps([account_id, event, stamp, properties], ensure_ascii=False)
    return "imp-" + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def to_event_rows(rows: list[Candidate]) -> tuple[list[dict[str, Any]], int]:
    """Event rows in EVENT_SCHEMA order and how many repeated an earlier row exactly."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    repeats = 0
    for cand in rows:
        values = cand.values
        props = canonical_properties(values.get("properties"))
        stamp: dt.datetime = values["timestamp"]
        message_id = values.get("message_id") or message_id_for(
            values["account_id"], values["event"], stamp, props
        )
        if message_id in seen:  # only generated ids repeat here: explicit ones were rejected
            repeats += 1
            continue
        seen.add(message_id)
        out.append(
            {
                "message_id": message_id,
                "account_id": values["account_id"],
                "contact_id": values.get("contact_id"),
                "event": values["event"],
                "timestamp": stamp.replace(tzinfo=dt.UTC),
                "properties": props,
            }
        )
    return out, repeats


def import_events(
    runtime: Runtime,
    spec: EntitySpec,
    table: SourceTable,
    layout: Layout,
    rows: list[Candidate],
    summary: ImportSummary,
    rejects_path: Path,
    options: ImportOptions,
) -> ImportSummary:
    """Check accounts, write rejects, then append the accepted events in one store commit."""
    keys = {c.values["account_id"] for c in rows if c.values.get("account_id") is not None}
    with runtime.engine.connect() as conn:
        known = repo.account_ids(conn, keys)
    column = column_of(layout, "account_id")
    for cand in rows:
        account = cand.values.get("account_id")
        if account is not None and account not in known:
            cand.errors.append(RowError(cand.source.number, column, f"unknown account {account!r}"))
    accepted = finish_rejects(summary, table, rows, rejects_path)
    if options.strict and summary.rejected:
        return summary
    events, repeats = to_event_rows(accepted)
    summary.unchanged = repeats
    if options.dry_run:
        summary.inserted = len(events)
        return summary
    if events:
        from tenure.events.store import EventStore

        arrow = pa.Table.from_pylist(events, schema=EVENT_SCHEMA)
        result = EventStore(runtime.settings.events_path).append(arrow)
        summary.inserted = result.added
        summary.unchanged += result.duplicates
    summary.committed = True
    return summary
