"""The demo data set: deterministic, complete, consistent, in the chosen language."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from tenure.demo import build_demo
from tenure.demo.generate import plan_only
from tenure.kit.runtime import Runtime

from .conftest import AS_OF, Demo, build

TABLES = ("users", "accounts", "contacts", "subscriptions", "orders", "tickets",
          "nps_responses", "interactions")  # fmt: skip
CJK = re.compile(r"[\u4e00-\u9fff]")


def _snapshot(demo: Demo) -> dict[str, pd.DataFrame]:
    out = {}
    for table in TABLES:
        frame = demo.frame(f"SELECT * FROM {table} ORDER BY external_id")
        out[table] = frame.drop(columns=["created_at", "updated_at"])
    out["events"] = demo.events().sort_values("message_id").reset_index(drop=True)
    return out


class TestDeterminism:
    def test_same_seed_gives_the_same_rows(self, tmp_path: Path) -> None:
        kw = {"accounts": 40, "months": 4}
        first, second = build(tmp_path / "a", **kw), build(tmp_path / "b", **kw)
        try:
            a, b = _snapshot(first), _snapshot(second)
            for name in a:
                pd.testing.assert_frame_equal(a[name], b[name], obj=name)
            assert first.truth == second.truth
        finally:
            first.runtime.close()
            second.runtime.close()

    def test_another_seed_gives_other_data(self) -> None:
        one = plan_only(100, 6, 1, "zh", AS_OF)
        two = plan_only(100, 6, 2, "zh", AS_OF)
        assert list(one.cohort) != list(two.cohort) or list(one.since) != list(two.since)


class TestCountsAndIntegrity:
    def test_counts(self, demo_zh: Demo) -> None:
        rows = demo_zh.summary.rows
        assert rows["accounts"] == 150
        roles = demo_zh.frame("SELECT role, COUNT(*) AS n FROM users GROUP BY role")
        assert dict(zip(roles.role, roles.n, strict=True)) == {"admin": 1, "manager": 2, "csm": 2}
        per_account = demo_zh.frame("SELECT account_id, COUNT(*) AS n FROM contacts GROUP BY 1")
        assert len(per_account) == 150
        assert per_account.n.between(2, 6).all()
        for table in ("subscriptions", "orders", "tickets", "nps_responses", "interactions"):
            assert rows[table] > 150, table
        assert demo_zh.summary.events > 10_000

    def test_references_resolve(self, demo_zh: Demo) -> None:
        owners = demo_zh.frame(
            "SELECT u.role FROM accounts a LEFT JOIN users u ON u.id = a.owner_id"
        )
        assert (owners.role == "csm").all()
        for table in ("subscriptions", "orders", "tickets", "nps_responses", "interactions"):
            orphans = demo_zh.frame(
                f"SELECT COUNT(*) AS n FROM {table} t LEFT JOIN accounts a "
                "ON a.id = t.account_id WHERE a.id IS NULL"
            )
            assert orphans.n[0] == 0, table
        for table in ("tickets", "nps_responses", "interactions"):
            wrong = demo_zh.frame(
                f"SELECT COUNT(*) AS n FROM {table} t JOIN contacts c ON c.id = t.contact_id "
                "WHERE c.account_id != t.account_id"
            )
            assert wrong.n[0] == 0, f"{table}: contact of another account"

    def test_events_reference_accounts_and_their_contacts(self, demo_zh: Demo) -> None:
        events = demo_zh.events()
        contacts = demo_zh.frame(
            "SELECT c.external_id AS contact_id, a.external_id AS owner "
            "FROM contacts c JOIN accounts a ON a.id = c.account_id"
        )
        merged = events.merge(contacts, on="contact_id", how="left")
        assert merged.owner.notna().all()
        assert (merged.owner == merged.account_id).all()
        assert events.message_id.is_unique
        assert events.timestamp.max() < pd.Timestamp(AS_OF + pd.Timedelta(days=1), tz="UTC")

    def test_nothing_happens_after_churn(self, demo_zh: Demo) -> None:
        churned = demo_zh.frame(
            "SELECT external_id, id, churn_date FROM accounts WHERE status = 'churned'"
        )
        assert len(churned) > 0
        events = demo_zh.events()
        last = events.groupby("account_id").timestamp.max()
        for row in churned.itertuples():
            churn = pd.Timestamp(row.churn_date, tz="UTC")
            assert last.get(row.external_id, churn - pd.Timedelta(days=1)) < churn
        late = demo_zh.frame(
            "SELECT COUNT(*) AS n FROM tickets t JOIN accounts a ON a.id = t.account_id "
            "WHERE a.churn_date IS NOT NULL AND date(t.opened_at) >= a.churn_date"
        )
        assert late.n[0] == 0

    def test_contracts_chain_without_gaps_for_retained_accounts(self, demo_zh: Demo) -> None:
        subs = demo_zh.frame(
            "SELECT a.external_id, s.product, s.start_date, s.end_date FROM subscriptions s "
            "JOIN accounts a ON a.id = s.account_id ORDER BY 1, 2, 3"
        )
        retained = {e for e, t in demo_zh.truth["accounts"].items() if t["cohort"] == "healthy"}
        for (account, _product), group in subs.groupby(["external_id", "product"]):
            if account not in retained or len(group) < 2:
                continue
            starts = pd.to_datetime(group.start_date).iloc[1:].reset_index(drop=True)
            ends = pd.to_datetime(group.end_date).iloc[:-1].reset_index(drop=True)
            assert ((starts - ends).dt.days == 1).all(), account


class TestLocale:
    def test_zh_text_is_chinese(self, demo_zh: Demo) -> None:
        names = demo_zh.frame("SELECT name, industry, region FROM accounts")
        assert names.name.str.contains(CJK).all()
        assert names.industry.str.contains(CJK).all()
        for sql in ("SELECT subject AS t FROM tickets", "SELECT comment AS t FROM nps_responses "
                    "WHERE comment IS NOT NULL", "SELECT summary AS t FROM interactions",
                    "SELECT name AS t FROM contacts"):  # fmt: skip
            assert demo_zh.frame(sql).t.str.contains(CJK).all(), sql
        contacts = demo_zh.frame("SELECT locale, timezone, channel_preference FROM contacts")
        assert set(contacts.locale) == {"zh-CN"}
        assert set(contacts.timezone) == {"Asia/Shanghai"}
        assert set(contacts.channel_preference) <= {
            "wecom",
            "wechat",
            "email",
            "dingtalk",
            "feishu",
        }

    def test_en_text_is_english(self, demo_en: Demo) -> None:
        for sql in ("SELECT name AS t FROM accounts", "SELECT subject AS t FROM tickets",
                    "SELECT summary AS t FROM interactions", "SELECT name AS t FROM contacts"):  # fmt: skip
            texts = demo_en.frame(sql).t
            assert not texts.str.contains(CJK).any(), sql
            assert texts.str.contains(r"[A-Za-z]").all(), sql
        contacts = demo_en.frame("SELECT timezone, channel_preference FROM contacts")
        assert all(z.startswith(("America/", "Europe/")) for z in contacts.timezone)
        assert set(contacts.channel_preference) <= {"email", "slack", "phone"}
        assert set(demo_en.frame("SELECT currency FROM orders").currency) == {"USD"}


@pytest.mark.parametrize("bad", [{"accounts": 5}, {"months": 1}, {"locale": "fr"}])
def test_rejects_bad_arguments(bad: dict[str, object], tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        build(tmp_path / "home", **bad)


@pytest.mark.postgres
def test_builds_on_postgresql(pg_runtime: Runtime) -> None:
    summary = build_demo(pg_runtime, accounts=30, months=4, seed=9, locale="zh", as_of=AS_OF)
    assert summary.rows["accounts"] == 30
    with pg_runtime.engine.connect() as conn:
        count = conn.execute(sa.text("SELECT COUNT(*) FROM contacts")).scalar_one()
    assert count == summary.rows["contacts"]
