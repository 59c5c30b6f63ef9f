"""Calendar helpers: month/year arithmetic and the weekday activity factor."""

from __future__ import annotations

import datetime as dt

import numpy as np


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` moved by calendar months (either way), clamped to the month's last day."""
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def add_years(day: dt.date, years: int) -> dt.date:
    """`day` moved by whole years; 29 February becomes 28 February in other years."""
    return add_months(day, 12 * years)


def weekday_factor(origin: dt.date, n_days: int) -> np.ndarray:
    """Activity factor per day from `origin`: 1 on weekdays, low at weekends."""
    weekday = (np.arange(n_days) + origin.weekday()) % 7
    return np.select([weekday == 5, weekday == 6], [0.15, 0.08], 1.0).astype(np.float32)
