"""The scoring run end to end: snapshots, idempotency, alert episodes, SQLite = PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy import select, update

from tenure.accounts.models import Account
from tenure.commerce.models import Order, Subscription
from tenure.events.schema import EVENT_SCHEMA
from tenure.events.store import EventStore
from tenure.feedback.models import NpsResponse, Ticket
from tenure.kit.runtime import Runtime
from tenure.risk.models import Alert
from tenure.scoring.cli import run_score
from tenure.scoring.models import ScoreSnapshot
from tenure.scoring.service import as_of_dates

D = dt.date(2026, 5, 31)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def ago(n: int, day: dt.date = D) -> dt.date:
    return day - dt.timedelta(days=n)


def seed(rt: Runtime) -> None:
    """Three accounts: a healthy one, one that stopped logging in and complains, a new one."""
    with rt.sessions() as s, s.begin():
        healthy = Account(
            external_id="H",
            name="Healthy",
            customer_since=dt.date(2024, 1, 10),
            industry_influence=80,
            innovation_synergy=70,
            growth_potential=60,
        )
        risky = Account(
            external_id="R",
            name="Risky",
            customer_since=dt.date(2025, 2, 1),
            industry_influence=20,
            innovation_synergy=30,
            growth_potential=10,
        )
        new = Account(
            external_id="N",
            name="New",
            customer_since=ago(20),
            industry_influence=60,
            innovation_synergy=60,
            growth_potential=90,
        )
        s.add_all([healthy, risky, new])
        s.flush()
        s.add_all(
            [
                Subscription(external_id="SH", account_id=healthy.id, product="Pro", arr=50000,
                             start_date=dt.date(2026, 1, 10), end_date=dt.date(2027, 1, 9)),
                Subscription(external_id="SR", account_id=risky.id, product="Basic", arr=8000,
                             start_date=dt.date(2025, 2, 1), end_date=dt.date(2026, 1, 31)),
                Subscription(external_id="SN", account_id=new.id, product="Pro", arr=20000,
                             start_date=ago(20), end_date=ago(20) + dt.timedelta(days=364)),
                Order(external_id="OH1", account_id=healthy.id, order_date=dt.date(2026, 1, 10), amount=50000, margin=30000),
                Order(external_id="OH2", account_id=healthy.id, order_date=ago(10), amount=12000, margin=7000),
                Order(external_id="OR1", account_id=risky.id, order_date=dt.date(2025, 8, 1), amount=8000, margin=3000),
                Order(external_id="ON1", account_id=new.id, order_date=ago(20), amount=20000, margin=9000),
            ]
        )  # fmt: skip
        # Risky: 4 complaints in the last 30 days, 1 in the 30 before; NPS 50 -> -50.
        for i, n in enumerate((2, 5, 9, 20, 45)):
            s.add(Ticket(external_id=f"TR{i}", account_id=risky.id, opened_at=at(ago(n)).replace(tzinfo=None),
                         is_complaint=True, severity="high"))  # fmt: skip
        for i, (n, score) in enumerate(((5, 2), (30, 3), (120, 10), (150, 9), (160, 7), (170, 9))):
            s.add(NpsResponse(external_id=f"NR{i}", account_id=risky.id,
                              responded_at=at(ago(n)).replace(tzinfo=None), score=score))  # fmt: skip
    rows: list[dict[str, Any]] = []
    core = ["report.create", "dashboard.view", "workflow.run", "data.import", "alert.configure"]
    for n in range(0, 90):
        day = ago(n)
        rows.append(_event("H", "login", day, f"h-l-{n}"))
        rows.append(_event("H", core[n % 5], day, f"h-c-{n}"))
        if n >= 12:  # Risky stopped logging in 12 days ago
            rows.append(_event("R", "login", day, f"r-l-{n}"))
            rows.append(_event("R", "report.create", day, f"r-c-{n}"))
        if n < 20:
            rows.append(_event("N", "login", day, f"n-l-{n}"))
    EventStore(rt.settings.events_path).append(pa.Table.from_pylist(rows, schema=EVENT_SCHEMA))


def _event(account: str, name: str, day: dt.date, mid: str) -> dict[str, Any]:
    return {
        "message_id": mid,
        "account_id": account,
        "contact_id": None,
        "event": name,
        "timestamp": at(day),
        "properties": None,
    }


def snapshots(rt: Runtime, as_of: dt.date) -> dict[str, dict[str, Any]]:
    cols = [c for c in ScoreSnapshot.__table__.columns if c.name not in {"id", "computed_at"}]
    with rt.sessions() as s:
        rows = s.execute(
            select(Account.external_id, *cols)
            .join(Account, Account.id == ScoreSnapshot.account_id)
            .where(ScoreSnapshot.as_of == as_of)
        ).all()
    return {r[0]: dict(zip([c.name for c in cols], r[1:], strict=True)) for r in rows}


def alerts(rt: Runtime) -> list[tuple[str, str, str, dt.date, dt.date | None]]:
    with rt.sessions() as s:
        rows = s.execute(
            select(
                Account.external_id,
                Alert.rule_id,
                Alert.status,
                Alert.opened_as_of,
                Alert.closed_as_of,
            )
            .join(Account, Account.id == Alert.account_id)
            .order_by(Account.external_id, Alert.rule_id, Alert.id)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_score_run_scores_and_alerts(runtime: Runtime) -> None:
    seed(runtime)
    run = run_score(runtime, D)
    assert run.accounts == 3
    snap = snapshots(runtime, D)
    assert snap["N"]["lifecycle_stage"] == "onboarding"
    assert snap["H"]["lifecycle_stage"] == "mature"
    assert snap["H"]["health_score"] > snap["R"]["health_score"]
    assert snap["H"]["quadrant"] == "strategic_partner"
    assert snap["R"]["features"]["days_since_login"] == 12
    assert snap["R"]["features"]["complaints_30d"] == 4
    assert set(snap["H"]["health_breakdown"]) == {
        "days_since_login", "core_usage", "usage_change", "complaints_30d", "nps_90d",
        "days_renewal_overdue",
    }  # fmt: skip
    points = sum(m["points"] for m in snap["H"]["health_breakdown"].values())
    assert points == pytest.approx(snap["H"]["health_score"], abs=0.1)

    fired = {(a, r) for a, r, status, *_ in alerts(runtime) if status == "open"}
    assert ("R", "no_login_7d") in fired
    assert ("R", "complaints_up") in fired  # 1 -> 4 complaints
    assert ("R", "nps_drop") in fired  # 60 -> -100
    assert ("R", "renewal_overdue") in fired  # contract ended 2026-01-31
    assert not any(a == "H" for a, _ in fired)
    evidence = _evidence(runtime, "R", "no_login_7d")
    assert evidence["days_since_login"] == 12
    assert evidence["expression"] == "days_since_login >= 7"


def _evidence(rt: Runtime, account: str, rule: str) -> dict[str, Any]:
    with rt.sessions() as s:
        return s.execute(
            select(Alert.evidence)
            .join(Account)
            .where(Account.external_id == account, Alert.rule_id == rule)
        ).scalar_one()


def test_same_as_of_twice_is_identical(runtime: Runtime) -> None:
    seed(runtime)
    run_score(runtime, D)
    first_snapshots, first_alerts = snapshots(runtime, D), alerts(runtime)
    second = run_score(runtime, D)
    assert snapshots(runtime, D) == first_snapshots
    assert alerts(runtime) == first_alerts
    assert second.alerts_opened == 0 and second.alerts_closed == 0
    with runtime.sessions() as s:
        assert s.query(ScoreSnapshot).count() == 3


def test_alert_closes_when_signal_clears_and_dismissal_holds(runtime: Runtime) -> None:
    seed(runtime)
    run_score(runtime, D)
    # Dismiss the NPS alert: the signal persists the next day, so no new alert is raised.
    with runtime.sessions() as s, s.begin():
        s.execute(update(Alert).where(Alert.rule_id == "nps_drop").values(status="dismissed"))
    run_score(runtime, ago(-1))
    nps = [a for a in alerts(runtime) if a[1] == "nps_drop"]
    assert nps == [("R", "nps_drop", "dismissed", D, None)]

    later = ago(-70)  # 70 days on: the complaints are more than 60 days old and Risky is silent
    run_score(runtime, later)
    complaint = [a for a in alerts(runtime) if a[1] == "complaints_up"]
    assert complaint == [("R", "complaints_up", "closed", D, later)]
    login = [a for a in alerts(runtime) if a[1] == "no_login_7d"]
    assert ("R", "no_login_7d", "open", D, None) in login  # still not logging in: same episode
    assert ("H", "no_login_7d", "open", later, None) in login  # the seed's events end on D


def test_health_change_since_previous_snapshot(runtime: Runtime) -> None:
    seed(runtime)
    run_score(runtime, ago(7))
    run_score(runtime, D)
    before, now = snapshots(runtime, ago(7)), snapshots(runtime, D)
    assert before["H"]["health_change"] is None
    expected = round(now["R"]["health_score"] - before["R"]["health_score"], 1)
    assert now["R"]["health_change"] == pytest.approx(expected)


def test_sqlite_and_postgresql_give_the_same_scores(runtime: Runtime, pg_runtime: Runtime) -> None:
    seed(runtime)
    seed(pg_runtime)
    for day in (ago(30), D):
        run_score(runtime, day)
        run_score(pg_runtime, day)
        lite, pg = snapshots(runtime, day), snapshots(pg_runtime, day)
        for snap in (*lite.values(), *pg.values()):
            snap.pop("account_id")
        assert lite == pg
    assert [a[1:] for a in alerts(runtime)] == [a[1:] for a in alerts(pg_runtime)]


def test_as_of_dates() -> None:
    assert as_of_dates(dt.date(2026, 1, 31), dt.date(2026, 4, 30), "month") == [
        dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 31), dt.date(2026, 4, 30),
    ]  # fmt: skip
    assert len(as_of_dates(dt.date(2026, 1, 1), dt.date(2026, 1, 15), "week")) == 3
    with pytest.raises(ValueError, match="before"):
        as_of_dates(dt.date(2026, 2, 1), dt.date(2026, 1, 1), "day")


def test_alerts_of_a_churned_account_close(runtime: Runtime) -> None:
    seed(runtime)
    run_score(runtime, D)
    with runtime.sessions() as s, s.begin():
        s.execute(
            update(Account)
            .where(Account.external_id == "R")
            .values(status="churned", churn_date=ago(-3))
        )
    run_score(runtime, ago(-2))  # still a customer: nothing closes for R
    assert all(a[4] is None for a in alerts(runtime) if a[0] == "R")
    run_score(runtime, ago(-3))  # churned today: every episode of R closes
    risky = [a for a in alerts(runtime) if a[0] == "R"]
    assert risky and all(a[2] == "closed" and a[4] == ago(-3) for a in risky)
    with runtime.sessions() as s:
        notes = set(
            s.scalars(select(Alert.resolution_note).join(Account).where(Account.external_id == "R"))
        )
    assert notes == {"account churned"}


def test_latest_scores_follow_the_newest_date_whatever_the_order(runtime: Runtime) -> None:
    from tenure.scoring.models import LatestScore

    seed(runtime)

    def latest() -> dict[int, dt.date]:
        with runtime.sessions() as s:
            return {r.account_id: r.as_of for r in s.scalars(select(LatestScore))}

    run_score(runtime, D)
    assert set(latest().values()) == {D}
    run_score(runtime, ago(7))  # backfilling an older date leaves the newest alone
    assert set(latest().values()) == {D}
    run_score(runtime, D)  # re-scoring the newest date keeps it
    assert set(latest().values()) == {D} and len(latest()) == 3
    run_score(runtime, ago(-7))
    assert set(latest().values()) == {ago(-7)}


def test_score_run_stores_the_dates_portfolio_figures(runtime: Runtime) -> None:
    from tenure.scoring.models import PortfolioDay
    from tenure.scoring.portfolio import portfolio_summary, summarise_day

    seed(runtime)
    run = run_score(runtime, D)
    snap = snapshots(runtime, D)
    with runtime.sessions() as s:
        stored = s.get(PortfolioDay, D)
        assert stored is not None
        fresh = summarise_day(s.connection(), D)
        assert fresh is not None
        assert {c.name: getattr(stored, c.name) for c in PortfolioDay.__table__.columns} == {
            **fresh,
            "computed_at": stored.computed_at,
        }
        assert stored.accounts == 3
        assert stored.arr == pytest.approx(sum(r["arr"] or 0 for r in snap.values()))
        assert snap["H"]["arr"] == snap["H"]["features"]["arr"]
        assert stored.quadrants == run.quadrants
        assert stored.lifecycle_stages == run.stages
        assert sum(stored.health_histogram) == 3
        assert stored.low_health == sum(r["health_score"] < 40 for r in snap.values())
        by_arr = sorted(snap.items(), key=lambda kv: (-(kv[1]["arr"] or 0), kv[1]["account_id"]))
        assert [p[0] for p in stored.scatter] == [r["account_id"] for _, r in by_arr]
        summary = portfolio_summary(s)
        assert summary["as_of"] == D.isoformat() and summary["accounts"] == 3
        assert summary["open_alerts"]["no_login_7d"] >= 1


def test_portfolio_figures_follow_snapshots_written_one_by_one(runtime: Runtime) -> None:
    """A snapshot added through the ORM drops its date's figures; the next read recomputes
    and stores them, as it does for a date scored before the figures were kept."""
    from sqlalchemy import delete

    from tenure.scoring.models import PortfolioDay
    from tenure.scoring.portfolio import portfolio_days

    seed(runtime)
    run_score(runtime, D)
    with runtime.sessions() as s, s.begin():
        extra = Account(external_id="X", name="Extra", customer_since=dt.date(2025, 1, 1))
        s.add(extra)
        s.flush()
        row = snapshots(runtime, D)["H"]
        s.add(ScoreSnapshot(**{**row, "account_id": extra.id, "arr": 5.0, "health_score": 10.0}))
    with runtime.sessions() as s:
        assert s.get(PortfolioDay, D) is None
        figures = portfolio_days(s, [D])[D]
        s.commit()
        assert figures["accounts"] == 4 and figures["low_health"] >= 1
        assert s.get(PortfolioDay, D) is not None
    with runtime.sessions() as s, s.begin():
        s.execute(delete(PortfolioDay))  # as after the upgrade that added the table
    with runtime.sessions() as s:
        again = portfolio_days(s, [D, ago(1)])
        assert set(again) == {D}  # nothing scored the day before
        assert {k: v for k, v in again[D].items() if k != "computed_at"} == {
            k: v for k, v in figures.items() if k != "computed_at"
        }
