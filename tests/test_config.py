"""tenure.toml: shipped defaults, and a precise message for every kind of mistake."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tenure.cli import app
from tenure.config import DEFAULT_CONFIG_PATH, load_config, parse_config
from tenure.errors import ConfigError


def defaults() -> dict[str, Any]:
    return tomllib.loads(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))


def problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    return caught.value.problems


def test_shipped_defaults_are_the_guides_numbers() -> None:
    config = load_config(None)
    assert (config.value.current_weight, config.value.potential_weight) == (0.6, 0.4)
    assert (config.lifecycle.onboarding_months, config.lifecycle.growth_months) == (3, 12)
    rules = {r.id: r.expression for r in config.risk.rules}
    assert rules["no_login_7d"] == "days_since_login >= 7"
    assert rules["low_core_usage"].endswith("core_usage < 0.3")
    assert rules["renewal_overdue"] == "days_renewal_overdue > 30"
    assert rules["nps_drop"] == "nps_change <= -20"
    assert "complaints_change >= 0.3" in rules["complaints_up"]
    assert "purchase_change <= -0.5" in rules["purchase_drop"]
    assert len(rules) == 8


def test_value_weights_must_add_up() -> None:
    data = defaults()
    data["value"]["current_weight"] = 0.7
    assert problems(data) == [
        ("value", "current_weight + potential_weight must be 1.0, they are 1.1")
    ]


def test_unknown_key_is_named() -> None:
    data = defaults()
    data["value"]["curent_weight"] = 0.6
    assert problems(data) == [("value.curent_weight", "Extra inputs are not permitted")]


def test_health_measure_problems_name_the_index() -> None:
    data = defaults()
    data["health"]["measures"][2]["feature"] = "usage_chnage"
    data["health"]["measures"][3]["good"] = data["health"]["measures"][3]["bad"]
    found = problems(data)
    assert ("health.measures[3]", "Value error, good and bad must differ") in found


def test_unknown_health_feature_and_weights() -> None:
    data = defaults()
    data["health"]["measures"][2]["feature"] = "usage_chnage"
    data["health"]["measures"][0]["weight"] = 0.3
    found = problems(data)
    assert ("health.measures[2].feature", "unknown feature 'usage_chnage'") in found
    assert ("health.measures", "weights must add up to 1.0, they add up to 1.1") in found


def test_bad_rule_expression_and_duplicate_id() -> None:
    data = defaults()
    data["risk"]["rules"][1]["expression"] = "core_usage < 0.3 or __import__('os')"
    data["risk"]["rules"][2]["id"] = data["risk"]["rules"][0]["id"]
    found = dict(problems(data))
    assert "risk.rules[1].expression" in found
    assert "not allowed" in found["risk.rules[1].expression"]
    assert found["risk.rules[2].id"] == "duplicate rule id 'no_login_7d'"


def test_type_error_and_rule_error_reported_together() -> None:
    data = defaults()
    data["health"]["measures"][0]["weight"] = "x"
    data["risk"]["rules"][0]["expression"] = "days_since_logn >= 7"
    found = dict(problems(data))
    assert found["health.measures[0].weight"].startswith("Input should be a valid number")
    assert found["risk.rules[0].expression"].startswith(
        "unknown feature 'days_since_logn' (did you mean 'days_since_login'?)"
    )


def test_cli_validate(tmp_path: Path) -> None:
    runner = CliRunner()
    home = tmp_path / "home"
    assert runner.invoke(app, ["config", "init", "--home", str(home)]).exit_code == 0
    ok = runner.invoke(app, ["config", "validate", "--home", str(home), "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["valid"] is True

    path = home / "tenure.toml"
    path.write_text(path.read_text().replace("bins = 5", "bins = 1"))
    bad = runner.invoke(app, ["config", "validate", "--home", str(home), "--json"])
    assert bad.exit_code == 1
    report = json.loads(bad.stdout)
    assert report["problems"] == [
        {"key": "rfm.bins", "message": "Input should be greater than or equal to 2"}
    ]
    text = runner.invoke(app, ["config", "validate", str(path)])
    assert text.exit_code == 1
    assert "rfm.bins" in text.output
