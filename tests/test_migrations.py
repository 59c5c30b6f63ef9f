"""Migrations that move data: rows written before a revision read right after it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import insert, text

from tenure.accounts.models import Account
from tenure.db import make_engine, table_of, upgrade


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'm.db'}"
    url: str = request.getfixturevalue("pg_database_url")
    return url


def test_0005_fills_severity_rank_and_snapshot_arr(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0004")
        day = dt.date(2026, 6, 30)
        with engine.begin() as c:
            c.execute(insert(table_of(Account)).values(id=1, external_id="A", name="A"))
            for n, severity in enumerate(("low", "critical", "high", "medium", "odd"), start=1):
                c.execute(
                    text(
                        "INSERT INTO alerts (id, account_id, rule_id, rule_name, category, "
                        "severity, status, expression, evidence, opened_as_of, last_seen_as_of) "
                        "VALUES (:id, 1, :rule, 'r', 'behaviour', :severity, 'open', 'x > 0', "
                        "'{}', :day, :day)"
                    ),
                    {"id": n, "rule": f"r{n}", "severity": severity, "day": day},
                )
            c.execute(
                text(
                    "INSERT INTO score_snapshots (account_id, as_of, current_value, "
                    "potential_value, value_score, quadrant, rfm_recency, rfm_frequency, "
                    "rfm_monetary, rfm_code, lifecycle_stage, health_score, health_breakdown, "
                    "value_breakdown, features) VALUES (1, :day, 1, 1, 1, 'basic', 1, 1, 1, "
                    "'111', 'mature', 50, '{}', '{}', :features)"
                ),
                {"day": day, "features": '{"arr": 12345.5, "days_since_login": 3}'},
            )
            c.execute(
                text("INSERT INTO latest_scores (account_id, as_of) VALUES (1, :day)"),
                {"day": day},
            )
        upgrade(engine)
        with engine.connect() as c:
            ranks = dict(c.execute(text("SELECT severity, severity_rank FROM alerts")).all())
            arr = c.execute(text("SELECT arr FROM score_snapshots")).scalar_one()
            latest_arr = c.execute(text("SELECT arr FROM latest_scores")).scalar_one()
            days = c.execute(text("SELECT count(*) FROM portfolio_days")).scalar_one()
        assert ranks == {"low": 1, "medium": 2, "high": 3, "critical": 4, "odd": 0}
        assert arr == latest_arr == 12345.5
        assert days == 0  # filled on first read
    finally:
        engine.dispose()
