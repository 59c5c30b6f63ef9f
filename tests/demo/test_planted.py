"""What the demo plants: value quadrants, lifecycle spread, churn patterns, ground truth."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from tenure.analytics.features import build_features
from tenure.events.store import EventStore
from tenure.risk.service import compile_rules, evaluate_rules

from .conftest import AS_OF, Demo, build


def _revenue_and_potential(demo: Demo) -> pd.DataFrame:
    year_ago = (AS_OF - dt.timedelta(days=365)).isoformat()
    frame = demo.frame(
        "SELECT a.external_id, a.industry_influence, a.innovation_synergy, a.growth_potential, "
        "COALESCE(SUM(o.amount), 0) AS revenue FROM accounts a LEFT JOIN orders o "
        f"ON o.account_id = a.id AND o.order_date > '{year_ago}' GROUP BY a.id"
    )
    frame["potential"] = (
        0.4 * frame.industry_influence + 0.3 * frame.innovation_synergy
        + 0.3 * frame.growth_potential
    )  # fmt: skip
    return frame


def test_every_value_quadrant_has_accounts(demo_zh: Demo) -> None:
    frame = _revenue_and_potential(demo_zh)
    high_revenue = frame.revenue >= frame.revenue.median()
    high_potential = frame.potential >= 50
    for revenue in (True, False):
        for potential in (True, False):
            count = int(((high_revenue == revenue) & (high_potential == potential)).sum())
            assert count >= 10, (revenue, potential, count)


def test_customer_since_covers_every_lifecycle_stage(demo_zh: Demo) -> None:
    since = pd.to_datetime(demo_zh.frame("SELECT customer_since FROM accounts").customer_since)
    months = (pd.Timestamp(AS_OF) - since).dt.days / 30.44
    assert (months < 3).sum() >= 5
    assert ((months >= 3) & (months < 12)).sum() >= 5
    assert (months >= 12).sum() >= 30


def test_ground_truth_matches_the_database(demo_zh: Demo) -> None:
    truth = demo_zh.truth
    assert truth["seed"] == 11 and truth["as_of"] == AS_OF.isoformat()
    accounts = demo_zh.frame("SELECT external_id, status, churn_date, attributes FROM accounts")
    assert set(accounts.external_id) == set(truth["accounts"])
    for row in accounts.itertuples():
        planted = truth["accounts"][row.external_id]
        assert f'"demo_cohort": "{planted["cohort"]}"' in row.attributes
        churned = planted["cohort"] == "churned"
        assert (row.status == "churned") == churned
        if churned:
            assert str(row.churn_date) == planted["churn_date"]
            assert planted["at_risk_from"] < planted["churn_date"]
    shares = truth["cohorts"]
    assert 0.08 <= (shares["churned"] + shares["at_risk"]) / 150 <= 0.12
    assert shares["at_risk"] >= 1 and shares["growth"] >= 20


def _daily(events: pd.DataFrame, name: str) -> pd.DataFrame:
    chosen = events[events.event == name]
    return chosen.assign(day=chosen.timestamp.dt.tz_convert("UTC").dt.date)


def test_churners_fade_and_complain_before_they_churn(demo_zh: Demo) -> None:
    events = demo_zh.events()
    logins = _daily(events, "login")
    tickets = demo_zh.frame(
        "SELECT a.external_id, t.opened_at FROM tickets t JOIN accounts a ON a.id = t.account_id "
        "WHERE t.is_complaint"
    )
    tickets["day"] = pd.to_datetime(tickets.opened_at).dt.date
    recent_complaints = earlier_complaints = 0
    churned = {e: t for e, t in demo_zh.truth["accounts"].items() if t["cohort"] == "churned"}
    assert churned
    for account, planted in churned.items():
        churn = dt.date.fromisoformat(planted["churn_date"])
        mine = logins[logins.account_id == account].day
        last_30 = mine.between(churn - dt.timedelta(days=30), churn - dt.timedelta(days=1)).sum()
        before = mine.between(churn - dt.timedelta(days=90), churn - dt.timedelta(days=61)).sum()
        assert last_30 < before, account
        gaps = np.diff(sorted(set(mine[mine >= churn - dt.timedelta(days=30)])))
        assert len(gaps) == 0 or max(g.days for g in gaps) >= 7, account
        complaints = tickets[tickets.external_id == account].day
        recent_complaints += complaints.between(churn - dt.timedelta(days=45), churn).sum()
        earlier_complaints += complaints.between(
            churn - dt.timedelta(days=90), churn - dt.timedelta(days=46)
        ).sum()
        if "complaints_up" in planted["signals"]:
            assert complaints.between(churn - dt.timedelta(days=30), churn).sum() >= 3, account
    assert recent_complaints > 2 * earlier_complaints


def test_growth_accounts_expand(demo_zh: Demo) -> None:
    growth = [e for e, t in demo_zh.truth["accounts"].items() if t["cohort"] == "growth"]
    upsold = demo_zh.frame(
        "SELECT DISTINCT a.external_id FROM subscriptions s JOIN accounts a "
        "ON a.id = s.account_id WHERE s.product NOT LIKE '智能运营平台%'"
    )
    assert len(set(upsold.external_id) & set(growth)) >= len(growth) // 2


def test_shipped_rules_catch_churners_before_they_churn(tmp_path: Path) -> None:
    """The lead's acceptance bar on a smaller set: recall >= 80%, precision >= 50%."""
    demo = build(tmp_path / "home", accounts=300, months=8, seed=5)
    try:
        config = demo.runtime.config
        rules = compile_rules(config.risk.rules)
        store = EventStore(demo.runtime.settings.events_path)
        first_alert: dict[str, dt.date] = {}
        day = dt.date.fromisoformat(demo.truth["window_start"])
        with demo.runtime.engine.connect() as conn:
            while day <= AS_OF:
                features = build_features(conn, store, day, config.features)
                for firing in evaluate_rules(features, rules):
                    account = features.loc[firing.account_id, "external_id"]
                    first_alert.setdefault(account, day)
                day += dt.timedelta(days=14)
    finally:
        demo.runtime.close()
    planted = demo.truth["accounts"]
    at_risk = {e for e, t in planted.items() if t["cohort"] in ("churned", "at_risk")}
    churned = [e for e, t in planted.items() if t["cohort"] == "churned"]
    caught = [e for e in churned if e in first_alert
              and first_alert[e] < dt.date.fromisoformat(planted[e]["churn_date"])]  # fmt: skip
    assert len(caught) >= 0.8 * len(churned)
    assert len(at_risk & set(first_alert)) >= 0.5 * len(first_alert)
