"""Listing and reading alerts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tenure.accounts.models import Account, User
from tenure.db import transaction
from tenure.errors import ResourceNotFound
from tenure.kit.pagination import InvalidQuery
from tenure.kit.runtime import Runtime
from tenure.risk.models import Alert
from tenure.risk.queries import get_alert, list_alerts

ALERT_FIELDS = [
    "id",
    "account_id",
    "account_external_id",
    "account_name",
    "rule_id",
    "rule_name",
    "category",
    "severity",
    "status",
    "evidence",
    "opened_as_of",
    "last_seen_as_of",
    "closed_as_of",
    "owner",
]
# label: (account, rule, severity, status, opened on day of June 2024, assignee)
ALERTS: dict[str, tuple[str, str, str, str, int, str | None]] = {
    "a_login": ("A", "no_login_7d", "medium", "open", 1, None),
    "a_nps": ("A", "nps_drop", "high", "acknowledged", 10, None),
    "b_cancel": ("B", "cancel_attempts", "critical", "open", 5, "alice"),
    "b_login": ("B", "no_login_7d", "medium", "closed", 2, None),
    "c_renewal": ("C", "renewal_overdue", "high", "open", 15, None),
    "c_purchase": ("C", "purchase_drop", "low", "dismissed", 3, None),
}


def build_alerts(rt: Runtime) -> dict[str, int]:
    """Accounts A (owner alice), B (owner bob), C (no owner) and six alerts; ids by label."""
    with transaction(rt.sessions) as s:
        users = {
            "alice": User(external_id="u-alice", email="Alice@Example.com", name="Alice Chen"),
            "bob": User(external_id="u-bob", email="bob@example.com", name="Bob Li"),
        }
        s.add_all(users.values())
        s.flush()
        accounts = {
            "A": Account(external_id="A", name="Alpha Co", owner_id=users["alice"].id),
            "B": Account(external_id="B", name="bravo Ltd", owner_id=users["bob"].id),
            "C": Account(external_id="C", name="Charlie Inc"),
        }
        s.add_all(accounts.values())
        s.flush()
        alerts = {}
        for label, (acc, rule, severity, status, day, assignee) in ALERTS.items():
            opened = dt.date(2024, 6, day)
            closed = status in ("closed", "dismissed")
            alerts[label] = Alert(
                account_id=accounts[acc].id,
                rule_id=rule,
                rule_name=rule.replace("_", " "),
                category="behaviour",
                severity=severity,
                status=status,
                expression=f"{rule} > 0",
                evidence={"value": day, "expression": f"{rule} > 0"},
                opened_as_of=opened,
                last_seen_as_of=opened + dt.timedelta(days=3),
                closed_as_of=opened + dt.timedelta(days=3) if closed else None,
                assignee_id=users[assignee].id if assignee else None,
            )
        s.add_all(alerts.values())
        s.flush()
        ids = {label: a.id for label, a in alerts.items()}
        ids.update({f"account_{k}": a.id for k, a in accounts.items()})
    return ids


@pytest.fixture
def ids(runtime: Runtime) -> dict[str, int]:
    return build_alerts(runtime)


@pytest.fixture
def session(runtime: Runtime, ids: dict[str, int]) -> Iterator[Session]:
    with runtime.sessions() as s:
        yield s


def labels(page: Any, ids: dict[str, int]) -> list[str]:
    by_id = {v: k for k, v in ids.items() if not k.startswith("account_")}
    return [by_id[item.id] for item in page.items]


class TestListAlerts:
    def test_open_alerts_most_severe_then_newest_first(
        self, session: Session, ids: dict[str, int]
    ) -> None:
        page = list_alerts(session)
        assert labels(page, ids) == ["b_cancel", "c_renewal", "a_nps", "a_login"]
        assert page.total == 4

    def test_ascending_severity_still_puts_newest_first_among_equals(
        self, session: Session, ids: dict[str, int]
    ) -> None:
        page = list_alerts(session, sort="severity")
        assert labels(page, ids) == ["a_login", "c_renewal", "a_nps", "b_cancel"]

    @pytest.mark.parametrize(
        ("filters", "expected"),
        [
            (
                {"status": "all"},
                ["b_cancel", "c_renewal", "a_nps", "b_login", "a_login", "c_purchase"],
            ),
            ({"status": "acknowledged"}, ["a_nps"]),
            ({"status": "closed"}, ["b_login"]),
            ({"status": "dismissed"}, ["c_purchase"]),
            ({"severity": "high"}, ["c_renewal", "a_nps"]),
            ({"severity": "low"}, []),
            ({"rule": "no_login_7d"}, ["a_login"]),
            ({"rule": "no_login_7d", "status": "all"}, ["b_login", "a_login"]),
            # The assignee owns an alert; without one, the account's owner does.
            ({"owner": "u-alice"}, ["b_cancel", "a_nps", "a_login"]),
            ({"owner": "alice@example.com"}, ["b_cancel", "a_nps", "a_login"]),
            ({"owner": "u-bob"}, []),
            ({"owner": "u-bob", "status": "all"}, ["b_login"]),
            ({"account": "C"}, ["c_renewal"]),
            ({"account": "A", "severity": "medium"}, ["a_login"]),
        ],
    )
    def test_filters(
        self, session: Session, ids: dict[str, int], filters: dict[str, Any], expected: list[str]
    ) -> None:
        page = list_alerts(session, **filters)
        assert labels(page, ids) == expected
        assert page.total == len(expected)

    def test_account_by_numeric_id(self, session: Session, ids: dict[str, int]) -> None:
        page = list_alerts(session, account=ids["account_B"], status="all")
        assert labels(page, ids) == ["b_cancel", "b_login"]

    @pytest.mark.parametrize(
        ("sort", "expected"),
        [
            ("opened_as_of", ["a_login", "b_cancel", "a_nps", "c_renewal"]),
            ("-last_seen_as_of", ["c_renewal", "a_nps", "b_cancel", "a_login"]),
            ("account_name", ["a_nps", "a_login", "b_cancel", "c_renewal"]),  # any case
            ("-rule_id", ["c_renewal", "a_nps", "a_login", "b_cancel"]),
        ],
    )
    def test_sort_keys(
        self, session: Session, ids: dict[str, int], sort: str, expected: list[str]
    ) -> None:
        assert labels(list_alerts(session, sort=sort), ids) == expected

    def test_pages(self, session: Session, ids: dict[str, int]) -> None:
        first = list_alerts(session, limit=3)
        second = list_alerts(session, limit=3, offset=3)
        assert (first.total, second.total) == (4, 4)
        assert labels(first, ids) + labels(second, ids) == labels(list_alerts(session), ids)
        assert (second.limit, second.offset) == (3, 3)

    def test_rows_carry_account_owner_and_evidence(
        self, session: Session, ids: dict[str, int]
    ) -> None:
        first = list_alerts(session).items[0]
        assert list(first.model_dump()) == ALERT_FIELDS
        assert (first.account_id, first.account_external_id, first.account_name) == (
            ids["account_B"],
            "B",
            "bravo Ltd",
        )
        assert first.owner is not None and first.owner.external_id == "u-alice"
        assert first.evidence == {"value": 5, "expression": "cancel_attempts > 0"}
        renewal = list_alerts(session, account="C").items[0]
        assert renewal.owner is None

    @pytest.mark.parametrize(
        ("filters", "parameter", "listed"),
        [
            (
                {"status": "pending"},
                "status",
                "open, all, acknowledged, resolved, dismissed, closed",
            ),
            ({"severity": "urgent"}, "severity", "low, medium, high, critical"),
            ({"sort": "age"}, "sort", "severity, opened_as_of, last_seen_as_of"),
            ({"limit": 5000}, "limit", "between 1 and 1000"),
        ],
    )
    def test_rejects_unknown_values(
        self, session: Session, filters: dict[str, Any], parameter: str, listed: str
    ) -> None:
        with pytest.raises(InvalidQuery) as caught:
            list_alerts(session, **filters)
        assert caught.value.parameter == parameter
        assert listed in caught.value.message

    @pytest.mark.parametrize(
        ("filters", "message"),
        [
            ({"account": "Z"}, "no account has external id 'Z'"),
            ({"owner": "u-zed"}, "no user has external id or e-mail 'u-zed'"),
        ],
    )
    def test_unknown_account_or_owner(
        self, session: Session, filters: dict[str, Any], message: str
    ) -> None:
        with pytest.raises(ResourceNotFound) as caught:
            list_alerts(session, **filters)
        assert caught.value.message == message


class TestGetAlert:
    def test_returns_the_alert(self, session: Session, ids: dict[str, int]) -> None:
        closed = get_alert(session, ids["b_login"])
        assert (closed.rule_id, closed.status) == ("no_login_7d", "closed")
        assert closed.closed_as_of == dt.date(2024, 6, 5)
        assert closed.owner is not None and closed.owner.name == "Bob Li"

    def test_not_found(self, session: Session) -> None:
        with pytest.raises(ResourceNotFound, match="no alert has id 999"):
            get_alert(session, 999)


def test_same_answers_on_every_store(any_runtime: Runtime) -> None:
    ids = build_alerts(any_runtime)
    with any_runtime.sessions() as s:
        assert labels(list_alerts(s), ids) == ["b_cancel", "c_renewal", "a_nps", "a_login"]
        assert labels(list_alerts(s, owner="alice@example.com", limit=2), ids) == [
            "b_cancel",
            "a_nps",
        ]
        assert list_alerts(s, status="all", limit=1).total == 6
        assert labels(list_alerts(s, sort="account_name"), ids) == [
            "a_nps",
            "a_login",
            "b_cancel",
            "c_renewal",
        ]
        assert get_alert(s, ids["c_renewal"]).evidence["value"] == 15
