"""The account list and account detail read from the operational store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from tenure.accounts.models import Account
from tenure.accounts.schemas import QUADRANT_LABELS, STAGE_LABELS
from tenure.accounts.service import get_account, list_accounts
from tenure.db import transaction
from tenure.errors import ResourceNotFound
from tenure.kit.pagination import InvalidQuery
from tenure.kit.runtime import Runtime
from tenure.scoring.lifecycle import STAGES
from tenure.scoring.value import QUADRANTS

from .conftest import LATEST, OLD, alert, build_book, snapshot


def ext_ids(page: Any) -> list[str]:
    return [item.external_id for item in page.items]


@contextmanager
def counting_statements(rt: Runtime) -> Iterator[list[str]]:
    """Collect every SQL statement the engine runs inside the block."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(rt.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(rt.engine, "before_cursor_execute", record)


@pytest.fixture
def session(runtime: Runtime, book: dict[str, int]) -> Iterator[Session]:
    with runtime.sessions() as s:
        yield s


class TestListAccounts:
    def test_uses_the_latest_snapshot_of_each_account(self, session: Session) -> None:
        page = list_accounts(session)
        acme = next(a for a in page.items if a.external_id == "ACME")
        assert acme.as_of == LATEST
        assert acme.health_score == 82.0
        assert acme.health_band == "healthy"
        assert acme.health_change == 47.0
        assert acme.quadrant == "strategic_partner"
        assert acme.lifecycle_stage == "mature"
        assert (acme.value_score, acme.current_value, acme.potential_value) == (75.0, 80.0, 67.5)
        assert acme.rfm_code == "545"
        assert acme.owner is not None and acme.owner.email == "alice@example.com"

    def test_accounts_without_snapshots_are_listed_with_null_scores(self, session: Session) -> None:
        page = list_accounts(session)
        assert page.total == 5
        eps = next(a for a in page.items if a.external_id == "90210")
        assert eps.as_of is None and eps.health_score is None and eps.quadrant is None
        assert eps.health_band is None and eps.rfm_code is None
        assert eps.owner is not None and eps.owner.name == "Bob Li"
        delta = next(a for a in page.items if a.external_id == "DELTA")
        assert delta.owner is None

    def test_open_alerts_count_open_and_acknowledged_only(self, session: Session) -> None:
        by_id = {a.external_id: a for a in list_accounts(session).items}
        assert (by_id["BETA"].open_alerts, by_id["BETA"].top_severity) == (2, "high")
        assert (by_id["GAMMA"].open_alerts, by_id["GAMMA"].top_severity) == (1, "critical")
        assert (by_id["ACME"].open_alerts, by_id["ACME"].top_severity) == (0, None)

    def test_arr_sums_active_subscriptions(self, session: Session) -> None:
        by_id = {a.external_id: a.arr for a in list_accounts(session).items}
        assert by_id == {
            "ACME": 120000.0,
            "BETA": 30000.0,
            "GAMMA": 100000.0,
            "DELTA": 0.0,
            "90210": 0.0,
        }

    @pytest.mark.parametrize(
        ("sort", "expected"),
        [
            ("health_score", ["GAMMA", "BETA", "ACME", "DELTA", "90210"]),
            ("-health_score", ["ACME", "BETA", "GAMMA", "DELTA", "90210"]),
            ("name", ["ACME", "BETA", "DELTA", "90210", "GAMMA"]),
            ("-name", ["GAMMA", "90210", "DELTA", "BETA", "ACME"]),
            ("-arr", ["ACME", "GAMMA", "BETA", "DELTA", "90210"]),
            ("value_score", ["BETA", "GAMMA", "ACME", "DELTA", "90210"]),
            ("health_change", ["GAMMA", "BETA", "ACME", "DELTA", "90210"]),
            ("-open_alerts", ["BETA", "GAMMA", "ACME", "DELTA", "90210"]),
        ],
    )
    def test_sorts_with_unscored_accounts_last(
        self, session: Session, sort: str, expected: list[str]
    ) -> None:
        assert ext_ids(list_accounts(session, sort=sort)) == expected

    @pytest.mark.parametrize(
        ("filters", "expected"),
        [
            ({"quadrant": "strategic_partner"}, ["ACME"]),  # GAMMA was one only in May
            ({"quadrant": "growth"}, ["BETA"]),  # ACME was one only in May
            ({"stage": "declining"}, ["GAMMA"]),
            ({"health_band": "healthy"}, ["ACME"]),
            ({"health_band": "watch"}, ["BETA"]),
            ({"health_band": "at_risk"}, ["GAMMA"]),
            ({"owner": "u-alice"}, ["GAMMA", "ACME"]),
            ({"owner": "BOB@example.COM"}, ["BETA", "90210"]),
            ({"at_risk": True}, ["GAMMA", "BETA"]),
            ({"at_risk": False}, ["ACME", "DELTA", "90210"]),
            ({"status": "churned"}, ["DELTA"]),
            ({"search": "ACME"}, ["ACME"]),
            ({"search": "manufact"}, ["ACME"]),
            ({"search": "902"}, ["90210"]),
            ({"search": "%"}, ["DELTA"]),  # a literal percent sign, not a wildcard
            ({"search": "0%_"}, ["DELTA"]),
            ({"owner": "u-alice", "at_risk": True}, ["GAMMA"]),
            ({"owner": "u-carol"}, []),
        ],
    )
    def test_filters(self, session: Session, filters: dict[str, Any], expected: list[str]) -> None:
        page = list_accounts(session, **filters)
        assert ext_ids(page) == expected
        assert page.total == len(expected)

    def test_pages_report_the_total_of_every_page(self, session: Session) -> None:
        first = list_accounts(session, limit=2)
        second = list_accounts(session, limit=2, offset=2)
        last = list_accounts(session, limit=2, offset=4)
        beyond = list_accounts(session, limit=2, offset=10)
        assert [p.total for p in (first, second, last, beyond)] == [5, 5, 5, 5]
        assert ext_ids(first) + ext_ids(second) + ext_ids(last) == [
            "GAMMA",
            "BETA",
            "ACME",
            "DELTA",
            "90210",
        ]
        assert ext_ids(beyond) == []
        assert (second.limit, second.offset) == (2, 2)
        assert list_accounts(session, at_risk=True, limit=1).total == 2

    @pytest.mark.parametrize("sort", ["health_score", "-arr", "-open_alerts", "name"])
    def test_statements_do_not_grow_with_the_book(
        self, runtime: Runtime, session: Session, sort: str
    ) -> None:
        def statements() -> tuple[int, int]:
            session.rollback()  # end the read transaction: see what was committed since
            with counting_statements(runtime) as seen:
                page = list_accounts(session, search="e", sort=sort, limit=100)
            return len(seen), len(page.items)

        small = statements()
        with transaction(runtime.sessions) as s:
            for n in range(30):
                account = Account(external_id=f"X{n}", name=f"Extra {n}")
                s.add(account)
                s.flush()
                s.add_all([snapshot(account, OLD), snapshot(account, LATEST)])
                s.add(alert(account, "no_login_7d", "low", "open"))
        # A search: the page's ids with the number of matches, then the page's rows.
        assert small == (2, 5)
        assert statements() == (2, 35)

    @pytest.mark.parametrize(
        ("filters", "parameter", "listed"),
        [
            ({"quadrant": "gold"}, "quadrant", "strategic_partner, growth, profit, basic"),
            ({"stage": "teen"}, "stage", "onboarding, growth, mature, declining"),
            ({"health_band": "ok"}, "health_band", "healthy, watch, at_risk"),
            ({"status": "gone"}, "status", "active, churned, paused"),
            ({"sort": "-revenue"}, "sort", "name, health_score, value_score, arr"),
            ({"limit": 0}, "limit", "between 1 and 1000"),
            ({"offset": -1}, "offset", "must not be negative"),
        ],
    )
    def test_rejects_unknown_values_listing_the_allowed_ones(
        self, session: Session, filters: dict[str, Any], parameter: str, listed: str
    ) -> None:
        with pytest.raises(InvalidQuery) as caught:
            list_accounts(session, **filters)
        assert caught.value.parameter == parameter
        assert listed in caught.value.message
        assert caught.value.status_code == 422

    def test_unknown_owner_is_not_found(self, session: Session) -> None:
        with pytest.raises(ResourceNotFound, match="no user has external id or e-mail 'zed'"):
            list_accounts(session, owner="zed")


