"""Importing through the service: every entity, upsert semantics, bad rows, atomicity."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tenure.accounts.models import Account, Contact, User
from tenure.commerce.models import Order, Subscription
from tenure.feedback.models import Interaction, NpsResponse, Ticket
from tenure.imports.report import ImportFileError, ImportOptions, ImportWriteError, RowError
from tenure.imports.service import import_file
from tenure.kit.runtime import Runtime

OLD = dt.datetime(2020, 1, 1)
Write = Callable[..., Path]
Rows = Callable[..., list[dict[str, Any]]]
Count = Callable[[Runtime, Any], int]


def _by_key(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["external_id"]: r for r in rows}


def _id(rt: Runtime, model: Any, key: str) -> int:
    with rt.engine.connect() as conn:
        return int(conn.execute(sa.select(model.id).where(model.external_id == key)).scalar_one())


class TestEveryEntity:
    def test_each_entity_loads_with_references(
        self, seeded: Runtime, write: Write, rows: Rows
    ) -> None:
        rt = seeded
        files = {
            "users": "external_id,email,name,role,is_active\nU3,carol@example.com,Carol,manager,N\n",
            "accounts": "external_id,name,owner,employees,customer_since,strategic_goal\n"
            'A3,Gamma,bob@example.com,"1,200",2023-06-30,Cost Reduction\n',
            "contacts": "external_id,account_id,name,role,channel_preference,opt_out_channels\n"
            "C1,A1,Wang Wei,Key User,WeCom,sms; email\n",
            "subscriptions": "external_id,account_id,product,start_date,end_date,arr,auto_renew\n"
            "S1,A1,Pro,2024-01-01,2024-12-31,12000.5,yes\n",
            "orders": "external_id,account_id,order_date,amount,margin,product\n"
            "O1,A1,2024-03-01,5000,1200.25,Pro\n",
            "tickets": "external_id,account_id,contact_id,opened_at,severity,is_complaint,subject\n"
            "T1,A1,C1,2024-03-01T09:30:00+08:00,HIGH,是,导出失败\n",
            "nps": "external_id,account_id,contact_id,responded_at,score,comment\n"
            "N1,A1,C1,2024-03-02 10:00,9,很好\n",
            "interactions": "external_id,account_id,contact_id,user_id,occurred_at,channel,type,"
            "sentiment\nI1,A1,C1,U1,2024-03-03 11:00,wecom,call,positive\n",
        }
        for entity, text in files.items():
            summary = import_file(rt, entity, write(f"{entity}.csv", text))
            assert (summary.inserted, summary.rejected, summary.errors) == (1, 0, []), entity
            assert summary.committed

        a1, c1, u1 = _id(rt, Account, "A1"), _id(rt, Contact, "C1"), _id(rt, User, "U1")
        carol = _by_key(rows(rt, User))["U3"]
        assert (carol["role"], carol["is_active"], carol["locale"]) == ("manager", False, "zh-CN")
        gamma = _by_key(rows(rt, Account))["A3"]
        assert gamma["owner_id"] == _id(rt, User, "U2")
        assert (gamma["employees"], gamma["customer_since"]) == (1200, dt.date(2023, 6, 30))
        assert (gamma["strategic_goal"], gamma["status"], gamma["attributes"]) == (
            "cost_reduction",
            "active",
            {},
        )
        contact = rows(rt, Contact)[0]
        assert (contact["account_id"], contact["role"], contact["channel_preference"]) == (
            a1,
            "key_user",
            "wecom",
        )
        assert contact["opt_out_channels"] == ["sms", "email"]
        sub = rows(rt, Subscription)[0]
        assert (sub["arr"], sub["mrr"], sub["currency"], sub["auto_renew"]) == (
            12000.5,
            0.0,
            "CNY",
            True,
        )
        assert sub["end_date"] == dt.date(2024, 12, 31)
        order = rows(rt, Order)[0]
        assert (order["account_id"], order["amount"], order["margin"]) == (a1, 5000.0, 1200.25)
        ticket = rows(rt, Ticket)[0]
        assert (ticket["contact_id"], ticket["severity"], ticket["is_complaint"]) == (
            c1,
            "high",
            True,
        )
        assert ticket["opened_at"] == dt.datetime(2024, 3, 1, 1, 30)  # stored as UTC
        nps = rows(rt, NpsResponse)[0]
        assert (nps["score"], nps["comment"], nps["responded_at"]) == (
            9,
            "很好",
            dt.datetime(2024, 3, 2, 10, 0),
        )
        touch = rows(rt, Interaction)[0]
        assert (touch["user_id"], touch["channel"], touch["direction"], touch["type"]) == (
            u1,
            "wecom",
            "outbound",
            "call",
        )


class TestUpsert:
    FILE = "external_id,name,region,Tier\nA1,Acme,east,gold\nA3,Gamma,west,silver\n"

    def _age(self, rt: Runtime) -> None:
        with rt.engine.begin() as conn:
            conn.execute(sa.update(Account.__table__).values(updated_at=OLD))

    def test_reimport_changes_nothing(
        self, any_runtime: Runtime, seed_fn: Any, write: Write, rows: Rows
    ) -> None:
        rt = any_runtime
        seed_fn(rt)
        path = write("accounts.csv", self.FILE)
        mapping = write("m.toml", 'attributes = ["Tier"]\n')
        options = ImportOptions(mapping=mapping)
        first = import_file(rt, "accounts", path, options)
        assert (first.read, first.inserted, first.updated, first.unchanged) == (2, 1, 1, 0)
        self._age(rt)
        before = rows(rt, Account)
        again = import_file(rt, "accounts", path, options)
        assert (again.inserted, again.updated, again.unchanged, again.rejected) == (0, 0, 2, 0)
        assert rows(rt, Account) == before  # updated_at included: nothing was touched
        assert {r["external_id"]: r["updated_at"] for r in before} == {
            "A1": OLD,
            "A2": OLD,
            "A3": OLD,
        }

    def test_changed_row_updates_only_what_changed(
        self, any_runtime: Runtime, seed_fn: Any, write: Write, rows: Rows
    ) -> None:
        rt = any_runtime
        seed_fn(rt)
        mapping = write("m.toml", 'attributes = ["Tier"]\n')
        import_file(rt, "accounts", write("a.csv", self.FILE), ImportOptions(mapping=mapping))
        with rt.engine.begin() as conn:  # a change made in Tenure, not in the file
            conn.execute(
                sa.update(Account.__table__)
                .where(Account.external_id == "A3")
                .values(churn_reason="manual note", attributes={"Tier": "silver", "kept": 1})
            )
        self._age(rt)
        statements: list[str] = []
        sa.event.listen(
            rt.engine,
            "before_cursor_execute",
            lambda conn, cursor, stmt, *args: statements.append(stmt),
        )
        changed = self.FILE.replace("A3,Gamma,west,silver", "A3,Gamma,north,silver")
        summary = import_file(
            rt, "accounts", write("b.csv", changed), ImportOptions(mapping=mapping)
        )
        assert (summary.inserted, summary.updated, summary.unchanged) == (0, 1, 1)
        updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
        assert len(updates) == 1
        set_clause = updates[0].upper().split(" SET ")[1].split(" WHERE ")[0]
        assert "REGION" in set_clause and "NAME" not in set_clause
        assert "ATTRIBUTES" not in set_clause
        accounts = _by_key(rows(rt, Account))
        assert accounts["A3"]["region"] == "north"
        assert accounts["A3"]["churn_reason"] == "manual note"
        assert accounts["A3"]["attributes"] == {"Tier": "silver", "kept": 1}
        assert accounts["A3"]["updated_at"] > OLD
        assert accounts["A1"]["updated_at"] == OLD

    def test_attributes_merge_into_stored_ones(
        self, seeded: Runtime, write: Write, rows: Rows
    ) -> None:
        with seeded.engine.begin() as conn:
            conn.execute(
                sa.update(Account.__table__)
                .where(Account.external_id == "A1")
                .values(attributes={"old": 1, "Tier": "bronze"})
            )
        mapping = write("m.toml", '[attributes]\n"Tier" = "tier"\n"Segment" = "segment"\n')
        text = "external_id,name,Tier,Segment\nA1,Acme,gold,\n"
        import_file(seeded, "accounts", write("a.csv", text), ImportOptions(mapping=mapping))
        assert _by_key(rows(seeded, Account))["A1"]["attributes"] == {
            "old": 1,
            "Tier": "bronze",
            "tier": "gold",
        }


TICKETS = (
    "external_id,account_id,opened_at,severity,subject\n"
    "T1,A1,2024-03-01,high,ok\n"
    "T2,A9,2024-03-02,low,unknown account\n"
    "T3,A1,2024-13-01,medium,bad date\n"
    "T4,A1,2024-03-04,urgent,bad severity\n"
    "T1,A2,2024-03-05,low,same id as row 2\n"
    "T5,A2,2024-03-06,,fine\n"
)
TICKET_ERRORS = [
    RowError(2, "external_id", "duplicate external_id 'T1': also in row 6"),
    RowError(3, "account_id", "unknown account 'A9'"),
    RowError(
        4,
        "opened_at",
        "'2024-13-01' is not a date-time in format ISO 8601 (%Y-%m-%d or %Y-%m-%dT%H:%M:%S)",
    ),
    RowError(5, "severity", "'urgent' is not one of low, medium, high, critical"),
    RowError(6, "external_id", "duplicate external_id 'T1': also in row 2"),
]


class TestBadRows:
    def test_every_bad_row_is_reported_and_kept(
        self, any_runtime: Runtime, seed_fn: Any, write: Write, rows: Rows, tmp_path: Path
    ) -> None:
        rt = any_runtime
        seed_fn(rt)
        rejects = tmp_path / "out" / "rejects.csv"
        summary = import_file(
            rt, "tickets", write("t.csv", TICKETS), ImportOptions(rejects=rejects)
        )
        assert summary.errors == TICKET_ERRORS
        assert TICKET_ERRORS[2].text() == (
            "row 4, column 'opened_at': '2024-13-01' is not a date-time in format "
            "ISO 8601 (%Y-%m-%d or %Y-%m-%dT%H:%M:%S)"
        )
        assert (summary.read, summary.inserted, summary.rejected) == (6, 1, 5)
        assert summary.rejects_file == str(rejects)
        stored = rows(rt, Ticket)
        assert [(t["external_id"], t["severity"]) for t in stored] == [("T5", "medium")]

        with rejects.open(encoding="utf-8", newline="") as handle:
            kept = list(csv.DictReader(handle))
        assert [(r["external_id"], r["_row"]) for r in kept] == [
            ("T1", "2"),
            ("T2", "3"),
            ("T3", "4"),
            ("T4", "5"),
            ("T1", "6"),
        ]
        assert kept[2]["opened_at"] == "2024-13-01"
        assert kept[1]["_errors"] == "column 'account_id': unknown account 'A9'"

        # Fix the rejects file and import it again: _row and _errors are ignored.
        fixed = [r for r in kept if r["_row"] != "6"]
        fixed[1]["account_id"], fixed[2]["opened_at"], fixed[3]["severity"] = (
            "A2",
            "2024-03-03",
            "critical",
        )
        with rejects.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(kept[0]))
            writer.writeheader()
            writer.writerows(fixed)
        again = import_file(rt, "tickets", rejects)
        assert (again.inserted, again.rejected, again.ignored_columns) == (4, 0, [])
        assert [t["external_id"] for t in rows(rt, Ticket)] == ["T1", "T2", "T3", "T4", "T5"]

    def test_strict_writes_nothing(self, seeded: Runtime, write: Write, count: Count) -> None:
        summary = import_file(
            seeded, "tickets", write("t.csv", TICKETS), ImportOptions(strict=True)
        )
        assert (summary.inserted, summary.rejected, summary.committed) == (0, 5, False)
        assert summary.rejects_file is not None and Path(summary.rejects_file).exists()
        assert Path(summary.rejects_file).parent == seeded.settings.rejects_dir
        assert count(seeded, Ticket) == 0

    def test_dry_run_counts_but_writes_nothing(
        self, seeded: Runtime, write: Write, count: Count
    ) -> None:
        text = "external_id,name\nA1,Acme renamed\nA3,Gamma\n"
        summary = import_file(seeded, "accounts", write("a.csv", text), ImportOptions(dry_run=True))
        assert (summary.inserted, summary.updated, summary.committed) == (1, 1, False)
        assert count(seeded, Account) == 2

    def test_missing_required_column_is_reported_once(
        self, seeded: Runtime, write: Write, count: Count
    ) -> None:
        path = write("t.csv", "external_id,account_id,subject\nT1,A1,x\nT2,A1,y\n")
        with pytest.raises(ImportFileError) as err:
            import_file(seeded, "tickets", path)
        assert err.value.problems == [
            RowError(
                None,
                "opened_at",
                "required column 'opened_at' is missing; columns found: "
                "'external_id', 'account_id', 'subject'",
            )
        ]
        assert count(seeded, Ticket) == 0

    def test_wrong_encoding_writes_nothing(
        self, seeded: Runtime, write: Write, count: Count
    ) -> None:
        path = write("a.csv", b"external_id,name\nA3,\xff\xfeoops\n")
        with pytest.raises(ImportFileError, match=r"byte 0xFF at offset 20 \(line 2\)"):
            import_file(seeded, "accounts", path)
        assert count(seeded, Account) == 2

    def test_users_email_must_stay_unique(self, seeded: Runtime, write: Write) -> None:
        text = (
            "external_id,email,name\nU3,ALICE@example.com,Impostor\n"
            "U4,d@example.com,D\nU5,D@example.com,D2\nU2,bob@example.com,Bob\n"
        )
        summary = import_file(seeded, "users", write("u.csv", text))
        assert summary.errors == [
            RowError(2, "email", "email 'ALICE@example.com' belongs to user 'U1'"),
            RowError(3, "email", "duplicate email 'd@example.com': also in row 4"),
            RowError(4, "email", "duplicate email 'D@example.com': also in row 3"),
        ]
        assert (summary.unchanged, summary.inserted) == (1, 0)

    def test_contact_of_another_account(self, seeded: Runtime, write: Write) -> None:
        import_file(seeded, "contacts", write("c.csv", "external_id,account_id,name\nC1,A2,Li\n"))
        text = "external_id,account_id,contact_id,responded_at,score\nN1,A1,C1,2024-01-01,11\n"
        summary = import_file(seeded, "nps", write("n.csv", text))
        assert summary.errors == [
            RowError(2, "contact_id", "contact 'C1' belongs to account 'A2', not 'A1'"),
            RowError(2, "score", "'11' is out of range: must be between 0 and 10"),
        ]


class TestAtomicity:
    def test_failed_write_rolls_back_everything(
        self, any_runtime: Runtime, seed_fn: Any, write: Write, rows: Rows
    ) -> None:
        rt = any_runtime
        seed_fn(rt)
        with rt.engine.begin() as conn:  # a constraint the validation does not know about
            conn.execute(sa.text("CREATE UNIQUE INDEX ux_test_account_name ON accounts (name)"))
        before = rows(rt, Account)
        lines = ["external_id,name,region", "A1,Acme,east"]  # an update, executed first
        lines += [f"N{i:05d},New {i},south" for i in range(6000)]  # two insert batches
        lines.append("N99999,New 5999,south")  # violates the index in the last batch
        with pytest.raises(ImportWriteError, match="nothing was written"):
            import_file(rt, "accounts", write("a.csv", "\n".join(lines) + "\n"))
        assert rows(rt, Account) == before
