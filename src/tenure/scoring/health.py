"""Health score 0-100: configured measures, each a feature mapped linearly from bad to good.

A measure scores its feature ``100 * (value - bad) / (good - bad)``, clipped to 0..100, so it is
0 at `bad` (or worse) and 100 at `good` (or better); this works whichever way round the two
are (days_since_login: good 1, bad 14). A null value scores `missing` when the measure sets
it, otherwise 0. The health score is the weighted sum of the measure scores, rounded to one
decimal; each measure's contribution is weight * score, in points of that score.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tenure.config import HealthConfig, HealthMeasure

DECIMALS = 1


def measure_score(values: pd.Series, measure: HealthMeasure) -> pd.Series:
    """0-100 score of one measure: linear from `bad` (0) to `good` (100), clipped."""
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    scores = np.clip(100.0 * (numbers - measure.bad) / (measure.good - measure.bad), 0.0, 100.0)
    missing = 0.0 if measure.missing is None else measure.missing
    return pd.Series(np.where(np.isnan(numbers), missing, scores), index=values.index)


def score_health(features: pd.DataFrame, cfg: HealthConfig) -> tuple[pd.Series, pd.DataFrame]:
    """Health score per account, and each measure's contribution in points.

    The contribution frame has one column per measure, named after its feature; its rows add
    up to the health score before rounding.
    """
    contributions = pd.DataFrame(index=features.index)
    for measure in cfg.measures:
        points = measure.weight * measure_score(features[measure.feature], measure)
        if measure.feature in contributions:  # the same feature measured twice adds up
            points = points + contributions[measure.feature]
        contributions[measure.feature] = points
    health = contributions.sum(axis=1).round(DECIMALS).rename("health_score")
    return health, contributions