class TestGetAccount:
    @pytest.mark.parametrize("key", ["ACME", "1"])
    def test_finds_by_external_id_or_numeric_id(
        self, session: Session, book: dict[str, int], key: str
    ) -> None:
        assert book["ACME"] == 1
        assert get_account(session, key).external_id == "ACME"

    def test_numeric_key_falls_back_to_the_external_id(self, session: Session) -> None:
        assert get_account(session, "90210").name == "Epsilon Labs"

    def test_int_key_is_the_numeric_id(self, session: Session, book: dict[str, int]) -> None:
        assert get_account(session, book["GAMMA"]).external_id == "GAMMA"

    @pytest.mark.parametrize(
        ("key", "message"),
        [
            ("NOPE", "no account has external id 'NOPE'"),
            ("777", "no account has id or external id '777'"),
            (777, "no account has id 777"),
            ("1" * 30, f"no account has external id '{'1' * 30}'"),
            ("²", "no account has external id '²'"),
        ],
    )
    def test_not_found(self, session: Session, key: int | str, message: str) -> None:
        with pytest.raises(ResourceNotFound) as caught:
            get_account(session, key)
        assert caught.value.message == message
        assert caught.value.status_code == 404

    def test_profile_and_latest_scores(self, session: Session) -> None:
        acme = get_account(session, "ACME")
        assert (acme.size, acme.employees, acme.strategic_goal) == ("large", 5000, "cost_reduction")
        assert (acme.industry_influence, acme.innovation_synergy, acme.growth_potential) == (
            80,
            70,
            60,
        )
        assert acme.attributes == {"tier": "gold"}
        assert acme.as_of == LATEST and acme.health_score == 82.0
        assert acme.rfm is not None
        assert (acme.rfm.recency, acme.rfm.frequency, acme.rfm.monetary, acme.rfm.code) == (
            5,
            4,
            5,
            "545",
        )
        part = acme.health_breakdown["days_since_login"]
        assert (part.value, part.score, part.weight, part.points) == (2, 92.3, 0.6, 55.4)
        assert acme.value_breakdown["current"] == {"revenue_12m": 60.0}
        assert acme.features["core_usage"] == 0.5
        assert acme.arr == 120000.0

    def test_health_trend_is_oldest_first_and_limited(self, session: Session) -> None:
        trend = get_account(session, "GAMMA").health_trend
        assert [(p.as_of, p.health_score) for p in trend] == [(OLD, 90.0), (LATEST, 20.0)]
        short = get_account(session, "GAMMA", trend_points=1).health_trend
        assert [p.as_of for p in short] == [LATEST]

    def test_open_alerts_most_severe_first_with_evidence(self, session: Session) -> None:
        beta = get_account(session, "BETA")
        assert [(a.rule_id, a.status) for a in beta.alerts] == [
            ("renewal_overdue", "acknowledged"),
            ("no_login_7d", "open"),
        ]
        assert beta.alerts[1].evidence == {
            "days_since_login": 9,
            "expression": "days_since_login >= 7",
        }
        assert beta.open_alerts == 2 and beta.top_severity == "high"
        assert get_account(session, "ACME").alerts == []  # its only alert is closed

    def test_timeline_newest_first_with_contact_names(self, session: Session) -> None:
        acme = get_account(session, "ACME")
        assert [(i.summary, i.contact_name, i.sentiment) for i in acme.recent_interactions] == [
            ("Quarterly review", "Li Na", "positive"),
            ("Slow exports", None, "negative"),
            ("Welcome pack", "Wang Wei", None),
        ]
        assert acme.recent_interactions[0].user_name == "Alice Chen"
        assert len(get_account(session, "ACME", interactions=1).recent_interactions) == 1

    def test_contacts_decision_makers_first_with_preferences(self, session: Session) -> None:
        contacts = get_account(session, "ACME").contacts
        assert [(c.name, c.role) for c in contacts] == [
            ("Li Na", "decision_maker"),
            ("Wang Wei", "user"),
        ]
        assert (contacts[0].channel_preference, contacts[0].format_preference) == (
            "email",
            "document",
        )
        assert contacts[0].opt_out_channels == ["sms"]

    def test_subscriptions_latest_end_first(self, session: Session) -> None:
        gamma = get_account(session, "GAMMA").subscriptions
        assert all(s.end_date is None for s in gamma)  # open-ended contracts
        acme = get_account(session, "ACME").subscriptions
        assert [(s.external_id, s.status, s.auto_renew) for s in acme] == [
            ("S1", "active", True),
            ("S0", "expired", False),
        ]

    def test_tickets_and_last_nps(self, session: Session) -> None:
        acme = get_account(session, "ACME")
        assert (acme.tickets.total, acme.tickets.open, acme.tickets.complaints) == (3, 1, 2)
        assert acme.tickets.last_opened_at is not None
        assert acme.tickets.last_opened_at.day == 25
        assert acme.last_nps is not None
        assert (acme.last_nps.score, acme.last_nps.comment) == (9, "great support")

    def test_unscored_account_has_empty_scores(self, session: Session) -> None:
        eps = get_account(session, "90210")
        assert eps.as_of is None and eps.rfm is None
        assert eps.health_trend == [] and eps.health_breakdown == {} and eps.value_breakdown == {}
        assert eps.tickets.total == 0 and eps.last_nps is None
        assert eps.contacts == [] and eps.subscriptions == [] and eps.recent_interactions == []


