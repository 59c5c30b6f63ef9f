"""The dashboard's queries on the small book."""

from __future__ import annotations

import datetime as dt

from tests.accounts.conftest import LATEST, OLD

from tenure.kit.runtime import Runtime
from tenure.web import queries


def test_at_risk_trend_keeps_past_dates_and_recounts_the_latest(
    runtime: Runtime, book: dict[str, int]
) -> None:
    cache: dict[dt.date, tuple[int, int]] = {}
    with runtime.sessions() as s:
        first = queries.at_risk_trend(s, cache=cache)
        assert first == [
            {"as_of": OLD.isoformat(), "scored": 3, "at_risk": 1},  # Acme at 35
            {"as_of": LATEST.isoformat(), "scored": 3, "at_risk": 1},  # Gamma at 20
        ]
        assert cache == {OLD: (3, 1)}  # the latest date may still be re-scored
        cache[OLD] = (3, 2)
        again = queries.at_risk_trend(s, cache=cache)
        assert [p["at_risk"] for p in again] == [2, 1]
        assert queries.at_risk_trend(s, dates=1) == first[1:]


def test_dashboard_aggregates(runtime: Runtime, book: dict[str, int]) -> None:
    with runtime.sessions() as s:
        assert queries.health_histogram(s, LATEST) == [0, 0, 1, 0, 0, 1, 0, 0, 1, 0]
        assert queries.arr_totals(s) == {"total": 250_000.0, "at_risk": 130_000.0}
        at_risk = queries.account_summaries(s, queries.at_risk_ids(s, LATEST, 10))
        assert [a.external_id for a in at_risk] == ["GAMMA", "BETA"]
        points = queries.quadrant_points(s, LATEST, limit=2)
        assert [(p["key"], p["arr"]) for p in points] == [("ACME", 120_000.0), ("GAMMA", 100_000.0)]
    assert queries.stage_funnel({"mature": 2, "legacy": 1}) == [
        {"stage": "onboarding", "count": 0},
        {"stage": "growth", "count": 0},
        {"stage": "mature", "count": 2},
        {"stage": "declining", "count": 0},
        {"stage": "legacy", "count": 1},
    ]
