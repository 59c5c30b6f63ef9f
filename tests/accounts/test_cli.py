"""`tenure accounts list` and `tenure accounts show` as a user runs them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from tenure.accounts.cli import app
from tenure.accounts.service import get_account
from tenure.kit.runtime import Runtime

SUMMARY_FIELDS = [
    "id",
    "external_id",
    "name",
    "industry",
    "region",
    "owner",
    "status",
    "customer_since",
    "arr",
    "as_of",
    "value_score",
    "current_value",
    "potential_value",
    "quadrant",
    "rfm_code",
    "lifecycle_stage",
    "health_score",
    "health_band",
    "health_change",
    "open_alerts",
    "top_severity",
]


@pytest.fixture
def run(runtime: Runtime, book: dict[str, int]) -> Any:
    runner = CliRunner()
    home = str(runtime.settings.home)

    def invoke(*args: str) -> Result:
        return runner.invoke(app, [*args, "--home", home], env={"COLUMNS": "200"})

    return invoke


def listed(result: Result) -> list[str]:
    assert result.exit_code == 0, result.output
    return [item["external_id"] for item in json.loads(result.stdout)["items"]]


class TestList:
    def test_json_is_the_page_with_the_api_field_names(self, run: Any) -> None:
        result = run("list", "--json")
        assert result.exit_code == 0, result.output
        page = json.loads(result.stdout)
        assert list(page) == ["items", "total", "limit", "offset"]
        assert (page["total"], page["limit"], page["offset"]) == (5, 50, 0)
        assert list(page["items"][0]) == SUMMARY_FIELDS
        gamma = page["items"][0]
        assert gamma["external_id"] == "GAMMA"
        assert gamma["as_of"] == "2024-06-30"
        assert gamma["owner"] == {
            "external_id": "u-alice",
            "name": "Alice Chen",
            "email": "alice@example.com",
        }
        assert (gamma["quadrant"], gamma["lifecycle_stage"], gamma["health_band"]) == (
            "profit",
            "declining",
            "at_risk",
        )

    def test_table_shows_readable_labels_and_the_page(self, run: Any) -> None:
        result = run("list")
        assert result.exit_code == 0, result.output
        for text in (
            "Acme Manufacturing",
            "Strategic partner",
            "Declining",
            "critical",
            "120,000",
            "1–5 of 5 accounts",
        ):
            assert text in result.stdout
        assert "strategic_partner" not in result.stdout

    def test_rows_stay_one_line_on_a_narrow_terminal(
        self, runtime: Runtime, book: dict[str, int]
    ) -> None:
        home = str(runtime.settings.home)
        result = CliRunner().invoke(app, ["list", "--home", home], env={"COLUMNS": "90"})
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert max(len(line) for line in lines) <= 90
        assert len([line for line in lines if line.startswith("│")]) == 5
        assert "…" in result.stdout  # long names are cut, not wrapped

    def test_table_tells_how_to_get_the_next_page(self, run: Any) -> None:
        result = run("list", "--limit", "2")
        assert "1–2 of 5 accounts" in result.stdout
        assert "--offset 2" in result.stdout

    @pytest.mark.parametrize(
        ("args", "expected"),
        [
            (["--quadrant", "strategic_partner"], ["ACME"]),
            (["--stage", "growth"], ["BETA"]),
            (["--health", "watch"], ["BETA"]),
            (["--owner", "u-alice"], ["GAMMA", "ACME"]),
            (["--at-risk"], ["GAMMA", "BETA"]),
            (["--no-at-risk"], ["ACME", "DELTA", "90210"]),
            (["--status", "paused"], ["90210"]),
            (["--search", "beta"], ["BETA"]),
            (["--sort", "-arr", "--limit", "2"], ["ACME", "GAMMA"]),
            (["--sort=-health_score", "--offset", "3"], ["DELTA", "90210"]),
        ],
    )
    def test_filters_and_sorting(self, run: Any, args: list[str], expected: list[str]) -> None:
        assert listed(run("list", "--json", *args)) == expected

    @pytest.mark.parametrize(
        ("args", "option", "allowed"),
        [
            (["--quadrant", "gold"], "--quadrant", "strategic_partner, growth, profit, basic"),
            (["--stage", "old"], "--stage", "onboarding, growth, mature, declining"),
            (["--health", "fine"], "--health", "healthy, watch, at_risk"),
            (["--sort", "revenue"], "--sort", "health_score"),
            (["--limit", "0"], "--limit", "between 1 and 1000"),
        ],
    )
    def test_bad_values_are_usage_errors_listing_the_allowed_ones(
        self, run: Any, args: list[str], option: str, allowed: str
    ) -> None:
        result = run("list", *args)
        assert result.exit_code == 2
        message = " ".join(result.stderr.replace("│", " ").split())
        assert option in message
        assert allowed in message
        assert result.stdout == ""

    def test_unknown_owner_fails(self, run: Any) -> None:
        result = run("list", "--owner", "nobody@example.com")
        assert result.exit_code == 1
        assert "no user has external id or e-mail 'nobody@example.com'" in result.stderr


class TestShow:
    def test_json_is_the_detail_model(self, run: Any, runtime: Runtime) -> None:
        result = run("show", "ACME", "--json")
        assert result.exit_code == 0, result.output
        shown = json.loads(result.stdout)
        with runtime.sessions() as s:
            assert shown == get_account(s, "ACME").model_dump(mode="json")
        assert list(shown)[: len(SUMMARY_FIELDS)] == SUMMARY_FIELDS
        for field in (
            "health_breakdown",
            "value_breakdown",
            "rfm",
            "health_trend",
            "alerts",
            "recent_interactions",
            "contacts",
            "subscriptions",
            "tickets",
            "last_nps",
        ):
            assert field in shown

    def test_renders_every_section(self, run: Any) -> None:
        result = run("show", "1")
        assert result.exit_code == 0, result.output
        for text in (
            "Acme Manufacturing",
            "Scores as of 2024-06-30",
            "Strategic partner",
            "Mature",
            "545",
            "days_since_login",
            "55.4",
            "current.revenue_12m",
            "No open alerts",
            "Quarterly review",
            "Li Na",
            "Decision maker",
            "Suite",
            "120,000 CNY",
            "3 (1 open, 2 complaints)",
            "9/10",
            "Cost reduction",
        ):
            assert text in result.stdout, text

    def test_alerts_show_their_evidence(self, run: Any) -> None:
        result = run("show", "BETA")
        assert "Open alerts (2)" in result.stdout
        assert "days_since_login=9" in result.stdout

    def test_unscored_account(self, run: Any) -> None:
        result = run("show", "90210")
        assert result.exit_code == 0, result.output
        assert "not scored yet" in result.stdout

    def test_unknown_account_fails_with_the_key(self, run: Any) -> None:
        result = run("show", "NOPE")
        assert result.exit_code == 1
        assert "no account has external id 'NOPE'" in result.stderr