def test_labels_cover_every_code_the_scorer_writes() -> None:
    assert tuple(QUADRANT_LABELS) == QUADRANTS
    assert tuple(STAGE_LABELS) == STAGES


class TestOnEveryStore:
    """The set-based queries give the same answers on SQLite and PostgreSQL."""

    def test_list_accounts(self, any_book: tuple[Runtime, dict[str, int]]) -> None:
        rt, _ = any_book
        with rt.sessions() as s:
            assert ext_ids(list_accounts(s)) == ["GAMMA", "BETA", "ACME", "DELTA", "90210"]
            assert ext_ids(list_accounts(s, sort="-health_score")) == [
                "ACME",
                "BETA",
                "GAMMA",
                "DELTA",
                "90210",
            ]
            assert ext_ids(list_accounts(s, quadrant="strategic_partner")) == ["ACME"]
            assert ext_ids(list_accounts(s, search="%")) == ["DELTA"]
            assert ext_ids(list_accounts(s, owner="bob@example.com")) == ["BETA", "90210"]
            page = list_accounts(s, at_risk=True, sort="-open_alerts", limit=1)
            assert (ext_ids(page), page.total) == (["BETA"], 2)
            assert page.items[0].top_severity == "high"
            assert [a.arr for a in list_accounts(s, sort="-arr").items] == [
                120000.0,
                100000.0,
                30000.0,
                0.0,
                0.0,
            ]

    def test_get_account(self, any_book: tuple[Runtime, dict[str, int]]) -> None:
        rt, _ = any_book
        with rt.sessions() as s:
            acme = get_account(s, "ACME")
            assert acme.health_breakdown["core_usage"].points == 22.9
            assert [p.as_of for p in acme.health_trend] == [OLD, LATEST]
            assert acme.tickets.open == 1
            assert [c.name for c in acme.contacts] == ["Li Na", "Wang Wei"]


