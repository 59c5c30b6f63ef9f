"""The dashboard's queries on the small book."""

from __future__ import annotations

from tests.accounts.conftest import LATEST, OLD

from tenure.kit.runtime import Runtime
from tenure.scoring.portfolio import portfolio_days
from tenure.web import queries


def test_at_risk_trend_counts_low_health_per_date(runtime: Runtime, book: dict[str, int]) -> None:
    with runtime.sessions() as s:
        trend = queries.at_risk_trend(s)
        assert trend == [
            {"as_of": OLD.isoformat(), "scored": 3, "at_risk": 1},  # Acme at 35
            {"as_of": LATEST.isoformat(), "scored": 3, "at_risk": 1},  # Gamma at 20
        ]
        assert queries.at_risk_trend(s, dates=1) == trend[1:]


def test_dashboard_figures(runtime: Runtime, book: dict[str, int]) -> None:
    with runtime.sessions() as s:
        figures = portfolio_days(s, [LATEST])[LATEST]
        assert figures["health_histogram"] == [0, 0, 1, 0, 0, 1, 0, 0, 1, 0]
        assert figures["arr"] == 250_000.0
        # Beta and Gamma have open alerts: one each of two rules, and Gamma a critical one.
        assert (figures["accounts_with_open_alerts"], figures["arr_at_risk"]) == (2, 130_000.0)
        assert sum(figures["open_alerts"].values()) == 3
        at_risk = queries.account_summaries(s, queries.at_risk_ids(s, 10))
        assert [a.external_id for a in at_risk] == ["GAMMA", "BETA"]
        assert queries.at_risk_ids(s, 1) == [book["GAMMA"]]
        points = queries.quadrant_points(figures)
        assert [(p["key"], p["arr"]) for p in points] == [
            ("ACME", 120_000.0),
            ("GAMMA", 100_000.0),
            ("BETA", 30_000.0),
        ]
        assert points[0] == {
            "key": "ACME",
            "name": points[0]["name"],
            "current": 80.0,
            "potential": 67.5,
            "quadrant": "strategic_partner",
            "arr": 120_000.0,
        }
    assert queries.stage_funnel({"mature": 2, "legacy": 1}) == [
        {"stage": "onboarding", "count": 0},
        {"stage": "growth", "count": 0},
        {"stage": "mature", "count": 2},
        {"stage": "declining", "count": 0},
        {"stage": "legacy", "count": 1},
    ]
