"""`tenure users` and `tenure tokens` as an operator runs them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from tenure.accounts.models import User
from tenure.auth.cli import tokens_app, users_app
from tenure.auth.models import AuditEntry, UserSession
from tenure.auth.passwords import verify_password
from tenure.auth.service import start_session
from tenure.auth.tokens import hash_token, verify_token
from tenure.db import transaction
from tenure.kit.runtime import Runtime


@pytest.fixture
def run(runtime: Runtime) -> Any:
    runner = CliRunner()
    home = str(runtime.settings.home)

    def invoke(app: Any, *args: str, stdin: str | None = None) -> Result:
        return runner.invoke(app, [*args, "--home", home], input=stdin, env={"COLUMNS": "200"})

    return invoke


def user(runtime: Runtime, email: str) -> User:
    with runtime.sessions() as session:
        return session.scalars(select(User).where(User.email == email)).one()


def audit_actions(runtime: Runtime) -> list[tuple[str, str]]:
    with runtime.sessions() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        return [(e.actor, e.action) for e in rows]


class TestUsers:
    def test_create_from_stdin_then_list_as_json(self, run: Any, runtime: Runtime) -> None:
        created = run(
            users_app,
            "create",
            "Ann@Example.com",
            "--name",
            "Ann",
            "--role",
            "manager",
            "--department",
            "EMEA",
            "--password-stdin",
            stdin="a fine password\n",
        )
        assert created.exit_code == 0, created.output
        stored = user(runtime, "ann@example.com")
        assert stored.role == "manager" and stored.department == "EMEA"
        assert verify_password(stored.password_hash, "a fine password")
        listed = run(users_app, "list", "--json")
        page = json.loads(listed.stdout)
        assert page["total"] == 1
        assert page["items"][0]["email"] == "ann@example.com"
        assert "password_hash" not in page["items"][0]
        assert audit_actions(runtime) == [("cli", "create")]
        table = run(users_app, "list")
        assert table.exit_code == 0
        assert "ann@example.com" in table.stdout and "manager" in table.stdout

    def test_create_prompts_twice_for_the_password(self, run: Any, runtime: Runtime) -> None:
        result = run(
            users_app,
            "create",
            "bo@example.com",
            "--name",
            "Bo",
            stdin="a fine password\na fine password\n",
        )
        assert result.exit_code == 0, result.output
        assert verify_password(user(runtime, "bo@example.com").password_hash, "a fine password")

    def test_weak_password_or_bad_role_exits_1_and_saves_nothing(
        self, run: Any, runtime: Runtime
    ) -> None:
        weak = run(users_app, "create", "c@example.com", "--name", "C", "--password", "short")
        assert weak.exit_code == 1
        assert "at least 10 characters" in weak.stderr
        role = run(
            users_app,
            "create",
            "c@example.com",
            "--name",
            "C",
            "--role",
            "boss",
            "--password",
            "a fine password",
        )
        assert role.exit_code == 1
        assert "unknown role 'boss'" in role.stderr
        assert json.loads(run(users_app, "list", "--json").stdout)["total"] == 0

    def test_set_role_reset_password_and_deactivate(self, run: Any, runtime: Runtime) -> None:
        run(users_app, "create", "d@example.com", "--name", "D", "--password", "first password")
        with transaction(runtime.sessions) as session:
            start_session(session, user=session.scalars(select(User)).one())
        assert run(users_app, "set-role", "d@example.com", "viewer").exit_code == 0
        assert user(runtime, "d@example.com").role == "viewer"
        reset = run(
            users_app,
            "reset-password",
            "d@example.com",
            "--password-stdin",
            stdin="second password\n",
        )
        assert reset.exit_code == 0, reset.output
        stored = user(runtime, "d@example.com")
        assert verify_password(stored.password_hash, "second password")
        with runtime.sessions() as session:
            assert session.scalars(select(UserSession)).all() == []
        assert run(users_app, "deactivate", "d@example.com").exit_code == 0
        assert user(runtime, "d@example.com").is_active is False
        assert audit_actions(runtime) == [
            ("cli", "create"),
            ("d@example.com", "login"),
            ("cli", "update"),
            ("cli", "reset_password"),
            ("cli", "update"),
        ]

    def test_unknown_user_exits_1(self, run: Any) -> None:
        result = run(users_app, "set-role", "ghost@example.com", "admin")
        assert result.exit_code == 1
        assert "no user with e-mail or external id 'ghost@example.com'" in result.stderr


class TestTokens:
    def test_create_prints_the_token_once_list_hides_it_revoke_kills_it(
        self, run: Any, runtime: Runtime
    ) -> None:
        run(users_app, "create", "e@example.com", "--name", "E", "--password", "a fine password")
        created = run(
            tokens_app,
            "create",
            "--user",
            "e@example.com",
            "--name",
            "etl",
            "--scope",
            "read",
            "--scope",
            "write",
        )
        assert created.exit_code == 0, created.output
        plain = created.stdout.strip()
        assert plain.startswith("tnr_")
        assert "not shown again" in created.stderr
        with runtime.sessions() as session:
            token = verify_token(session, plain)
            assert token is not None
            assert token.scopes == ["read", "write"]
            assert token.token_hash == hash_token(plain)
        listed = run(tokens_app, "list", "--json")
        page = json.loads(listed.stdout)
        assert page["total"] == 1
        assert page["items"][0]["prefix"] == plain[:8]
        assert plain not in listed.stdout
        table = run(tokens_app, "list")
        assert f"{plain[:8]}…" in table.stdout and "read, write" in table.stdout
        revoked = run(tokens_app, "revoke", str(page["items"][0]["id"]))
        assert revoked.exit_code == 0, revoked.output
        with runtime.sessions() as session:
            assert verify_token(session, plain) is None
        assert json.loads(run(tokens_app, "list", "--json").stdout)["total"] == 0
        assert json.loads(run(tokens_app, "list", "--revoked", "--json").stdout)["total"] == 1
        assert audit_actions(runtime)[-2:] == [("cli", "create"), ("cli", "revoke")]

    def test_unknown_scope_exits_1_naming_the_allowed_ones(self, run: Any) -> None:
        run(users_app, "create", "f@example.com", "--name", "F", "--password", "a fine password")
        result = run(
            tokens_app, "create", "--user", "f@example.com", "--name", "x", "--scope", "all"
        )
        assert result.exit_code == 1
        assert "unknown scope 'all'; allowed: read, write, admin, events:write" in result.stderr
