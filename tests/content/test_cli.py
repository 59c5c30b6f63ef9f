"""`tenure templates` and `tenure talk-tracks` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from tenure.cli import app
from tenure.content.models import MessageTemplate
from tenure.content.shipped import SHIPPED_TALK_TRACKS, SHIPPED_TEMPLATES
from tenure.db import transaction
from tenure.kit.runtime import Runtime

from .conftest import ContentBook


def runner_for(home: Path) -> Any:
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, [*args, "--home", str(home)], env={"COLUMNS": "200"})

    return invoke


@pytest.fixture
def run(content_book: ContentBook) -> Any:
    return runner_for(content_book.runtime.settings.home)


def test_install_shipped_on_a_new_home_then_again(runtime: Runtime) -> None:
    run = runner_for(runtime.settings.home)
    first = run("templates", "install-shipped")
    assert first.exit_code == 0, first.output
    assert first.output.splitlines() == [
        f"templates: {len(SHIPPED_TEMPLATES)} created, 0 updated, 0 unchanged, 0 kept (edited here)",
        f"talk tracks: {len(SHIPPED_TALK_TRACKS)} created, 0 updated, 0 unchanged, 0 kept (edited here)",
    ]
    with transaction(runtime.sessions) as s:
        s.query(MessageTemplate).filter_by(key="nps_survey", locale="en").one().shipped = False
    again = run("templates", "install-shipped", "--json")
    assert json.loads(again.output)["templates"] == {
        "created": 0, "updated": 0, "unchanged": len(SHIPPED_TEMPLATES) - 1, "kept": 1,
    }  # fmt: skip


def test_list_and_filter(run: Any) -> None:
    result = run("templates", "list", "--key", "onboarding_tutorial", "--json")
    assert result.exit_code == 0, result.output
    page = json.loads(result.output)
    assert page["total"] == 4
    assert {(t["locale"], t["format"]) for t in page["items"]} == {
        ("zh-CN", "video"), ("zh-CN", "document"), ("en", "video"), ("en", "document"),
    }  # fmt: skip
    table = run("templates", "list", "--locale", "en", "-q", "nps")
    assert table.exit_code == 0
    assert "nps_reminder" in table.output and "nps_survey" in table.output
    assert "onboarding" not in table.output
    bad = run("templates", "list", "--locale", "fr")
    assert bad.exit_code == 2
    assert "--locale" in bad.output


def test_show_by_key_picks_the_variant(run: Any) -> None:
    result = run("templates", "show", "feature_tutorial", "--locale", "en", "--format", "video",
                 "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert (shown["locale"], shown["format"], shown["shipped"]) == ("en", "video", True)
    missing = run("templates", "show", "no_such_key")
    assert missing.exit_code == 1
    assert "no template has key 'no_such_key'" in missing.output


def test_preview_for_an_account_and_for_sample_data(run: Any) -> None:
    result = run("templates", "preview", "usage_follow_up", "--account", "ACME", "--contact", "C2",
                 "--locale", "en", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    preview = json.loads(result.output)
    assert preview["subject"] == "Acme Manufacturing: a look at the last 30 days"
    assert preview["text"].startswith("Hi Li Na,")
    sample = run("templates", "preview", "nps_survey", "--link", "survey=https://t/s/x")
    assert sample.exit_code == 0, sample.output
    assert "星河智造科技有限公司" in sample.output
    needs_link = run("templates", "preview", "nps_survey", "--account", "ACME")
    assert needs_link.exit_code == 1
    assert "has no attribute 'survey'" in needs_link.output


def test_talk_track_search_and_show(run: Any) -> None:
    result = run("talk-tracks", "search", "续约", "--json")
    assert result.exit_code == 0, result.output
    assert [t["key"] for t in json.loads(result.output)["items"]] == ["renewal_terms"]
    table = run("talk-tracks", "search", "SLA")
    assert table.exit_code == 0
    assert "sla_support_hours" in table.output and "2 talk tracks" in table.output
    shown = run("talk-tracks", "show", "cancellation_process", "--locale", "en")
    assert shown.exit_code == 0, shown.output
    assert "Cancellation process" in shown.output and "certificate of deletion" in shown.output
