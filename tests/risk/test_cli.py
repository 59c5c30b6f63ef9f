"""`tenure alerts list` and `tenure alerts show` as a user runs them."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from tenure.accounts.models import Account, User
from tenure.db import transaction
from tenure.kit.runtime import Runtime
from tenure.risk.cli import app
from tenure.risk.models import Alert

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


@pytest.fixture
def ids(runtime: Runtime) -> dict[str, int]:
    """Two accounts of one CSM with an open critical, an open medium and a closed alert."""
    with transaction(runtime.sessions) as s:
        csm = User(external_id="u-mei", email="mei@example.com", name="Mei Zhang")
        s.add(csm)
        s.flush()
        acme = Account(external_id="ACME", name="Acme [Beta]", owner_id=csm.id)
        beta = Account(external_id="BETA", name="Beta Retail")
        s.add_all([acme, beta])
        s.flush()

        def alert(account: Account, rule: str, severity: str, status: str, day: int) -> Alert:
            return Alert(
                account_id=account.id,
                rule_id=rule,
                rule_name=rule.replace("_", " ").title(),
                category="behaviour",
                severity=severity,
                status=status,
                expression="days_since_login >= 7",
                evidence={
                    "days_since_login": day,
                    "expression": "days_since_login >= 7",
                    "as_of": "2024-06-30",
                },
                opened_as_of=dt.date(2024, 6, day),
                last_seen_as_of=dt.date(2024, 6, 30),
                closed_as_of=dt.date(2024, 6, 30) if status == "closed" else None,
            )

        alerts = {
            "critical": alert(acme, "cancel_attempts", "critical", "open", 12),
            "medium": alert(beta, "no_login_7d", "medium", "open", 9),
            "closed": alert(acme, "no_login_7d", "medium", "closed", 3),
        }
        s.add_all(alerts.values())
        s.flush()
        return {label: a.id for label, a in alerts.items()}


@pytest.fixture
def run(runtime: Runtime, ids: dict[str, int]) -> Any:
    runner = CliRunner()
    home = str(runtime.settings.home)

    def invoke(*args: str) -> Result:
        return runner.invoke(app, [*args, "--home", home], env={"COLUMNS": "200"})

    return invoke


def listed(result: Result) -> list[str]:
    assert result.exit_code == 0, result.output
    return [
        (item["account_external_id"], item["severity"])
        for item in json.loads(result.stdout)["items"]
    ]


class TestList:
    def test_json_is_the_page_with_the_api_field_names(self, run: Any) -> None:
        result = run("list", "--json")
        assert result.exit_code == 0, result.output
        page = json.loads(result.stdout)
        assert (page["total"], page["limit"], page["offset"]) == (2, 50, 0)
        first = page["items"][0]
        assert list(first) == ALERT_FIELDS
        assert first["evidence"] == {
            "days_since_login": 12,
            "expression": "days_since_login >= 7",
            "as_of": "2024-06-30",
        }
        assert first["owner"] == {
            "external_id": "u-mei",
            "name": "Mei Zhang",
            "email": "mei@example.com",
        }
        assert (first["opened_as_of"], first["closed_as_of"]) == ("2024-06-12", None)

    def test_table(self, run: Any) -> None:
        result = run("list")
        assert result.exit_code == 0, result.output
        for text in (
            "critical",
            "Cancel Attempts",
            "Acme [Beta]",
            "days_since_login=12",
            "Mei Zhang",
            "1–2 of 2 alerts",
        ):
            assert text in result.stdout, text
        assert "as_of=" not in result.stdout  # evaluation date is not a feature value

    @pytest.mark.parametrize(
        ("args", "expected"),
        [
            ([], [("ACME", "critical"), ("BETA", "medium")]),
            (["--status", "all"], [("ACME", "critical"), ("BETA", "medium"), ("ACME", "medium")]),
            (["--status", "closed"], [("ACME", "medium")]),
            (["--severity", "medium"], [("BETA", "medium")]),
            (
                ["--rule", "no_login_7d", "--status", "all"],
                [("BETA", "medium"), ("ACME", "medium")],
            ),
            (["--owner", "mei@example.com"], [("ACME", "critical")]),
            (["--account", "BETA"], [("BETA", "medium")]),
            (["--sort", "severity"], [("BETA", "medium"), ("ACME", "critical")]),
            (["--limit", "1", "--offset", "1"], [("BETA", "medium")]),
        ],
    )
    def test_filters(self, run: Any, args: list[str], expected: list[tuple[str, str]]) -> None:
        assert listed(run("list", "--json", *args)) == expected

    @pytest.mark.parametrize(
        ("args", "option", "allowed"),
        [
            (
                ["--status", "new"],
                "--status",
                "open, all, acknowledged, resolved, dismissed, closed",
            ),
            (["--severity", "urgent"], "--severity", "low, medium, high, critical"),
            (["--sort", "-age"], "--sort", "severity, opened_as_of"),
        ],
    )
    def test_bad_values_are_usage_errors(
        self, run: Any, args: list[str], option: str, allowed: str
    ) -> None:
        result = run("list", *args)
        assert result.exit_code == 2
        message = " ".join(result.stderr.replace("│", " ").split())
        assert option in message and allowed in message

    def test_unknown_account_fails(self, run: Any) -> None:
        result = run("list", "--account", "ZED")
        assert result.exit_code == 1
        assert "no account has external id 'ZED'" in result.stderr


class TestShow:
    def test_json(self, run: Any, ids: dict[str, int]) -> None:
        result = run("show", str(ids["closed"]), "--json")
        assert result.exit_code == 0, result.output
        alert = json.loads(result.stdout)
        assert list(alert) == ALERT_FIELDS
        assert (alert["id"], alert["status"], alert["closed_as_of"]) == (
            ids["closed"],
            "closed",
            "2024-06-30",
        )

    def test_panel_shows_rule_expression_and_evidence(self, run: Any, ids: dict[str, int]) -> None:
        result = run("show", str(ids["critical"]))
        assert result.exit_code == 0, result.output
        for text in (
            f"Alert {ids['critical']}",
            "Cancel Attempts (cancel_attempts)",
            "critical",
            "days_since_login >= 7",
            "Evidence as of",
            "Mei Zhang",
        ):
            assert text in result.stdout, text

    def test_unknown_alert(self, run: Any) -> None:
        result = run("show", "999")
        assert result.exit_code == 1
        assert "no alert has id 999" in result.stderr
