"""Each trigger type enrols exactly the accounts it should, once; conditions and
re-enrolment rules decide who may run again."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select

from tenure.accounts.models import Account
from tenure.engagement.models import PlaybookRun
from tenure.engagement.schemas import PlaybookWrite, ScheduleTrigger
from tenure.engagement.service import create_playbook
from tenure.engagement.triggers import on_events, on_scored, period_key, run_schedules
from tenure.kit.runtime import Runtime
from tenure.risk.models import Alert
from tenure.scoring.models import ScoreSnapshot

PREV, DAY = dt.date(2026, 11, 20), dt.date(2026, 11, 27)
NOW = dt.datetime(2026, 11, 27, 4, 0)
TASK = [{"action": "task", "title": "Call {{ account.name }}"}]


def _snapshot(account_id: int, day: dt.date, **values: Any) -> ScoreSnapshot:
    row: dict[str, Any] = {
        "current_value": 50.0, "potential_value": 50.0, "value_score": 50.0, "quadrant": "basic",
        "rfm_recency": 3, "rfm_frequency": 3, "rfm_monetary": 3, "rfm_code": "333",
        "lifecycle_stage": "mature", "health_score": 60.0, "health_change": None,
        "health_breakdown": {}, "value_breakdown": {}, "features": {"days_since_login": 1},
    }  # fmt: skip
    row.update(values)
    return ScoreSnapshot(account_id=account_id, as_of=day, **row)


@pytest.fixture
def book(runtime: Runtime) -> dict[str, int]:
    """Four accounts: A moves growth → mature, B stays mature, C is a new customer first
    scored now (onboarding), D an old customer first scored now (onboarding)."""
    with runtime.sessions() as s, s.begin():
        accounts = {
            key: Account(external_id=key, name=f"Account {key}", customer_since=since)
            for key, since in (
                ("A", dt.date(2025, 1, 1)),
                ("B", dt.date(2024, 1, 1)),
                ("C", dt.date(2026, 11, 10)),
                ("D", dt.date(2022, 1, 1)),
            )
        }
        s.add_all(accounts.values())
        s.flush()
        ids = {k: a.id for k, a in accounts.items()}
        s.add_all(
            [
                _snapshot(ids["A"], PREV, lifecycle_stage="growth", quadrant="growth"),
                _snapshot(ids["B"], PREV, quadrant="profit"),
                _snapshot(ids["A"], DAY, features={"days_since_login": 9}),
                _snapshot(ids["B"], DAY, quadrant="profit", features={"days_since_login": 2}),
                _snapshot(ids["C"], DAY, lifecycle_stage="onboarding", quadrant="growth"),
                _snapshot(ids["D"], DAY, lifecycle_stage="onboarding"),
            ]
        )
    return ids


def _playbook(rt: Runtime, key: str, **definition: Any) -> None:
    body = PlaybookWrite.model_validate(
        {"key": key, "name": key, "definition": {"steps": TASK, **definition}}
    )
    with rt.sessions() as s, s.begin():
        create_playbook(s, "test", body)


def _runs(rt: Runtime, key: str | None = None) -> list[tuple[str, str]]:
    from tenure.engagement.models import Playbook

    with rt.sessions() as s:
        stmt = (
            select(Account.external_id, PlaybookRun.trigger_key)
            .join(Account, Account.id == PlaybookRun.account_id)
            .join(Playbook, Playbook.id == PlaybookRun.playbook_id)
            .order_by(Account.external_id, PlaybookRun.id)
        )
        if key:
            stmt = stmt.where(Playbook.key == key)
        return [tuple(r) for r in s.execute(stmt)]  # type: ignore[misc]


def _scores(rt: Runtime, day: dt.date) -> pd.DataFrame:
    with rt.sessions() as s:
        rows = s.execute(
            select(ScoreSnapshot.account_id, ScoreSnapshot.lifecycle_stage, ScoreSnapshot.quadrant)
            .where(ScoreSnapshot.as_of == day)
        ).all()  # fmt: skip
    return pd.DataFrame(rows, columns=["account_id", "lifecycle_stage", "quadrant"]).set_index(
        "account_id"
    )


def _score(rt: Runtime, day: dt.date = DAY, now: dt.datetime = NOW) -> int:
    with rt.sessions() as s, s.begin():
        return len(on_scored(s, as_of=day, scores=_scores(rt, day), now=now))


def test_stage_entry_enrols_movers_and_new_customers_once(
    runtime: Runtime, book: dict[str, int]
) -> None:
    _playbook(runtime, "to_mature", trigger={"type": "stage", "stage": "mature"})
    _playbook(runtime, "to_onboarding", trigger={"type": "stage", "stage": "onboarding"})
    assert _score(runtime) == 2
    assert _runs(runtime, "to_mature") == [("A", f"stage:mature:{DAY}")]  # B was mature already
    assert _runs(runtime, "to_onboarding") == [("C", f"stage:onboarding:{DAY}")]  # not old D
    assert _score(runtime) == 0  # the same run again enrols nobody


def test_quadrant_entry(runtime: Runtime, book: dict[str, int]) -> None:
    _playbook(runtime, "to_basic", trigger={"type": "quadrant", "quadrant": "basic"})
    _score(runtime)
    assert _runs(runtime) == [("A", f"quadrant:basic:{DAY}")]  # D is basic but not new


def test_rule_fired_and_cleared(runtime: Runtime, book: dict[str, int]) -> None:
    _playbook(runtime, "any_alert", trigger={"type": "rule", "rule": "*"}, reenrol="always")
    _playbook(
        runtime, "login_back", trigger={"type": "rule", "rule": "no_login_7d", "on": "cleared"}
    )
    alert = {"rule_name": "r", "category": "behaviour", "severity": "high", "expression": "x",
             "evidence": {"days_since_login": 9}, "last_seen_as_of": DAY}  # fmt: skip
    with runtime.sessions() as s, s.begin():
        s.add_all(
            [
                Alert(account_id=book["A"], rule_id="no_login_7d", status="open", opened_as_of=DAY, **alert),
                Alert(account_id=book["A"], rule_id="nps_drop", status="open", opened_as_of=DAY, **alert),
                Alert(account_id=book["B"], rule_id="nps_drop", status="open", opened_as_of=PREV, **alert),
                Alert(account_id=book["C"], rule_id="no_login_7d", status="closed", opened_as_of=PREV,
                      closed_as_of=DAY, **alert),
            ]
        )  # fmt: skip
    _score(runtime)
    fired = _runs(runtime, "any_alert")
    assert [a for a, _ in fired] == ["A", "A"]  # both new episodes of A; B's is old
    assert all(k.startswith("alert:") and k.endswith(":fired") for _, k in fired)
    assert [a for a, _ in _runs(runtime, "login_back")] == ["C"]
    assert _score(runtime) == 0


def test_event_trigger_matches_name_and_properties_once_per_message(
    runtime: Runtime, book: dict[str, int]
) -> None:
    _playbook(
        runtime,
        "reports",
        trigger={"type": "event", "event": "report.create", "where": {"kind": "pivot"}},
        reenrol="always",
    )
    events = [
        {"message_id": "m1", "account_id": "A", "event": "report.create",
         "properties": '{"kind": "pivot"}'},
        {"message_id": "m2", "account_id": "B", "event": "report.create",
         "properties": '{"kind": "table"}'},
        {"message_id": "m3", "account_id": "C", "event": "login", "properties": None},
        {"message_id": "m4", "account_id": "NOPE", "event": "report.create",
         "properties": '{"kind": "pivot"}'},
    ]  # fmt: skip
    for _ in range(2):  # the same batch flushed twice (a retry) enrols once
        with runtime.sessions() as s, s.begin():
            on_events(s, events, now=NOW)
    assert _runs(runtime) == [("A", "event:m1")]


def test_conditions_filter_on_the_latest_snapshot(runtime: Runtime, book: dict[str, int]) -> None:
    _playbook(runtime, "absent", trigger={"type": "schedule", "every": "day"},
              conditions="days_since_login >= 7")  # fmt: skip
    with runtime.sessions() as s, s.begin():
        run_schedules(s, now=NOW)
    assert _runs(runtime) == [("A", f"schedule:{DAY}")]


def test_schedule_enrols_once_per_period_for_its_stages(
    runtime: Runtime, book: dict[str, int]
) -> None:
    _playbook(runtime, "tips", trigger={"type": "schedule", "every": "week", "weekday": 5,
                                        "stages": ["onboarding"]})  # fmt: skip
    friday = dt.datetime(2026, 11, 27, 4, 0)  # ISO week 48, Friday
    for when in (friday, friday + dt.timedelta(days=1)):
        with runtime.sessions() as s, s.begin():
            run_schedules(s, now=when)
    assert _runs(runtime) == [("C", "schedule:2026-W48"), ("D", "schedule:2026-W48")]
    with runtime.sessions() as s, s.begin():
        run_schedules(s, now=friday + dt.timedelta(days=7))
    assert len(_runs(runtime)) == 4


def test_period_keys() -> None:
    weekly = ScheduleTrigger(type="schedule", every="week", weekday=3)
    monthly = ScheduleTrigger(type="schedule", every="month", day=15)
    assert period_key(weekly, dt.date(2026, 11, 24)) is None  # Tuesday, before Wednesday
    assert period_key(weekly, dt.date(2026, 11, 26)) == "2026-W48"
    assert period_key(monthly, dt.date(2026, 11, 14)) is None
    assert period_key(monthly, dt.date(2026, 11, 28)) == "2026-11"


@pytest.mark.parametrize(
    ("policy", "cooldown", "expected"),
    [("never", 0, 1), ("after_cooldown", 10, 2), ("always", 0, 3), ("always", 10, 2)],
)
def test_reenrolment_and_cooldown(
    runtime: Runtime, book: dict[str, int], policy: str, cooldown: int, expected: int
) -> None:
    """Three events a week apart (the first run finished): how many runs each policy allows."""
    _playbook(runtime, "p", trigger={"type": "event", "event": "login"}, reenrol=policy,
              cooldown_days=cooldown)  # fmt: skip
    for week in range(3):
        with runtime.sessions() as s, s.begin():
            started = on_events(
                s,
                [{"message_id": f"w{week}", "account_id": "A", "event": "login"}],
                now=NOW + dt.timedelta(days=7 * week),
            )
            for run in started:
                run.status = "completed"
    assert len(_runs(runtime)) == expected
