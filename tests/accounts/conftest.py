"""A small book of accounts, built with the ORM, shared by the account tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tenure.accounts.models import Account, Contact, User
from tenure.commerce.models import Subscription
from tenure.db import transaction
from tenure.feedback.models import Interaction, NpsResponse, Ticket
from tenure.kit.runtime import Runtime
from tenure.risk.models import Alert
from tenure.scoring.models import ScoreSnapshot

OLD = dt.date(2024, 5, 31)
LATEST = dt.date(2024, 6, 30)


def snapshot(account: Account, as_of: dt.date, **scores: Any) -> ScoreSnapshot:
    """A snapshot with plausible defaults; `scores` overrides any column."""
    health = scores.pop("health_score", 50.0)
    values: dict[str, Any] = {
        "current_value": 50.0,
        "potential_value": 50.0,
        "value_score": 50.0,
        "quadrant": "basic",
        "rfm_recency": 3,
        "rfm_frequency": 3,
        "rfm_monetary": 3,
        "rfm_code": "333",
        "lifecycle_stage": "mature",
        "health_change": None,
        "health_breakdown": {
            "days_since_login": {"value": 2, "score": 92.3, "weight": 0.6, "points": 55.4},
            "core_usage": {"value": 0.5, "score": 57.1, "weight": 0.4, "points": 22.9},
        },
        "value_breakdown": {
            "current": {"revenue_12m": 60.0},
            "potential": {"growth_potential": 40.0},
        },
        "features": {"days_since_login": 2, "core_usage": 0.5},
    }
    values.update(scores)
    return ScoreSnapshot(account_id=account.id, as_of=as_of, health_score=health, **values)


def alert(account: Account, rule_id: str, severity: str, status: str, **extra: Any) -> Alert:
    """An alert of `rule_id` on `account`."""
    values: dict[str, Any] = {
        "rule_name": rule_id.replace("_", " ").capitalize(),
        "category": "behaviour",
        "expression": f"{rule_id} > 0",
        "evidence": {rule_id: 1, "expression": f"{rule_id} > 0"},
        "opened_as_of": OLD,
        "last_seen_as_of": LATEST,
    }
    values.update(extra)
    return Alert(account_id=account.id, rule_id=rule_id, severity=severity, status=status, **values)


def build_book(rt: Runtime) -> dict[str, int]:
    """Five accounts (two never scored), two snapshots each for the scored ones, alerts, timeline.

    Returns the database ids by key (users by name, accounts by external id, alerts by label).
    """
    with transaction(rt.sessions) as s:
        alice = User(external_id="u-alice", email="alice@example.com", name="Alice Chen")
        bob = User(external_id="u-bob", email="Bob@Example.com", name="Bob Li")
        carol = User(external_id="u-carol", email="carol@example.com", name="Carol Wu")
        s.add_all([alice, bob, carol])
        s.flush()
        acme = Account(
            external_id="ACME",
            name="Acme Manufacturing",
            industry="manufacturing",
            region="East",
            owner_id=alice.id,
            customer_since=dt.date(2022, 1, 10),
            size="large",
            employees=5000,
            industry_influence=80,
            innovation_synergy=70,
            growth_potential=60,
            strategic_goal="cost_reduction",
            attributes={"tier": "gold"},
        )
        beta = Account(
            external_id="BETA",
            name="Beta Retail",
            region="South",
            owner_id=bob.id,
            customer_since=dt.date(2024, 1, 5),
        )
        gamma = Account(
            external_id="GAMMA",
            name="Gamma Tech",
            region="North",
            owner_id=alice.id,
            customer_since=dt.date(2021, 3, 1),
        )
        delta = Account(
            external_id="DELTA",
            name="Delta Foods 100%_off",
            status="churned",
            churn_date=dt.date(2024, 4, 1),
            churn_reason="budget",
        )
        eps = Account(external_id="90210", name="Epsilon Labs", owner_id=bob.id, status="paused")
        s.add_all([acme, beta, gamma, delta, eps])
        s.flush()
        s.add_all(
            [
                # The old snapshots disagree with the latest ones on every filterable score.
                snapshot(acme, OLD, health_score=35.0, quadrant="growth", lifecycle_stage="growth"),
                snapshot(
                    acme,
                    LATEST,
                    health_score=82.0,
                    health_change=47.0,
                    value_score=75.0,
                    current_value=80.0,
                    potential_value=67.5,
                    quadrant="strategic_partner",
                    arr=120_000.0,
                    rfm_recency=5,
                    rfm_frequency=4,
                    rfm_monetary=5,
                    rfm_code="545",
                ),
                snapshot(
                    beta, OLD, health_score=60.0, quadrant="basic", lifecycle_stage="onboarding"
                ),
                snapshot(
                    beta,
                    LATEST,
                    health_score=55.0,
                    health_change=-5.0,
                    value_score=45.0,
                    arr=30_000.0,
                    quadrant="growth",
                    lifecycle_stage="growth",
                ),
                snapshot(gamma, OLD, health_score=90.0, quadrant="strategic_partner"),
                snapshot(
                    gamma,
                    LATEST,
                    health_score=20.0,
                    health_change=-70.0,
                    value_score=65.0,
                    arr=100_000.0,
                    quadrant="profit",
                    lifecycle_stage="declining",
                ),
            ]
        )
        alerts = {
            "acme_closed": alert(acme, "no_login_7d", "medium", "closed", closed_as_of=LATEST),
            "beta_open": alert(
                beta,
                "no_login_7d",
                "medium",
                "open",
                evidence={"days_since_login": 9, "expression": "days_since_login >= 7"},
                opened_as_of=dt.date(2024, 6, 20),
            ),
            "beta_ack": alert(
                beta,
                "renewal_overdue",
                "high",
                "acknowledged",
                category="transaction",
                opened_as_of=dt.date(2024, 6, 1),
            ),
            "gamma_critical": alert(
                gamma,
                "cancel_attempts",
                "critical",
                "open",
                assignee_id=bob.id,
                opened_as_of=dt.date(2024, 6, 10),
            ),
            "gamma_resolved": alert(
                gamma, "nps_drop", "low", "resolved", closed_as_of=LATEST, category="feedback"
            ),
        }
        s.add_all(alerts.values())
        s.add_all(
            [
                Subscription(
                    external_id="S1",
                    account_id=acme.id,
                    product="Suite",
                    arr=120000,
                    mrr=10000,
                    start_date=dt.date(2023, 7, 1),
                    end_date=dt.date(2025, 6, 30),
                    auto_renew=True,
                ),
                Subscription(
                    external_id="S0",
                    account_id=acme.id,
                    product="Suite",
                    arr=50000,
                    mrr=4166.67,
                    start_date=dt.date(2022, 1, 10),
                    end_date=dt.date(2023, 6, 30),
                    status="expired",
                ),
                Subscription(
                    external_id="S2",
                    account_id=beta.id,
                    product="Lite",
                    arr=30000,
                    mrr=2500,
                    start_date=dt.date(2024, 1, 5),
                    end_date=dt.date(2024, 5, 1),
                ),
                Subscription(
                    external_id="S3",
                    account_id=gamma.id,
                    product="Suite",
                    arr=80000,
                    mrr=6666.67,
                    start_date=dt.date(2021, 3, 1),
                ),
                Subscription(
                    external_id="S4",
                    account_id=gamma.id,
                    product="Add-on",
                    arr=20000,
                    mrr=1666.67,
                    start_date=dt.date(2023, 3, 1),
                ),
                Subscription(
                    external_id="S5",
                    account_id=delta.id,
                    product="Lite",
                    arr=10000,
                    mrr=833,
                    start_date=dt.date(2023, 1, 1),
                    status="cancelled",
                ),
            ]
        )
        wang = Contact(
            external_id="C1",
            account_id=acme.id,
            name="Wang Wei",
            role="user",
            channel_preference="wecom",
            format_preference="video",
        )
        li = Contact(
            external_id="C2",
            account_id=acme.id,
            name="Li Na",
            role="decision_maker",
            title="CFO",
            email="li.na@acme.example",
            channel_preference="email",
            format_preference="document",
            opt_out_channels=["sms"],
        )
        s.add_all([wang, li])
        s.flush()
        s.add_all(
            [
                Interaction(
                    external_id=f"I{n}",
                    account_id=acme.id,
                    contact_id=contact,
                    user_id=alice.id,
                    occurred_at=when,
                    channel=channel,
                    type=kind,
                    summary=summary,
                    direction=direction,
                    sentiment=sentiment,
                )
                for n, (when, channel, kind, summary, direction, sentiment, contact) in enumerate(
                    [
                        (
                            dt.datetime(2024, 6, 1, 9),
                            "email",
                            "onboarding",
                            "Welcome pack",
                            "outbound",
                            None,
                            wang.id,
                        ),
                        (
                            dt.datetime(2024, 6, 20, 15),
                            "phone",
                            "qbr",
                            "Quarterly review",
                            "outbound",
                            "positive",
                            li.id,
                        ),
                        (
                            dt.datetime(2024, 6, 10, 11),
                            "social",
                            "comment",
                            "Slow exports",
                            "inbound",
                            "negative",
                            None,
                        ),
                    ]
                )
            ]
        )
        s.add_all(
            [
                Ticket(
                    external_id="T1",
                    account_id=acme.id,
                    opened_at=dt.datetime(2024, 6, 2),
                    resolved_at=dt.datetime(2024, 6, 3),
                    is_complaint=True,
                ),
                Ticket(
                    external_id="T2",
                    account_id=acme.id,
                    opened_at=dt.datetime(2024, 6, 25),
                    is_complaint=True,
                ),
                Ticket(
                    external_id="T3",
                    account_id=acme.id,
                    opened_at=dt.datetime(2024, 6, 5),
                    resolved_at=dt.datetime(2024, 6, 6),
                ),
                NpsResponse(
                    external_id="N1",
                    account_id=acme.id,
                    score=6,
                    responded_at=dt.datetime(2024, 3, 1),
                    comment="ok",
                ),
                NpsResponse(
                    external_id="N2",
                    account_id=acme.id,
                    score=9,
                    responded_at=dt.datetime(2024, 6, 15),
                    comment="great support",
                ),
            ]
        )
        s.flush()
        ids = {u.name.split()[0].lower(): u.id for u in (alice, bob, carol)}
        ids.update({a.external_id: a.id for a in (acme, beta, gamma, delta, eps)})
        ids.update({label: a.id for label, a in alerts.items()})
    return ids


@pytest.fixture
def book(runtime: Runtime) -> dict[str, int]:
    """The small book of accounts in the SQLite `runtime`."""
    return build_book(runtime)


@pytest.fixture
def any_book(any_runtime: Runtime) -> tuple[Runtime, dict[str, int]]:
    """The same book on SQLite and on PostgreSQL."""
    return any_runtime, build_book(any_runtime)
