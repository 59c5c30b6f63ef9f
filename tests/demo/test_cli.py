"""`tenure demo-data` from the shell: builds, refuses a home with data, --force rebuilds."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from tenure.demo import load_ground_truth
from tenure.demo.cli import demo_data

root = typer.Typer()
root.command("demo-data")(demo_data)
root.command("noop")(lambda: None)  # two commands, so "demo-data" is a subcommand as in tenure
runner = CliRunner()
ARGS = ["demo-data", "--accounts", "30", "--months", "4", "--seed", "3", "--as-of", "2026-03-31"]


def test_builds_refuses_a_second_time_and_rebuilds_with_force(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = runner.invoke(root, [*ARGS, "--home", str(home), "--json"])
    assert first.exit_code == 0, first.output
    summary = json.loads(first.output)
    assert summary["rows"]["accounts"] == 30
    assert summary["as_of"] == "2026-03-31"
    assert load_ground_truth(home)["seed"] == 3

    again = runner.invoke(root, [*ARGS, "--home", str(home)])
    assert again.exit_code == 1
    assert "--force" in again.output

    forced = runner.invoke(root, [*ARGS, "--home", str(home), "--seed", "4", "--force", "--json"])
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.output)["rows"]["accounts"] == 30
    assert load_ground_truth(home)["seed"] == 4


def test_prints_a_summary_table(tmp_path: Path) -> None:
    result = runner.invoke(root, [*ARGS, "--home", str(tmp_path / "h"), "--locale", "en"])
    assert result.exit_code == 0, result.output
    assert "accounts" in result.output and "cohort: churned" in result.output


def test_bad_date_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(root, ["demo-data", "--home", str(tmp_path), "--as-of", "31/03/2026"])
    assert result.exit_code == 2
