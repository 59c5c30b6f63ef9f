"""`tenure import ...` through Typer's CliRunner: summary, --json, exit codes, rejects."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from typer.testing import CliRunner

from tenure.accounts.models import Account
from tenure.feedback.models import Ticket
from tenure.imports.cli import app
from tenure.kit.runtime import Runtime

Write = Callable[..., Path]
runner = CliRunner()


def _invoke(rt: Runtime, *args: str) -> Any:
    return runner.invoke(app, [*args, "--home", str(rt.settings.home)])


class TestImportCommand:
    def test_summary_table_and_exit_zero(
        self, seeded: Runtime, write: Write, count: Callable[..., int]
    ) -> None:
        path = write("a.csv", "external_id,name,Tier\nA1,Acme\nA3,Gamma,gold\n")
        result = _invoke(seeded, "accounts", str(path))
        assert result.exit_code == 0, result.output
        assert "read ┃ inserted ┃ updated ┃ unchanged ┃ rejected" in result.stdout
        assert "│    2 │        1 │       0 │         1 │        0 │" in result.stdout
        assert "ignored columns (not mapped): 'Tier'" in result.stdout
        assert count(seeded, Account) == 3

    def test_json_summary_rejects_and_exit_one(
        self, seeded: Runtime, write: Write, tmp_path: Path
    ) -> None:
        path = write(
            "t.csv", "external_id,account_id,opened_at\nT1,A1,2024-03-01\nT2,A7,2024-03-01\n"
        )
        rejects = tmp_path / "bad.csv"
        result = _invoke(seeded, "tickets", str(path), "--json", "--rejects", str(rejects))
        assert result.exit_code == 1
        summary = json.loads(result.stdout)
        assert {
            k: summary[k]
            for k in (
                "entity",
                "file",
                "read",
                "inserted",
                "updated",
                "unchanged",
                "rejected",
                "rejects_file",
                "errors",
            )
        } == {
            "entity": "tickets",
            "file": str(path),
            "read": 2,
            "inserted": 1,
            "updated": 0,
            "unchanged": 0,
            "rejected": 1,
            "rejects_file": str(rejects),
            "errors": [{"row": 3, "column": "account_id", "message": "unknown account 'A7'"}],
        }
        assert rejects.read_text(encoding="utf-8").splitlines() == [
            "external_id,account_id,opened_at,_row,_errors",
            "T2,A7,2024-03-01,3,column 'account_id': unknown account 'A7'",
        ]

    def test_errors_are_printed_with_row_and_column(self, seeded: Runtime, write: Write) -> None:
        path = write("t.csv", "external_id,account_id,opened_at\nT1,A1,2024-13-01\n")
        result = _invoke(seeded, "tickets", str(path), "--strict")
        assert result.exit_code == 1
        assert "--strict: nothing written" in result.stdout
        assert (
            "row 2, column 'opened_at': '2024-13-01' is not a date-time in format ISO 8601"
            in result.stderr
        )

    def test_mapping_and_dry_run_options(
        self, seeded: Runtime, write: Write, count: Callable[..., int]
    ) -> None:
        mapping = write(
            "m.toml",
            '[columns]\n"工单号" = "external_id"\n"客户" = "account_id"\n'
            '"创建时间" = "opened_at"\n"优先级" = "severity"\n'
            '[formats]\nopened_at = "%Y/%m/%d"\n[values.severity]\n"高" = "high"\n',
        )
        path = write("t.csv", "工单号,客户,创建时间,优先级\nT1,A1,2024/03/01,高\n", "gb18030")
        result = _invoke(seeded, "tickets", str(path), "-m", str(mapping), "--dry-run", "--json")
        assert result.exit_code == 0, result.output
        summary = json.loads(result.stdout)
        assert (summary["inserted"], summary["dry_run"], summary["committed"]) == (1, True, False)
        assert count(seeded, Ticket) == 0

    def test_missing_column_exit_two(self, seeded: Runtime, write: Write) -> None:
        path = write("t.csv", "external_id,opened_at\nT1,2024-03-01\n")
        result = _invoke(seeded, "tickets", str(path), "--json")
        assert result.exit_code == 2
        assert json.loads(result.stdout)["errors"] == [
            {
                "row": None,
                "column": "account_id",
                "message": "required column 'account_id' is missing; columns found: "
                "'external_id', 'opened_at'",
            }
        ]

    def test_unreadable_file_exit_two(self, seeded: Runtime, tmp_path: Path) -> None:
        result = _invoke(seeded, "accounts", str(tmp_path / "nope.csv"))
        assert result.exit_code == 2
        assert "does not exist" in result.stderr

    def test_database_refusal_exit_three(
        self, seeded: Runtime, write: Write, count: Callable[..., int]
    ) -> None:
        with seeded.engine.begin() as conn:
            conn.execute(sa.text("CREATE UNIQUE INDEX ux_test_name ON accounts (name)"))
        path = write("a.csv", "external_id,name\nA3,Same\nA4,Same\n")
        result = _invoke(seeded, "accounts", str(path))
        assert result.exit_code == 3
        assert "nothing was written" in result.stderr
        assert count(seeded, Account) == 2


class TestFieldsCommand:
    def test_lists_fields_with_allowed_values(self) -> None:
        result = runner.invoke(app, ["fields", "tickets", "--json"])
        assert result.exit_code == 0
        fields = {f["name"]: f for f in json.loads(result.stdout)["fields"]}
        assert fields["severity"]["type"] == "one of low, medium, high, critical"
        assert fields["opened_at"]["required"] is True
        assert fields["account_id"]["type"] == "accounts external id"

    def test_every_entity_has_a_command(self) -> None:
        result = runner.invoke(app, ["--help"])
        for entity in (
            "users",
            "accounts",
            "contacts",
            "subscriptions",
            "orders",
            "tickets",
            "nps",
            "interactions",
            "events",
            "fields",
        ):
            assert entity in result.stdout
