"""Risk rules against the feature table, and the alert lifecycle they drive.

An alert is one *episode* of a rule firing for an account: it opens on the first as-of date
the rule fires, stays open (its evidence refreshed) while the rule keeps firing, and closes on
the first as-of date it does not. The episode is open while `closed_as_of` is null, whatever
a person did with it: a dismissed alert is not raised again until its signal has cleared.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from tenure.analytics.catalog import FEATURE_NAMES
from tenure.config import RiskRule
from tenure.db import table_of
from tenure.risk.language import CompiledRule, compile_rule
from tenure.risk.models import OPEN_STATUSES, Alert, AlertStatus

# Ids per IN (...) list: well under SQLite's limit on bound parameters.
_ID_CHUNK = 5000


@dataclass(frozen=True)
class Firing:
    """One rule firing for one account, with the feature values that made it fire."""

    account_id: int
    rule: RiskRule
    evidence: dict[str, Any]


@dataclass
class AlertChanges:
    opened: int = 0
    refreshed: int = 0
    closed: int = 0
    opened_by_rule: dict[str, int] = field(default_factory=dict)


def _json_value(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return round(value, 4)
    return value


def compile_rules(rules: Sequence[RiskRule]) -> list[tuple[RiskRule, CompiledRule]]:
    """Compile every enabled rule against the feature catalogue."""
    return [(r, compile_rule(r.expression, FEATURE_NAMES)) for r in rules if r.enabled]


def evaluate_rules(
    features: pd.DataFrame, rules: Sequence[tuple[RiskRule, CompiledRule]]
) -> list[Firing]:
    """Every (account, rule) that fires on `features` (indexed by account id)."""
    firings: list[Firing] = []
    for rule, compiled in rules:
        mask = compiled.evaluate(features)
        hits = features.loc[mask, list(compiled.features)]
        for account_id, row in zip(hits.index, hits.itertuples(index=False), strict=True):
            evidence = {
                name: _json_value(v) for name, v in zip(compiled.features, row, strict=True)
            }
            firings.append(Firing(int(account_id), rule, evidence))
    return firings


def reconcile_alerts(
    session: Session,
    *,
    as_of: dt.date,
    firings: Sequence[Firing],
    scored_accounts: Sequence[int],
    enabled_rules: Sequence[str],
) -> AlertChanges:
    """Open, refresh and close alert episodes so they match `firings` as of `as_of`.

    Running it twice for the same date changes nothing the second time.
    """
    changes = AlertChanges()
    scored = set(scored_accounts)
    rows = session.execute(
        select(
            Alert.id, Alert.account_id, Alert.rule_id, Alert.opened_as_of, Alert.last_seen_as_of
        ).where(Alert.closed_as_of.is_(None))
    ).all()
    active = {(r.account_id, r.rule_id): r for r in rows}
    firing_keys = {(f.account_id, f.rule.id) for f in firings}

    inserts: list[dict[str, Any]] = []
    refreshes: list[dict[str, Any]] = []
    for f in firings:
        evidence = {**f.evidence, "expression": f.rule.expression, "as_of": as_of.isoformat()}
        episode = active.get((f.account_id, f.rule.id))
        if episode is None:
            inserts.append(
                {
                    "account_id": f.account_id,
                    "rule_id": f.rule.id,
                    "rule_name": f.rule.name,
                    "category": f.rule.category,
                    "severity": f.rule.severity,
                    "status": AlertStatus.OPEN.value,
                    "expression": f.rule.expression,
                    "evidence": evidence,
                    "opened_as_of": as_of,
                    "last_seen_as_of": as_of,
                }
            )
            changes.opened_by_rule[f.rule.id] = changes.opened_by_rule.get(f.rule.id, 0) + 1
        elif as_of >= episode.last_seen_as_of:
            refreshes.append(
                {
                    "_id": episode.id,
                    "_evidence": evidence,
                    "_last_seen": as_of,
                    "_opened": min(episode.opened_as_of, as_of),
                    "_severity": f.rule.severity,
                }
            )

    closing: list[dict[str, Any]] = []
    enabled = set(enabled_rules)
    for key, episode in active.items():
        account_id, rule_id = key
        if key in firing_keys or episode.opened_as_of > as_of:
            continue
        if account_id in scored or rule_id not in enabled:
            note = None if rule_id in enabled else "rule disabled or removed"
            closing.append({"_id": episode.id, "_closed": as_of, "_note": note})

    table = table_of(Alert)
    connection = session.connection()
    if inserts:
        connection.execute(insert(table), inserts)
    if refreshes:
        connection.execute(
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values(
                evidence=bindparam("_evidence"),
                last_seen_as_of=bindparam("_last_seen"),
                opened_as_of=bindparam("_opened"),
                severity=bindparam("_severity"),
            ),
            refreshes,
        )
    if closing:
        ids = [c["_id"] for c in closing]
        for start in range(0, len(ids), _ID_CHUNK):
            connection.execute(
                update(table)
                .where(
                    table.c.id.in_(ids[start : start + _ID_CHUNK]),
                    table.c.status.in_(OPEN_STATUSES),
                )
                .values(status=AlertStatus.CLOSED.value)
            )
        connection.execute(
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values(closed_as_of=bindparam("_closed"), resolution_note=bindparam("_note")),
            closing,
        )
    changes.opened = len(inserts)
    changes.refreshed = len(refreshes)
    changes.closed = len(closing)
    return changes
