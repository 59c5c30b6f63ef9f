"""The configuration API: read, validate, save as a new version and tenure.toml, history."""

from __future__ import annotations

import copy
import tomllib
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tenure.auth.models import AuditEntry
from tenure.config import DEFAULT_CONFIG_PATH, load_config, parse_config
from tenure.configs.service import render_toml
from tenure.kit.runtime import Runtime

API = "/api/v1/config"
DEFAULTS = load_config(DEFAULT_CONFIG_PATH)


def config(**changes: Any) -> dict[str, Any]:
    """The shipped defaults as JSON with `changes` applied ("a.b" keys reach into sections)."""
    data = copy.deepcopy(DEFAULTS.model_dump(mode="json"))
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        target = data
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        target[last] = value
    return data


def test_render_toml_round_trips_the_config() -> None:
    tricky = config()
    tricky["risk"]["rules"][0]["name"] = 'Quote " backslash \\ tab \t 中文 \x7f'
    parsed = parse_config(tricky)
    text = render_toml(parsed, "first line\nsecond line")
    assert text.startswith("# first line\n# second line\n")
    assert parse_config(tomllib.loads(text)) == parsed
    assert "missing" not in tomllib.loads(text)["health"]["measures"][0]  # None is left out


def test_get_returns_the_effective_config(client: TestClient, admin: dict[str, str]) -> None:
    body = client.get(API, headers=admin).json()
    assert body["config"] == DEFAULTS.model_dump(mode="json")
    assert (body["version"], body["modified"]) == (None, False)


def test_put_saves_a_version_writes_the_file_and_audits(
    client: TestClient, admin: dict[str, str], book_runtime: Runtime
) -> None:
    first = client.put(
        f"{API}?comment=stricter login rule",
        json=config(**{"risk.rules.0.expression": "days_since_login >= 5"}),
        headers=admin,
    )
    assert first.status_code == 200, first.text
    assert (first.json()["version"], first.json()["author"]) == (1, "token:admin-token")
    on_disk = load_config(book_runtime.settings.config_path)
    assert on_disk.risk.rules[0].expression == "days_since_login >= 5"
    assert book_runtime.config.risk.rules[0].expression == "days_since_login >= 5"
    second = client.put(API, json=config(**{"rfm.bins": 4}), headers=admin)
    assert second.json()["version"] == 2
    current = client.get(API, headers=admin).json()
    assert (current["version"], current["modified"], current["config"]["rfm"]["bins"]) == (
        2,
        False,
        4,
    )

    versions = client.get(f"{API}/versions", headers=admin).json()
    assert versions["total"] == 2
    assert [(v["version"], v["author"], v["comment"]) for v in versions["items"]] == [
        (2, "token:admin-token", None),
        (1, "token:admin-token", "stricter login rule"),
    ]
    one = client.get(f"{API}/versions/1", headers=admin).json()
    assert one["config"]["risk"]["rules"][0]["expression"] == "days_since_login >= 5"
    assert tomllib.loads(one["content"]) == one["config"]
    missing = client.get(f"{API}/versions/9", headers=admin)
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "no config version 9"

    with book_runtime.sessions() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.entity == "config")).all()
    assert [(e.entity_id, e.before["rfm"]["bins"], e.after["rfm"]["bins"]) for e in entries] == [
        ("1", 5, 5),
        ("2", 5, 4),
    ]


def test_hand_edits_after_a_save_show_as_modified(
    client: TestClient, admin: dict[str, str], book_runtime: Runtime
) -> None:
    client.put(API, json=config(), headers=admin)
    path = book_runtime.settings.config_path
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited by hand\n", encoding="utf-8")
    assert client.get(API, headers=admin).json()["modified"] is True


@pytest.mark.parametrize(
    ("changes", "problems"),
    [
        ({"rfm.bins": 1}, {"rfm.bins"}),
        ({"value.current_weight": 0.9}, {"value"}),
        ({"health.measures.0.feature": "shoe_size"}, {"health.measures[0].feature"}),
        ({"risk.rules.2.expression": "core_usage <"}, {"risk.rules[2].expression"}),
        ({"risk.rules.1.colour": "red", "lifecycle.growth_months": "soon"},
         {"risk.rules[1].colour", "lifecycle.growth_months"}),
    ],
)  # fmt: skip
def test_put_names_every_bad_key_and_saves_nothing(
    client: TestClient,
    admin: dict[str, str],
    book_runtime: Runtime,
    changes: dict[str, Any],
    problems: set[str],
) -> None:
    before = book_runtime.settings.config_path.read_text(encoding="utf-8")
    response = client.put(API, json=config(**changes), headers=admin)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "config_error"
    assert {d["field"] for d in error["details"]} == problems
    assert all(d["message"] for d in error["details"])
    assert book_runtime.settings.config_path.read_text(encoding="utf-8") == before
    assert client.get(f"{API}/versions", headers=admin).json()["total"] == 0


def test_validate_checks_without_saving(client: TestClient, admin: dict[str, str]) -> None:
    ok = client.post(f"{API}/validate", json=config(), headers=admin).json()
    assert ok == {"valid": True, "problems": []}
    bad = client.post(
        f"{API}/validate",
        json=config(**{"rfm.bins": 99, "value.current_cutoff": -1}),
        headers=admin,
    )
    assert bad.status_code == 200
    assert bad.json()["valid"] is False
    assert {p["field"] for p in bad.json()["problems"]} == {"rfm.bins", "value.current_cutoff"}
    not_finite = client.post(
        f"{API}/validate",
        content=b'{"rfm": {"bins": NaN}}',
        headers={**admin, "content-type": "application/json"},
    )
    assert not_finite.json()["problems"] == [
        {"field": "rfm.bins", "message": "must be a finite number"}
    ]
    assert client.get(f"{API}/versions", headers=admin).json()["total"] == 0
