"""Who each demo account is: value segment, cohort and the planted trajectory.

Dates are day numbers from `Plan.origin` (the first day of product events) so the usage,
commerce and feedback generators can work on whole arrays. `NEVER` marks "no such date".

Cohorts (exact shares of the accounts):
- ``churned`` (7.5%): usage falls 1-3 months before the churn date, then goes dark with 7+ day
  gaps and one core feature left; complaints, detractor NPS answers, negative public comments,
  cancellation attempts as planted signals; the renewal is not signed (no renewal invoice).
- ``at_risk`` (2.5%): the same decline under way on the as-of date, churn planned after it.
- ``noisy`` (4%): healthy, with one short-lived signal (a holiday gap, one negative comment,
  a complaint burst, or a dip in one NPS wave) - realistic false positives.
- ``growth`` (22%): rising usage, more core features over time, add-on upsells, promoters.
- ``healthy``: steady usage and renewals.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from tenure.demo.dates import add_months, add_years
from tenure.demo.texts import CHURN_REASONS, EMPLOYEES, INDUSTRIES, SIZES, LocaleText

NEVER = 10**6
LEAD_IN_DAYS = 35  # usage starts this long before the window so 30-day features are full
COHORT_SHARES = {"churned": 0.075, "at_risk": 0.025, "noisy": 0.04, "growth": 0.22}
SEGMENT_SHARES = {"strategic": 0.18, "profit": 0.32, "growth": 0.22, "basic": 0.28}
HIGH_CURRENT = ("strategic", "profit")
HIGH_POTENTIAL = ("strategic", "growth")
NOISE_KINDS = ("login_gap", "negative_comment", "complaint_burst", "nps_dip")
CHURN_SIGNAL_P = {
    "complaints_up": 0.7,
    "nps_drop": 0.6,
    "negative_comments": 0.4,
    "cancel_attempts": 0.5,
}
ALWAYS_CHURN_SIGNALS = ("usage_decline", "login_gaps", "low_core_usage", "renewal_unsigned")
# ARR ranges per size band, in CNY (scaled by the locale's `arr_unit`).
ARR_RANGE = {
    "micro": (15e3, 40e3),
    "small": (40e3, 120e3),
    "mid": (120e3, 400e3),
    "large": (400e3, 1.2e6),
    "enterprise": (1.2e6, 4e6),
}
_SIZE_P = {"high": [0.0, 0.05, 0.35, 0.4, 0.2], "low": [0.35, 0.45, 0.2, 0.0, 0.0]}
_INDUSTRY_P = {  # in INDUSTRIES order
    "high": [0.12, 0.12, 0.25, 0.15, 0.15, 0.05, 0.06, 0.10],
    "low": [0.28, 0.18, 0.05, 0.08, 0.05, 0.18, 0.08, 0.10],
}
_GOAL_BY_INDUSTRY = {
    "manufacturing": "cost_reduction", "logistics": "cost_reduction", "energy": "cost_reduction",
    "retail": "new_market", "education": "new_market", "finance": "new_market",
    "technology": "technology_innovation", "healthcare": "technology_innovation",
}  # fmt: skip
GOALS = ("cost_reduction", "new_market", "technology_innovation")


@dataclass
class Plan:
    """Per-account arrays describing the whole demo customer base."""

    seed: int
    as_of: dt.date
    months: int
    origin: dt.date  # day 0: first day of product events
    window_start: dt.date  # as_of minus `months` months
    external_id: list[str]
    segment: np.ndarray
    cohort: np.ndarray
    size: np.ndarray  # index into SIZES
    industry: np.ndarray  # index into INDUSTRIES
    region: np.ndarray  # index into LocaleText.regions
    employees: np.ndarray
    potential: np.ndarray  # (n, 3): influence, innovation, growth potential, 0-100
    goal: np.ndarray
    arr0: np.ndarray  # ARR of the base product when the account started
    activity: np.ndarray  # engagement multiplier around 1
    since: np.ndarray  # customer_since (day number)
    churn: np.ndarray  # churn date; planned (after as_of) for at_risk; NEVER otherwise
    risk_from: np.ndarray  # start of the planted decline
    dark_from: np.ndarray  # start of the "gone dark" phase (gaps of 7+ days)
    last_end: np.ndarray  # end of the last contract for churners
    upsell: np.ndarray  # add-on purchase date or NEVER
    nps_class: np.ndarray  # baseline answer class: 0 detractor, 1 passive, 2 promoter
    hidden_need: np.ndarray  # bool: never uses report.create, asks for flexible analysis
    noise_kind: np.ndarray
    noise_day: np.ndarray
    churn_reason: np.ndarray
    signals: list[list[str]] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.external_id)

    @property
    def today(self) -> int:
        """Day number of the as-of date."""
        return (self.as_of - self.origin).days

    def date(self, number: int) -> dt.date | None:
        """The date of a day number, or None for NEVER."""
        if number >= NEVER:
            return None
        return self.origin + dt.timedelta(days=int(number))

    @cached_property
    def end(self) -> np.ndarray:
        """First day with no activity: the churn day for churned accounts, else tomorrow."""
        return np.minimum(self.churn, self.today + 1)


def _exact_labels(
    rng: np.random.Generator, n: int, shares: dict[str, float], rest: str
) -> np.ndarray:
    labels = np.full(n, rest, dtype=object)
    start = 0
    for name, share in shares.items():
        count = round(share * n)
        labels[start : start + count] = name
        start += count
    return labels[rng.permutation(n)]


def _choose(
    rng: np.random.Generator, pool: np.ndarray, count: int, weights: np.ndarray
) -> np.ndarray:
    count = min(count, len(pool))
    if count == 0:
        return pool[:0]
    p = weights / weights.sum()
    return np.sort(rng.choice(pool, size=count, replace=False, p=p))


def _place_churner(
    rng: np.random.Generator, window: int, today: int, at_risk: bool
) -> tuple[int, ...]:
    """(risk_from, dark_from, churn, last_contract_end) as offsets from the window start."""
    if at_risk:
        risk_from = today - int(rng.integers(35, 81))
        dark_from = min(risk_from + int(rng.integers(14, 31)), today - 10)
        churn = today + int(rng.integers(7, 61))
    else:
        churn = int(rng.integers(min(120, int(window * 0.55)), window + 1))
        dark_from = churn - int(rng.integers(32, 51))
        risk_from = dark_from - int(rng.integers(14, 41))
    # The last contract ends after the decline began (or on the churn day at the latest).
    grace = int(rng.integers(0, min(70, churn - risk_from) + 1))
    return risk_from, dark_from, churn, churn - grace


def make_plan(
    n: int, months: int, seed: int, as_of: dt.date, text: LocaleText, rng: np.random.Generator
) -> Plan:
    """Draw every account's profile and planted trajectory."""
    window_start = add_months(as_of, -months)
    origin = window_start - dt.timedelta(days=LEAD_IN_DAYS)
    ws = (window_start - origin).days
    today = (as_of - origin).days
    window = today - ws

    segment = _exact_labels(rng, n, SEGMENT_SHARES, "basic")
    high_cur = np.isin(segment, HIGH_CURRENT)
    high_pot = np.isin(segment, HIGH_POTENTIAL)
    size = np.where(
        high_cur,
        rng.choice(len(SIZES), n, p=_SIZE_P["high"]),
        rng.choice(len(SIZES), n, p=_SIZE_P["low"]),
    )
    industry = np.where(
        high_pot,
        rng.choice(len(INDUSTRIES), n, p=_INDUSTRY_P["high"]),
        rng.choice(len(INDUSTRIES), n, p=_INDUSTRY_P["low"]),
    )
    lo = np.array([EMPLOYEES[SIZES[s]][0] for s in size], dtype=float)
    hi = np.array([EMPLOYEES[SIZES[s]][1] for s in size], dtype=float)
    employees = np.exp(rng.uniform(np.log(lo), np.log(hi))).astype(int)
    a_lo = np.array([ARR_RANGE[SIZES[s]][0] for s in size])
    a_hi = np.array([ARR_RANGE[SIZES[s]][1] for s in size])
    arr0 = np.round(np.exp(rng.uniform(np.log(a_lo), np.log(a_hi))) * text.arr_unit, -2)

    base = np.where(high_pot, 68.0, 32.0) + rng.normal(0, 7, n)
    innovative = np.isin(
        industry, [INDUSTRIES.index(i) for i in ("technology", "healthcare", "energy")]
    )
    potential = np.column_stack(
        [
            base + np.array([-8, -4, 0, 5, 10])[size] + rng.normal(0, 6, n),
            base + np.where(innovative, 6.0, -2.0) + rng.normal(0, 6, n),
            base + np.array([6, 4, 0, -3, -6])[size] + rng.normal(0, 6, n),
        ]
    )
    potential = np.round(np.clip(potential, 0, 100), 1)
    by_industry = np.array([_GOAL_BY_INDUSTRY[INDUSTRIES[i]] for i in industry], dtype=object)
    goal = np.where(
        rng.random(n) < 0.6, by_industry, np.array(GOALS, dtype=object)[rng.integers(0, 3, n)]
    )

    # customer_since: a third joined inside the window, the rest up to five years earlier.
    recent = rng.random(n) < 0.3
    since = np.where(recent, rng.integers(ws, today + 1, n), ws - rng.integers(1, 5 * 365, n))

    cohort = np.full(n, "healthy", dtype=object)
    churn = np.full(n, NEVER)
    risk_from = np.full(n, NEVER)
    dark_from = np.full(n, NEVER)
    last_end = np.full(n, NEVER)
    order = rng.permutation(n)
    n_churned = round(COHORT_SHARES["churned"] * n)
    n_at_risk = round(COHORT_SHARES["at_risk"] * n)
    for rank, i in enumerate(order[: n_churned + n_at_risk]):
        at_risk = rank >= n_churned
        cohort[i] = "at_risk" if at_risk else "churned"
        r, d, c, e = (ws + x for x in _place_churner(rng, window, today - ws, at_risk))
        risk_from[i], dark_from[i], churn[i], last_end[i] = r, d, c, e
        years = int(rng.choice([1, 2, 3, 4], p=[0.35, 0.3, 0.2, 0.15]))
        end_date = origin + dt.timedelta(days=e + 1)
        since[i] = (add_years(end_date, -years) - origin).days

    free = np.flatnonzero(cohort == "healthy")
    growth_w = np.where(high_pot[free], 3.0, 1.0)
    cohort[_choose(rng, free, round(COHORT_SHARES["growth"] * n), growth_w)] = "growth"
    free = np.flatnonzero((cohort == "healthy") & (since <= today - 60))
    noisy = _choose(rng, free, round(COHORT_SHARES["noisy"] * n), np.ones(len(free)))
    cohort[noisy] = "noisy"
    noise_kind = np.full(n, "", dtype=object)
    noise_day = np.full(n, NEVER)
    noise_kind[noisy] = np.array(NOISE_KINDS, dtype=object)[
        rng.integers(0, len(NOISE_KINDS), len(noisy))
    ]
    lo_day = np.maximum(ws + 30, since[noisy] + 40)
    noise_day[noisy] = rng.integers(np.minimum(lo_day, today - 4), today - 3)

    churners = np.isin(cohort, ["churned", "at_risk"])
    activity = np.clip(rng.lognormal(0, 0.12, n), 0.8, 1.25) * np.where(churners, 0.92, 1.0)
    upsell = np.full(n, NEVER)
    wants = ((cohort == "growth") & (rng.random(n) < 0.75)) | (
        (cohort == "healthy") & (rng.random(n) < 0.15)
    )
    first = np.maximum(ws, since + 60)
    can = wants & (first < today - 5)
    upsell[can] = rng.integers(first[can], today - 4)

    nps_class = rng.choice([0, 1, 2], n, p=[0.08, 0.37, 0.55])
    nps_class[cohort == "growth"] = rng.choice(
        [1, 2], int((cohort == "growth").sum()), p=[0.3, 0.7]
    )
    nps_class[churners] = rng.choice([1, 2], int(churners.sum()))
    nps_class[noise_kind == "nps_dip"] = 2
    hidden_need = (~churners) & (rng.random(n) < 0.1)
    reason_p = np.array([0.25, 0.15, 0.15, 0.15, 0.12, 0.1, 0.08])
    churn_reason = np.where(
        churners,
        np.array(CHURN_REASONS, dtype=object)[rng.choice(len(CHURN_REASONS), n, p=reason_p)],
        "",
    )
    signals: list[list[str]] = []
    for i in range(n):
        if not churners[i]:
            signals.append([])
            continue
        extra = [s for s, p in CHURN_SIGNAL_P.items() if rng.random() < p]
        signals.append([*ALWAYS_CHURN_SIGNALS, *extra])

    width = max(5, len(str(n)))
    return Plan(
        seed=seed, as_of=as_of, months=months, origin=origin, window_start=window_start,
        external_id=[f"A{i + 1:0{width}d}" for i in range(n)],
        segment=segment, cohort=cohort, size=size, industry=industry,
        region=rng.choice(len(text.regions), n), employees=employees, potential=potential,
        goal=goal, arr0=arr0, activity=activity, since=since.astype(np.int64), churn=churn,
        risk_from=risk_from, dark_from=dark_from, last_end=last_end, upsell=upsell,
        nps_class=nps_class, hidden_need=hidden_need, noise_kind=noise_kind, noise_day=noise_day,
        churn_reason=churn_reason, signals=signals,
    )  # fmt: skip
