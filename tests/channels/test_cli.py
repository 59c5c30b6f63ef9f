"""`tenure channels` as an operator runs it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from typer.testing import CliRunner, Result

from tenure.channels.cli import app
from tenure.kit.runtime import Runtime

from .conftest import VendorServer, webhook_receiver

SECRET = "whsec-from-stdin-0001"


@pytest.fixture
def run(runtime: Runtime) -> Callable[..., Result]:
    runner = CliRunner()
    home = str(runtime.settings.home)

    def invoke(*args: str, stdin: str | None = None) -> Result:
        return runner.invoke(app, [*args, "--home", home], input=stdin, env={"COLUMNS": "200"})

    return invoke


def test_add_list_test_and_remove(
    run: Callable[..., Result], runtime: Runtime, vendor_server: Callable[..., VendorServer]
) -> None:
    receiver = vendor_server(webhook_receiver(SECRET))
    added = run(
        "add", "ops", "--kind", "webhook", "--set", f"url={receiver.url}/in", "--set",
        "timeout=3", "--secrets-stdin", stdin=f"signing_secret={SECRET}\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "added endpoint 1 ops (webhook); secrets: signing_secret" in added.output
    with runtime.engine.connect() as conn:
        assert SECRET not in conn.execute(text("SELECT secrets FROM channel_endpoints")).scalar()

    listed = run("list", "--json")
    assert listed.exit_code == 0, listed.output
    (row,) = json.loads(listed.output)
    assert row["settings"] == {"url": f"{receiver.url}/in", "timeout": 3.0}
    assert row["secrets_set"] == ["signing_secret"] and SECRET not in listed.output

    tested = run("test", "ops")
    assert tested.exit_code == 0, tested.output
    assert "ok (id evt_1)" in tested.output
    assert len(receiver.received) == 1

    removed = run("remove", "1")
    assert removed.exit_code == 0 and "removed endpoint 1" in removed.output
    assert json.loads(run("list", "--json").output) == []


def test_a_refused_setting_is_named_and_nothing_saved(run: Callable[..., Any]) -> None:
    result = run(
        "add", "mail", "--kind", "email", "--set", "host=smtp.example.com", "--set", "port=abc",
        "--set", "sender_address=cs@example.com", "--secret", "username=u",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "settings.port" in result.output and "secrets:" in result.output
    assert json.loads(run("list", "--json").output) == []
    bad = run("add", "x", "--kind", "webhook", "--set", "no-equals-sign")
    assert bad.exit_code == 2


def test_a_failed_test_exits_1(
    run: Callable[..., Result], vendor_server: Callable[..., VendorServer]
) -> None:
    receiver = vendor_server(lambda _: (500, "text/plain", b"boom"))
    run("add", "down", "--kind", "webhook", "--set", f"url={receiver.url}",
        "--secret", f"signing_secret={SECRET}")  # fmt: skip
    result = run("test", "down")
    assert result.exit_code == 1
    assert "failed (transient): HTTP 500: boom" in result.output
    assert "no channel endpoint is named 'nope'" in run("test", "nope").output


def test_keygen_prints_a_fernet_key() -> None:
    result = CliRunner().invoke(app, ["keygen"])
    assert result.exit_code == 0
    key = result.output.strip().encode()
    assert Fernet(key).decrypt(Fernet(key).encrypt(b"x")) == b"x"
    assert CliRunner().invoke(app, ["keygen"]).output.strip().encode() != key
