"""Value scorecard: current and potential value on 0-100, the value score and its quadrant.

Current value: every measure in `ValueConfig.current_measures` (e.g. revenue_12m) is scored by
percentile rank across the accounts in the frame::

    score = 100 * (r - 1) / (n - 1)

where `n` is the number of accounts with a value and `r` the account's *average* rank among them
(1 = lowest). Without ties the lowest account scores 0 and the highest 100; tied values share the
mean of their ranks and so always get the same score. When every value is equal (or only one
account has a value) all score 50; a null scores 0. Measures are combined by their weights.

Potential value: the weighted mean of `potential_measures`, which are already on 0-100 (clipped
to 0..100; a null counts as 0 for that measure).

value_score = current_weight * current + potential_weight * potential. Scores are rounded to
one decimal and the quadrant is decided on the rounded numbers, so what users see is what
classified the account.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tenure.config import ValueConfig

QUADRANTS: tuple[str, ...] = ("strategic_partner", "growth", "profit", "basic")
DECIMALS = 1


def percentile_score(values: pd.Series) -> pd.Series:
    """Average-rank percentile on 0-100 (lowest 0, highest 100, all equal 50, null 0)."""
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    present = ~np.isnan(numbers)
    scores = np.zeros(len(numbers))
    count = int(present.sum())
    if count and np.unique(numbers[present]).size == 1:
        scores[present] = 50.0
    elif count > 1:
        ranks = pd.Series(numbers[present]).rank(method="average").to_numpy()
        scores[present] = 100.0 * (ranks - 1.0) / (count - 1)
    return pd.Series(scores, index=values.index)


def _weighted(parts: dict[str, pd.Series], weights: dict[str, float], index: pd.Index) -> pd.Series:
    total = sum(weights.values())
    if not parts or total <= 0:
        return pd.Series(0.0, index=index)
    return (
        sum((weights[name] * part for name, part in parts.items()), pd.Series(0.0, index=index))
        / total
    )


def quadrant(current: pd.Series, potential: pd.Series, cfg: ValueConfig) -> pd.Series:
    """Quadrant name per account from current and potential value against the cut-offs."""
    high_current = (current >= cfg.current_cutoff).to_numpy()
    high_potential = (potential >= cfg.potential_cutoff).to_numpy()
    names = np.select(
        [high_current & high_potential, high_potential, high_current],
        ["strategic_partner", "growth", "profit"],
        default="basic",
    )
    return pd.Series(names, index=current.index, dtype=object)


def score_value(features: pd.DataFrame, cfg: ValueConfig) -> pd.DataFrame:
    """Current value, potential value, value score, quadrant and the per-measure sub-scores.

    Sub-score columns are named ``<measure>_score`` (e.g. ``revenue_12m_score``); all scores
    are on 0-100 with one decimal.
    """
    index = features.index
    current_parts = {name: percentile_score(features[name]) for name in cfg.current_measures}
    potential_parts = {
        name: pd.to_numeric(features[name], errors="coerce").astype(float).clip(0, 100).fillna(0.0)
        for name in cfg.potential_measures
    }
    current = _weighted(current_parts, cfg.current_measures, index).round(DECIMALS)
    potential = _weighted(potential_parts, cfg.potential_measures, index).round(DECIMALS)
    value = (cfg.current_weight * current + cfg.potential_weight * potential).round(DECIMALS)
    out = pd.DataFrame(
        {
            "current_value": current,
            "potential_value": potential,
            "value_score": value,
            "quadrant": quadrant(current, potential, cfg),
        },
        index=index,
    )
    for name, part in {**current_parts, **potential_parts}.items():
        out[f"{name}_score"] = part.round(DECIMALS)
    return out