def test_numbers_too_large_for_an_id_are_only_external_ids(runtime: Runtime) -> None:
    from tenure.accounts.service import MAX_ID, numeric_id, resolve_account_id
    from tenure.errors import ResourceNotFound

    assert numeric_id(str(MAX_ID)) == MAX_ID
    assert numeric_id(str(MAX_ID + 1)) is None
    assert numeric_id("²") is None
    with runtime.sessions() as s, pytest.raises(ResourceNotFound, match="has external id '9"):
        resolve_account_id(s, "9" * 30)


@pytest.mark.parametrize("sort", ["health_score", "-health_score", "value_score", "-health_change"])
def test_unfiltered_score_pages_match_one_sorted_list(runtime: Runtime, sort: str) -> None:
    """The two-read paging of an unfiltered score sort (scored accounts from the index,
    then the unscored by id) gives the pages one nulls-last sort of the whole book gives."""
    build_book(runtime)
    with transaction(runtime.sessions) as s:
        for n in range(7):
            account = Account(external_id=f"P{n}", name=f"Paged {n}")
            s.add(account)
            s.flush()
            if n % 3:
                s.add(snapshot(account, LATEST, health_score=50.0 + n % 2, value_score=40.0,
                               health_change=None if n == 1 else float(n)))  # fmt: skip
    with runtime.sessions() as s:
        whole = list_accounts(s, sort=sort, limit=100)
        key = sort.lstrip("-")
        sign = -1 if sort.startswith("-") else 1
        oracle = sorted(  # nulls last, ties by id whatever the direction
            whole.items,
            key=lambda a: (getattr(a, key) is None, sign * (getattr(a, key) or 0), a.id),
        )
        assert [a.id for a in whole.items] == [a.id for a in oracle]
        assert whole.total == 12
        paged = [a.id for offset in range(0, whole.total, 3)
                 for a in list_accounts(s, sort=sort, limit=3, offset=offset).items]  # fmt: skip
        assert paged == [a.id for a in whole.items]
        assert all(list_accounts(s, sort=sort, limit=3, offset=o).total == whole.total
                   for o in (0, 6, whole.total))  # fmt: skip


def test_largest_arr_first_pages_match_one_sorted_list(runtime: Runtime) -> None:
    """Unfiltered `-arr` pages the active-ARR sums, then the accounts without any by id."""
    build_book(runtime)
    with runtime.sessions() as s:
        whole = list_accounts(s, sort="-arr", limit=100)
        oracle = sorted(whole.items, key=lambda a: (-a.arr, a.id))
        assert [a.id for a in whole.items] == [a.id for a in oracle]
        assert [a.external_id for a in whole.items][:3] == ["ACME", "GAMMA", "BETA"]
        paged = [a.id for offset in range(0, whole.total, 2)
                 for a in list_accounts(s, sort="-arr", limit=2, offset=offset).items]  # fmt: skip
        assert paged == [a.id for a in whole.items] and whole.total == 5
        filtered = list_accounts(s, sort="-arr", status="active", limit=100)  # the other path
        assert [a.id for a in filtered.items] == [a.id for a in oracle if a.status == "active"]
