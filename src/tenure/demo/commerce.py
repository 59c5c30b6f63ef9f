"""Subscriptions (annual contracts, renewals, add-on upsells) and orders (invoices, services).

Every contract is invoiced once, in advance, on its start date: the renewal invoice. So each
year of a paying customer holds one renewal invoice (the shipped purchase-drop rule compares
365-day periods), and a churner's missing renewal shows as a purchase drop the day after its
contract ends. Add-ons bought mid-term are invoiced pro rata, then renew with the base
contract; growth accounts also buy seat packs, and implementation and training are services
with a lower margin.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from tenure.demo.dates import add_years
from tenure.demo.profiles import NEVER, Plan
from tenure.demo.texts import SIZES, LocaleText

ONE_DAY = dt.timedelta(days=1)
_TIER_BY_SIZE = {"micro": 0, "small": 0, "mid": 1, "large": 1, "enterprise": 2}
SERVICE_MARGIN = (0.25, 0.4)
SEAT_PACKS_PER_YEAR = 1.5  # growth accounts


def _contracts(
    plan: Plan, i: int, rng: np.random.Generator
) -> list[tuple[dt.date, dt.date, float]]:
    """The base product's contract periods (start, end, ARR) up to the as-of date."""
    since = plan.date(int(plan.since[i]))
    assert since is not None
    last_end = plan.date(int(plan.last_end[i]))
    churner = last_end is not None
    arr = float(plan.arr0[i])
    out: list[tuple[dt.date, dt.date, float]] = []
    k = 0
    while True:
        start = add_years(since, k)
        if start > plan.as_of or (last_end is not None and start > last_end):
            break
        end = add_years(since, k + 1) - ONE_DAY
        if last_end is not None and end >= last_end:
            out.append((start, last_end, arr))
            break
        out.append((start, end, arr))
        arr = round(arr * (1 + (0.03 if churner else rng.uniform(0.02, 0.08))), 2)
        k += 1
    return out


def _pro_rata(arr: float, start: dt.date, end: dt.date) -> float:
    """The part of a year's `arr` that `start`..`end` (inclusive) covers."""
    return round(arr * min((end - start).days + 1, 365) / 365.0, 2)


class _Ledger:
    """Collects subscription and order rows with their external ids."""

    def __init__(self, plan: Plan, text: LocaleText, account_ids: list[int]) -> None:
        self.plan, self.text, self.account_ids = plan, text, account_ids
        self.subs: list[dict[str, Any]] = []
        self.orders: list[dict[str, Any]] = []

    def order(self, i: int, day: dt.date, amount: float, margin: float, product: str) -> None:
        if day > self.plan.as_of:
            return
        self.orders.append(
            {
                "external_id": f"O{len(self.orders) + 1:07d}",
                "account_id": self.account_ids[i],
                "order_date": day,
                "amount": amount,
                "margin": round(amount * margin, 2),
                "currency": self.text.currency,
                "product": product,
            }
        )

    def contract(
        self, i: int, product: str, span: tuple[dt.date, dt.date], arr: float, *, auto: bool,
        margin: float,
    ) -> None:  # fmt: skip
        start, end = span
        self.subs.append(
            {
                "external_id": f"S{len(self.subs) + 1:06d}",
                "account_id": self.account_ids[i],
                "product": product,
                "start_date": start,
                "end_date": end,
                "arr": arr,
                "mrr": round(arr / 12, 2),
                "currency": self.text.currency,
                "status": "active" if start <= self.plan.as_of <= end else "expired",
                "auto_renew": auto,
            }
        )
        self.order(i, start, _pro_rata(arr, start, end), margin, product)


def make_commerce(
    plan: Plan, text: LocaleText, rng: np.random.Generator, account_ids: list[int]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Subscription rows and order rows for every account."""
    ledger = _Ledger(plan, text, account_ids)
    ws = (plan.window_start - plan.origin).days
    for i in range(plan.n):
        product = text.base_products[_TIER_BY_SIZE[SIZES[plan.size[i]]]]
        margin = float(rng.uniform(0.7, 0.85))
        auto = bool(rng.random() < 0.35)
        contracts = _contracts(plan, i, rng)
        for start, end, arr in contracts:
            ledger.contract(i, product, (start, end), arr, auto=auto, margin=margin)
        if plan.upsell[i] < NEVER:
            upsell = plan.date(int(plan.upsell[i]))
            assert upsell is not None
            addon = text.addons[int(rng.integers(len(text.addons)))]
            share = float(rng.uniform(0.2, 0.4))
            for start, end, arr in contracts:
                if upsell <= end:
                    span = (max(start, upsell), end)
                    ledger.contract(i, addon, span, round(arr * share, 2), auto=auto, margin=margin)

        since = int(plan.since[i])
        yearly = float(plan.arr0[i])
        implementation = round(yearly * float(rng.uniform(0.04, 0.08)), 2)
        start_day = plan.date(since)
        assert start_day is not None
        service_margin = float(rng.uniform(*SERVICE_MARGIN))
        ledger.order(i, start_day, implementation, service_margin, text.services[0])
        if plan.cohort[i] not in ("healthy", "growth", "noisy"):
            continue
        lo = max(since + 30, ws)
        if lo >= plan.today:
            continue
        if rng.random() < 0.25:
            day = plan.date(int(rng.integers(lo, plan.today + 1)))
            assert day is not None
            training = round(yearly * float(rng.uniform(0.02, 0.05)), 2)
            ledger.order(i, day, training, service_margin, text.services[1])
        if plan.cohort[i] == "growth":
            packs = rng.poisson(SEAT_PACKS_PER_YEAR * (plan.today - lo) / 365)
            for day in sorted(rng.integers(lo, plan.today + 1, packs)):
                when = plan.date(int(day))
                assert when is not None
                ledger.order(
                    i, when, round(yearly * float(rng.uniform(0.05, 0.15)), 2), margin, product
                )
    return ledger.subs, ledger.orders


def contract_ends(subs: list[dict[str, Any]]) -> dict[int, list[dt.date]]:
    """End dates of every contract per account id (for renewal conversations)."""
    out: dict[int, list[dt.date]] = {}
    for row in subs:
        out.setdefault(row["account_id"], []).append(row["end_date"])
    return out
