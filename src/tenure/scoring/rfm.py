"""RFM: recency, frequency and monetary scores 1..bins (bins = 5 by default, 5 best).

Each score is a quantile bin of the account's rank among the accounts that take part::

    score = 1 + floor(bins * (r - 1) / n)

where `n` is the number of accounts ranked and `r` the account's *average* rank among them,
1 being the worst (oldest last order, fewest orders, least money). Equal values share the
mean of their ranks and therefore always get the same score; with `n` distinct values each bin
holds n / bins accounts, the best account always scores `bins` and the worst always 1.

Who takes part:
- recency (days_since_last_order, fewer days = better): accounts that ever ordered; a null
  (never ordered) scores 1.
- frequency (orders_12m) and monetary (revenue_12m): accounts with at least one order in the
  window; accounts with no orders score F=1 and M=1. A null revenue of an ordering account
  counts as 0.

rfm_code joins the three scores ("545"); with bins = 10 the scores are joined with "-" so the
code stays unambiguous ("10-3-7"). RFM shows transaction value only; see the value scorecard for
the rest.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tenure.config import RfmConfig

RFM_COLUMNS: tuple[str, ...] = ("rfm_recency", "rfm_frequency", "rfm_monetary", "rfm_code")


def quantile_bins(values: pd.Series, bins: int) -> pd.Series:
    """1..bins by average rank (higher value = higher score); nulls take no part and score 1."""
    numbers = values.to_numpy(dtype=float, na_value=np.nan)
    present = ~np.isnan(numbers)
    scores = np.ones(len(numbers), dtype="int64")
    if present.any():
        ranks = pd.Series(numbers[present]).rank(method="average").to_numpy()
        binned = 1 + np.floor(bins * (ranks - 1.0) / present.sum()).astype("int64")
        scores[present] = np.minimum(binned, bins)
    return pd.Series(scores, index=values.index, dtype="int64")


def score_rfm(features: pd.DataFrame, cfg: RfmConfig) -> pd.DataFrame:
    """rfm_recency, rfm_frequency, rfm_monetary (ints 1..bins) and rfm_code per account."""
    days = pd.to_numeric(features["days_since_last_order"], errors="coerce").astype(float)
    orders = pd.to_numeric(features["orders_12m"], errors="coerce").astype(float).fillna(0.0)
    revenue = pd.to_numeric(features["revenue_12m"], errors="coerce").astype(float).fillna(0.0)
    ordered = orders > 0
    recency = quantile_bins(-days, cfg.bins)  # negated: fewer days since the last order is better
    frequency = quantile_bins(orders.where(ordered), cfg.bins)
    monetary = quantile_bins(revenue.where(ordered), cfg.bins)
    separator = "-" if cfg.bins > 9 else ""
    code = (
        recency.astype(str) + separator + frequency.astype(str) + separator + monetary.astype(str)
    )
    return pd.DataFrame(
        {
            "rfm_recency": recency,
            "rfm_frequency": frequency,
            "rfm_monetary": monetary,
            "rfm_code": code.astype(object),
        },
        index=features.index,
    )
