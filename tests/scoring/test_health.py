"""Health score: linear measures between bad and good, weighted, with per-measure points."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tenure.config import HealthConfig, HealthMeasure, load_config
from tenure.scoring.health import measure_score, score_health

SHIPPED = load_config(None).health
COLUMNS = [
    "days_since_login",
    "core_usage",
    "usage_change",
    "complaints_30d",
    "nps_90d",
    "days_renewal_overdue",
]


class TestMeasureScore:
    def test_lower_is_better(self) -> None:
        measure = HealthMeasure(feature="days_since_login", weight=1.0, good=1, bad=14)
        values = pd.Series([0.0, 1.0, 2.0, 7.5, 14.0, 30.0, np.nan])
        expected = [100.0, 100.0, 1200 / 13, 50.0, 0.0, 0.0, 0.0]
        assert measure_score(values, measure).tolist() == pytest.approx(expected)

    def test_higher_is_better_and_missing(self) -> None:
        measure = HealthMeasure(feature="nps_90d", weight=1.0, good=50, bad=-50, missing=40)
        values = pd.Series([-80.0, 0.0, 25.0, 90.0, None])
        assert measure_score(values, measure).tolist() == [0.0, 50.0, 75.0, 100.0, 40.0]


class TestScoreHealth:
    def test_shipped_measures_hand_computed(self) -> None:
        features = pd.DataFrame(
            [
                [1, 0.8, 0.1, 0, 50, 0],  # best everywhere
                [14, 0.1, -0.5, 5, -50, 60],  # at bad everywhere
                [7.5, 0.45, -0.2, 2, np.nan, 15],  # half way, NPS missing
                [np.nan] * 6,  # nothing known
            ],
            columns=COLUMNS,
            index=pd.Index([11, 12, 13, 14], name="account_id"),
        )
        health, points = score_health(features, SHIPPED)
        # row 13: 0.2*50 + 0.25*50 + 0.15*50 + 0.15*60 + 0.15*50 (missing) + 0.1*75
        assert health.tolist() == [100.0, 0.0, 54.0, 7.5]
        assert health.index.equals(features.index)
        assert list(points.columns) == COLUMNS
        assert points.loc[13].tolist() == pytest.approx([10.0, 12.5, 7.5, 9.0, 7.5, 7.5])
        assert points.loc[14].tolist() == pytest.approx([0, 0, 0, 0, 7.5, 0])
        assert points.sum(axis=1).round(1).tolist() == health.tolist()

    def test_rounded_to_one_decimal(self) -> None:
        cfg = HealthConfig(
            measures=[
                HealthMeasure(feature="days_since_login", weight=0.5, good=1, bad=14),
                HealthMeasure(feature="core_usage", weight=0.5, good=1, bad=0),
            ]
        )
        features = pd.DataFrame({"days_since_login": [2.0], "core_usage": [0.333]})
        health, points = score_health(features, cfg)
        # 0.5 * 92.3077 + 0.5 * 33.3 = 62.80 -> 62.8
        assert health.tolist() == [62.8]
        assert points.iloc[0].tolist() == pytest.approx([600 / 13, 16.65])
