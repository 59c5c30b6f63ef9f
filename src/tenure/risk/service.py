"""Risk rules against the feature table, and the alert lifecycle they drive.

An alert is one *episode* of a rule firing for an account: it opens on the first as-of date
the rule fires, stays open (its evidence refreshed) while the rule keeps firing, and closes on
the first as-of date it does not. The episode is open while `closed_as_of` is null, whatever
a person did with it: a dismissed alert is not raised again until its signal has cleared.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tenure.analytics.catalog import FEATURE_NAMES
from tenure.config import RiskRule
from tenure.db import table_of
from tenure.kit.bulk import insert_columns, json_lines, update_columns
from tenure.risk.language import CompiledRule, compile_rule
from tenure.risk.models import OPEN_STATUSES, SEVERITY_RANK, Alert, AlertStatus

# Ids per IN (...) list: well under SQLite's limit on bound parameters.
_ID_CHUNK = 5000


@dataclass(frozen=True)
class Firing:
    """One rule firing for one account; `evidence` is the JSON object of the feature values
    that made it fire, plus the expression and the as-of date."""

    account_id: int
    rule: RiskRule
    evidence: str


@dataclass
class AlertChanges:
    opened: int = 0
    refreshed: int = 0
    closed: int = 0
    opened_by_rule: dict[str, int] = field(default_factory=dict)


def compile_rules(rules: Sequence[RiskRule]) -> list[tuple[RiskRule, CompiledRule]]:
    """Compile every enabled rule against the feature catalogue."""
    return [(r, compile_rule(r.expression, FEATURE_NAMES)) for r in rules if r.enabled]


def evaluate_rules(
    features: pd.DataFrame,
    rules: Sequence[tuple[RiskRule, CompiledRule]],
    as_of: dt.date | None = None,
) -> list[Firing]:
    """Every (account, rule) that fires on `features` (indexed by account id).

    Evidence is serialised column-wise: at 100k accounts a dict per firing costs seconds.
    """
    firings: list[Firing] = []
    day = f',"as_of":"{as_of.isoformat()}"' if as_of is not None else ""
    for rule, compiled in rules:
        mask = compiled.evaluate(features)
        if not mask.any():
            continue
        hits = features.loc[mask, list(compiled.features)]
        tail = f'"expression":{json.dumps(rule.expression, ensure_ascii=False)}{day}}}'
        lines = json_lines(hits.apply(pd.to_numeric, errors="coerce").astype("float64"))
        for account_id, line in zip(hits.index.tolist(), lines, strict=True):
            body = line[:-1] + "," if len(line) > 2 else "{"
            firings.append(Firing(int(account_id), rule, body + tail))
    return firings


def reconcile_alerts(
    session: Session,
    *,
    as_of: dt.date,
    firings: Sequence[Firing],
    scored_accounts: Sequence[int],
    enabled_rules: Sequence[str],
    churned_accounts: Sequence[int] = (),
) -> AlertChanges:
    """Open, refresh and close alert episodes so they match `firings` as of `as_of`.

    Episodes of scored accounts whose rule no longer fires close; so do episodes of rules
    that were disabled, and every episode of an account that churned by `as_of`.
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

    new: list[Firing] = []
    seen: list[tuple[Any, Firing]] = []
    for f in firings:
        episode = active.get((f.account_id, f.rule.id))
        if episode is None:
            new.append(f)
            changes.opened_by_rule[f.rule.id] = changes.opened_by_rule.get(f.rule.id, 0) + 1
        elif as_of >= episode.last_seen_as_of:
            seen.append((episode, f))

    enabled = set(enabled_rules)
    churned = set(churned_accounts)

    def close_note(account_id: int, rule_id: str) -> str | None:
        if account_id in churned:
            return "account churned"
        return None if rule_id in enabled else "rule disabled or removed"

    closing = [
        (episode.id, close_note(account_id, rule_id))
        for (account_id, rule_id), episode in active.items()
        if (account_id, rule_id) not in firing_keys
        and episode.opened_as_of <= as_of
        and (account_id in scored or account_id in churned or rule_id not in enabled)
    ]

    table = table_of(Alert)
    connection = session.connection()
    insert_columns(
        connection,
        table,
        {
            "account_id": [f.account_id for f in new],
            "rule_id": [f.rule.id for f in new],
            "rule_name": [f.rule.name for f in new],
            "category": [f.rule.category for f in new],
            "severity": [f.rule.severity for f in new],
            "severity_rank": [SEVERITY_RANK.get(f.rule.severity, 0) for f in new],
            "status": [AlertStatus.OPEN.value] * len(new),
            "expression": [f.rule.expression for f in new],
            "evidence": [f.evidence for f in new],
            "opened_as_of": [as_of] * len(new),
            "last_seen_as_of": [as_of] * len(new),
        },
        json_text={"evidence"},
    )
    update_columns(
        connection,
        table,
        {
            "id": [e.id for e, _ in seen],
            "evidence": [f.evidence for _, f in seen],
            "last_seen_as_of": [as_of] * len(seen),
            "opened_as_of": [min(e.opened_as_of, as_of) for e, _ in seen],
            "severity": [f.rule.severity for _, f in seen],
            "severity_rank": [SEVERITY_RANK.get(f.rule.severity, 0) for _, f in seen],
        },
        json_text={"evidence"},
    )
    if closing:
        ids = [alert_id for alert_id, _ in closing]
        for start in range(0, len(ids), _ID_CHUNK):
            connection.execute(
                update(table)
                .where(
                    table.c.id.in_(ids[start : start + _ID_CHUNK]),
                    table.c.status.in_(OPEN_STATUSES),
                )
                .values(status=AlertStatus.CLOSED.value)
            )
        update_columns(
            connection,
            table,
            {
                "id": ids,
                "closed_as_of": [as_of] * len(ids),
                "resolution_note": [note for _, note in closing],
            },
        )
    changes.opened = len(new)
    changes.refreshed = len(seen)
    changes.closed = len(closing)
    return changes
