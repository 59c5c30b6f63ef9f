"""The demo's ground truth: which accounts were planted as what, and when the decline began."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tenure.demo.profiles import NEVER, Plan

GROUND_TRUTH_FILE = Path("demo") / "ground_truth.json"
AT_RISK_COHORTS = ("churned", "at_risk")


def ground_truth_path(home: Path) -> Path:
    """Where the ground truth of the demo built in `home` is kept."""
    return Path(home) / GROUND_TRUTH_FILE


def _iso(plan: Plan, number: int) -> str | None:
    day = plan.date(int(number))
    return day.isoformat() if day else None


def account_truth(plan: Plan, i: int) -> dict[str, Any]:
    """What was planted in account `i`."""
    cohort = str(plan.cohort[i])
    churned = plan.churn[i] <= plan.today
    signals = list(plan.signals[i])
    if plan.last_end[i] < NEVER:
        # Days the account is still a customer after its last contract ended unrenewed.
        unrenewed = min(int(plan.churn[i]) - 1, plan.today) - int(plan.last_end[i])
        if unrenewed >= 1:
            signals.append("purchase_drop")  # no renewal invoice in the last 365 days
        if unrenewed > 30:
            signals.append("renewal_overdue")
    if plan.noise_kind[i]:
        signals.append(str(plan.noise_kind[i]))
    if plan.upsell[i] < NEVER:
        signals.append("upsell")
    if cohort == "growth":
        signals.append("usage_growth")
    return {
        "cohort": cohort,
        "segment": str(plan.segment[i]),
        "customer_since": _iso(plan, plan.since[i]),
        "churn_date": _iso(plan, plan.churn[i]) if churned else None,
        "planned_churn_date": _iso(plan, plan.churn[i]) if not churned else None,
        "at_risk_from": _iso(plan, plan.risk_from[i]),
        "dark_from": _iso(plan, plan.dark_from[i]),
        "last_contract_end": _iso(plan, plan.last_end[i]),
        "churn_reason": str(plan.churn_reason[i]) or None,
        "noise_date": _iso(plan, plan.noise_day[i]),
        "upsell_date": _iso(plan, plan.upsell[i]),
        "hidden_need": bool(plan.hidden_need[i]),
        "signals": signals,
    }


def ground_truth(plan: Plan, locale: str) -> dict[str, Any]:
    """The whole ground-truth document for `plan`."""
    cohorts: dict[str, int] = {}
    for c in plan.cohort:
        cohorts[str(c)] = cohorts.get(str(c), 0) + 1
    return {
        "seed": plan.seed,
        "as_of": plan.as_of.isoformat(),
        "months": plan.months,
        "locale": locale,
        "window_start": plan.window_start.isoformat(),
        "events_from": plan.origin.isoformat(),
        "at_risk_cohorts": list(AT_RISK_COHORTS),
        "cohorts": dict(sorted(cohorts.items())),
        "accounts": {plan.external_id[i]: account_truth(plan, i) for i in range(plan.n)},
    }


def write_ground_truth(home: Path, truth: dict[str, Any]) -> Path:
    """Write `truth` to `<home>/demo/ground_truth.json`."""
    path = ground_truth_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def load_ground_truth(home: Path | str) -> dict[str, Any]:
    """The ground truth written by `tenure demo-data` into `home`."""
    data: dict[str, Any] = json.loads(ground_truth_path(Path(home)).read_text(encoding="utf-8"))
    return data
