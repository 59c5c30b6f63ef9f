"""Acceptance: on demo data, `tenure demo-data` then `tenure backfill` alerts the planted
churners before they churn, and most alerted accounts are planted at-risk accounts."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from tenure.accounts.models import Account
from tenure.cli import app
from tenure.demo import load_ground_truth
from tenure.kit.runtime import open_runtime
from tenure.risk.models import Alert
from tenure.scoring.models import ScoreSnapshot

AS_OF = dt.date(2026, 6, 30)


def test_backfilled_demo_alerts_churners_before_they_churn(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    runner = CliRunner()
    built = runner.invoke(
        app,
        ["demo-data", "--home", home, "--accounts", "400", "--months", "9", "--seed", "3",
         "--as-of", AS_OF.isoformat(), "--locale", "en"],
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    truth = load_ground_truth(Path(home))
    start = dt.date.fromisoformat(truth["window_start"])
    backfill = runner.invoke(
        app,
        ["backfill", "--home", home, "--from", start.isoformat(), "--to", AS_OF.isoformat(),
         "--every", "week", "--json"],
    )  # fmt: skip
    assert backfill.exit_code == 0, backfill.output
    assert json.loads(backfill.stdout)["runs"] >= 30

    runtime = open_runtime(home)
    try:
        with runtime.sessions() as s:
            first_alert = dict(
                s.execute(
                    select(Account.external_id, func.min(Alert.opened_as_of))
                    .join(Account, Account.id == Alert.account_id)
                    .group_by(Account.external_id)
                ).all()
            )
            snapshots = s.scalar(select(func.count()).select_from(ScoreSnapshot))
    finally:
        runtime.close()

    planted = truth["accounts"]
    churned = {e: t for e, t in planted.items() if t["cohort"] == "churned"}
    at_risk = {e for e, t in planted.items() if t["cohort"] in ("churned", "at_risk")}
    # Churners that churned after the first scored week can be warned about.
    warnable = {
        e
        for e, t in churned.items()
        if dt.date.fromisoformat(t["churn_date"]) > start + dt.timedelta(days=7)
    }
    caught = {
        e for e in warnable
        if e in first_alert and first_alert[e] < dt.date.fromisoformat(churned[e]["churn_date"])
    }  # fmt: skip
    assert len(warnable) >= 10
    assert len(caught) >= 0.8 * len(warnable), sorted(warnable - caught)
    alerted = set(first_alert)
    assert len(alerted & at_risk) >= 0.5 * len(alerted)
    assert snapshots > 400 * 20
