"""Lifecycle stage: onboarding, growth and mature by tenure; declining by usage and complaints.

Tenure is counted in whole calendar months since `customer_since`. Adding n months keeps the
day of the month and clamps it to the month's last day (Jan 31 + 1 month = Feb 28, or Feb 29
in a leap year), and a month has passed once that date is reached. So an account that became
a customer on 2025-01-15 is in growth from exactly 2025-04-15 (3 months) and mature from
exactly 2026-01-15 (12 months); one that started on 2025-01-31 has one month on 2025-02-28.

Stages with the defaults (`LifecycleConfig`):
- onboarding: fewer than `onboarding_months` (3) months, also a start date after the as-of
  date or a missing one;
- growth: from 3 up to `growth_months` (12) months;
- mature: 12 months or more;
- declining: replaces growth or mature when usage fell by at least the configured share
  (usage_change <= declining_usage_change, -0.3) or complaints are rising (complaints_30d >
  complaints_prev_30d and complaints_30d >= declining_min_complaints, 2). Onboarding accounts
  are never marked declining: early usage naturally swings while a customer sets up, and
  onboarding has its own playbook. A null usage_change never signals decline; null complaint
  counts count as 0.
"""

from __future__ import annotations

import calendar
from datetime import date

import numpy as np
import pandas as pd

from tenure.config import LifecycleConfig

STAGES: tuple[str, ...] = ("onboarding", "growth", "mature", "declining")


def add_months(start: date, months: int) -> date:
    """`start` moved by whole calendar months, the day clamped to the end of the month."""
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    day = min(start.day, calendar.monthrange(year, month + 1)[1])
    return date(year, month + 1, day)


def months_between(start: date, end: date) -> int:
    """Whole calendar months from `start` to `end` (negative when `end` is earlier)."""
    if end < start:
        return -months_between(end, start)
    months = (end.year - start.year) * 12 + (end.month - start.month)
    return months - 1 if add_months(start, months) > end else months


def tenure_months(customer_since: pd.Series, as_of: date) -> pd.Series:
    """`months_between(customer_since, as_of)` for a whole column (vectorised).

    Null start dates and start dates after `as_of` give 0.
    """
    starts = pd.to_datetime(customer_since)
    known = starts.notna() & (starts <= pd.Timestamp(as_of))
    months = (as_of.year - starts.dt.year) * 12 + (as_of.month - starts.dt.month)
    # The anniversary in the as-of month falls on the start day, clamped to that month's end.
    anniversary = np.minimum(starts.dt.day, calendar.monthrange(as_of.year, as_of.month)[1])
    months = months - (as_of.day < anniversary).astype(int)
    return months.where(known, 0).astype("int64")


def assign_stage(
    features: pd.DataFrame, customer_since: pd.Series, as_of: date, cfg: LifecycleConfig
) -> pd.Series:
    """Lifecycle stage per account ("onboarding", "growth", "mature" or "declining").

    `customer_since` must share the index of `features`; the features used are usage_change,
    complaints_30d and complaints_prev_30d.
    """
    if not customer_since.index.equals(features.index):
        raise ValueError("customer_since must have the same index as features")
    months = tenure_months(customer_since, as_of).to_numpy()
    usage_change = pd.to_numeric(features["usage_change"], errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )
    complaints = _counts(features["complaints_30d"])
    previous = _counts(features["complaints_prev_30d"])
    with np.errstate(invalid="ignore"):
        usage_falling = usage_change <= cfg.declining_usage_change  # NaN compares False
    complaints_rising = (complaints > previous) & (complaints >= cfg.declining_min_complaints)
    stage = np.select(
        [
            months < cfg.onboarding_months,
            usage_falling | complaints_rising,
            months < cfg.growth_months,
        ],
        ["onboarding", "declining", "growth"],
        default="mature",
    )
    return pd.Series(stage, index=features.index, dtype=object, name="lifecycle_stage")


def _counts(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").fillna(0).to_numpy(dtype=float)
