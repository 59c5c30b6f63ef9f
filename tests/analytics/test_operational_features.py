"""Operational features against hand-computed values, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from tenure.accounts.models import Account
from tenure.analytics.operational_features import compute_operational_features
from tenure.commerce.models import Order, Subscription
from tenure.feedback.models import Interaction, NpsResponse, Ticket
from tenure.kit.runtime import Runtime
from tenure.scoring.lifecycle import add_months

AS_OF = dt.date(2026, 6, 30)


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour))


def days_ago(n: int) -> dt.date:
    return AS_OF - dt.timedelta(days=n)


def _seed(rt: Runtime) -> None:
    with rt.sessions() as s, s.begin():
        a = Account(external_id="A", name="Alpha", customer_since=dt.date(2025, 3, 31))
        b = Account(external_id="B", name="Beta", customer_since=dt.date(2026, 7, 1))  # future
        c = Account(
            external_id="C",
            name="Gamma",
            customer_since=dt.date(2024, 1, 1),
            churn_date=AS_OF,  # churned on the as-of day: no longer a customer
        )
        d = Account(external_id="D", name="Delta", customer_since=dt.date(2025, 12, 31))
        s.add_all([a, b, c, d])
        s.flush()
        s.add_all(
            [
                # A: contract active through the as-of date; D: ended 31 days ago, not renewed.
                Subscription(external_id="S1", account_id=a.id, product="P", arr=1200,
                             start_date=dt.date(2025, 7, 1), end_date=AS_OF),
                Subscription(external_id="S2", account_id=d.id, product="P", arr=500,
                             start_date=dt.date(2025, 5, 30), end_date=days_ago(31)),
                # Orders: 100 today, 50 89 days ago (last 90), 400 90 days ago (previous 90),
                # 1000 exactly 12 months ago (outside the 12-month window).
                Order(external_id="O1", account_id=a.id, order_date=AS_OF, amount=100, margin=30),
                Order(external_id="O2", account_id=a.id, order_date=days_ago(89), amount=50, margin=10),
                Order(external_id="O3", account_id=a.id, order_date=days_ago(90), amount=400, margin=100),
                Order(external_id="O4", account_id=a.id, order_date=add_months(AS_OF, -12), amount=1000),
                Order(external_id="O5", account_id=a.id, order_date=AS_OF + dt.timedelta(days=1), amount=9),
                # Complaints: 3 in the last 30 days, 2 in the 30 before, 1 tomorrow (ignored).
                Ticket(external_id="T1", account_id=a.id, opened_at=at(AS_OF, 23), is_complaint=True),
                Ticket(external_id="T2", account_id=a.id, opened_at=at(days_ago(29), 0), is_complaint=True),
                Ticket(external_id="T3", account_id=a.id, opened_at=at(days_ago(10)), is_complaint=True,
                       resolved_at=at(days_ago(9))),
                Ticket(external_id="T4", account_id=a.id, opened_at=at(days_ago(30)), is_complaint=True),
                Ticket(external_id="T5", account_id=a.id, opened_at=at(days_ago(59)), is_complaint=True,
                       resolved_at=at(AS_OF + dt.timedelta(days=1), 1)),
                Ticket(external_id="T6", account_id=a.id, opened_at=at(days_ago(5)), is_complaint=False,
                       resolved_at=at(days_ago(4))),
                Ticket(external_id="T7", account_id=a.id, opened_at=at(AS_OF + dt.timedelta(days=1)),
                       is_complaint=True),
                # NPS: last 90 days 10, 9, 3, 7 -> (2 - 1) / 4 = 25; previous 90: 10, 10 -> 100.
                NpsResponse(external_id="N1", account_id=a.id, responded_at=at(AS_OF), score=10),
                NpsResponse(external_id="N2", account_id=a.id, responded_at=at(days_ago(89)), score=9),
                NpsResponse(external_id="N3", account_id=a.id, responded_at=at(days_ago(10)), score=3),
                NpsResponse(external_id="N4", account_id=a.id, responded_at=at(days_ago(11)), score=7),
                NpsResponse(external_id="N5", account_id=a.id, responded_at=at(days_ago(90)), score=10),
                NpsResponse(external_id="N6", account_id=a.id, responded_at=at(days_ago(179)), score=10),
                NpsResponse(external_id="N7", account_id=a.id, responded_at=at(days_ago(180)), score=0),
                # Public comments: one negative in 30 days counts; an older one and a positive do not.
                Interaction(external_id="I1", account_id=a.id, occurred_at=at(days_ago(29)),
                            channel="social", type="comment", sentiment="negative"),
                Interaction(external_id="I2", account_id=a.id, occurred_at=at(days_ago(30)),
                            channel="social", type="comment", sentiment="negative"),
                Interaction(external_id="I3", account_id=a.id, occurred_at=at(days_ago(1)),
                            channel="social", type="comment", sentiment="positive"),
                Interaction(external_id="I4", account_id=a.id, occurred_at=at(days_ago(1)),
                            channel="email", type="email", sentiment="negative"),
            ]
        )  # fmt: skip


def test_operational_features_hand_computed(any_runtime: Runtime) -> None:
    _seed(any_runtime)
    with any_runtime.engine.connect() as conn:
        f = compute_operational_features(conn, AS_OF, purchase_period_days=90).set_index(
            "external_id"
        )

    assert sorted(f.index) == ["A", "D"]  # B starts tomorrow, C churned on the as-of day
    a, d = f.loc["A"], f.loc["D"]
    assert a["tenure_days"] == (AS_OF - dt.date(2025, 3, 31)).days
    assert a["tenure_months"] == 15  # 2025-03-31 -> 2026-06-30 (June has no 31st)
    assert a["arr"] == 1200
    assert a["days_renewal_overdue"] == 0
    assert a["days_to_renewal"] == 0
    assert d["arr"] == 0
    assert d["days_renewal_overdue"] == 31
    assert pd.isna(d["days_to_renewal"])

    assert a["revenue_12m"] == 550  # 100 + 50 + 400, not the order exactly 12 months ago
    assert a["margin_12m"] == 140
    assert a["orders_12m"] == 3
    assert a["days_since_last_order"] == 0
    assert a["purchase_period"] == 150
    assert a["purchase_prev_period"] == 400
    assert math.isclose(a["purchase_change"], (150 - 400) / 400)
    assert pd.isna(d["purchase_change"]) and pd.isna(d["days_since_last_order"])

    assert a["complaints_30d"] == 3
    assert a["complaints_prev_30d"] == 2
    assert math.isclose(a["complaints_change"], 0.5)
    assert a["tickets_30d"] == 4
    assert a["open_tickets"] == 4  # T1, T2, T4 never resolved; T5 resolved after the as-of day

    assert a["nps_90d"] == 25
    assert a["nps_prev_90d"] == 100
    assert a["nps_change"] == -75
    assert a["nps_responses_90d"] == 4
    assert pd.isna(d["nps_90d"]) and pd.isna(d["nps_change"])
    assert a["negative_comments_30d"] == 1
    assert d["complaints_change"] == 0
