"""Value scorecard: percentile current value, potential value, value score and quadrant."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tenure.config import ValueConfig
from tenure.scoring.value import QUADRANTS, percentile_score, quadrant, score_value


class TestPercentileScore:
    def test_distinct_values_spread_from_0_to_100(self) -> None:
        scores = percentile_score(pd.Series([30.0, 10.0, 50.0, 20.0, 40.0]))
        assert scores.tolist() == [50.0, 0.0, 100.0, 25.0, 75.0]

    def test_ties_share_the_mean_of_their_ranks(self) -> None:
        # ranks 1, 2.5, 2.5, 4 among 4 -> 100 * (r - 1) / 3
        scores = percentile_score(pd.Series([1.0, 5.0, 5.0, 9.0]))
        assert scores.tolist() == pytest.approx([0.0, 50.0, 50.0, 100.0])

    def test_all_equal_is_50_and_null_is_0(self) -> None:
        assert percentile_score(pd.Series([7.0, np.nan, 7.0])).tolist() == [50.0, 0.0, 50.0]
        assert percentile_score(pd.Series([np.nan, 3.0])).tolist() == [0.0, 50.0]
        assert percentile_score(pd.Series([np.nan, np.nan])).tolist() == [0.0, 0.0]

    def test_nulls_take_no_part_in_the_ranking(self) -> None:
        scores = percentile_score(pd.Series([np.nan, 1.0, 2.0, 3.0], index=[10, 11, 12, 13]))
        assert scores.to_dict() == {10: 0.0, 11: 0.0, 12: 50.0, 13: 100.0}


class TestScoreValue:
    def test_hand_computed_accounts(self) -> None:
        features = pd.DataFrame(
            {
                "revenue_12m": [100.0, 300.0, 200.0, np.nan],
                "margin_12m": [30.0, 10.0, 20.0, 40.0],
                "industry_influence": [80.0, 20.0, 150.0, np.nan],
                "innovation_synergy": [60.0, 20.0, 50.0, 10.0],
                "growth_potential": [70.0, 10.0, -5.0, 10.0],
            },
            index=pd.Index([101, 102, 103, 104], name="account_id"),
        )
        out = score_value(features, ValueConfig())
        # revenue ranks among 3 present: 100->0, 300->100, 200->50; null -> 0
        assert out["revenue_12m_score"].tolist() == [0.0, 100.0, 50.0, 0.0]
        # margin among 4: 10->0, 20->33.3, 30->66.7, 40->100
        assert out["margin_12m_score"].tolist() == [66.7, 0.0, 33.3, 100.0]
        # current = 0.7 * revenue + 0.3 * margin
        assert out["current_value"].tolist() == [20.0, 70.0, 45.0, 30.0]
        # potential = 0.4 * influence + 0.3 * synergy + 0.3 * growth (clipped 0..100, null 0)
        assert out["industry_influence_score"].tolist() == [80.0, 20.0, 100.0, 0.0]
        assert out["growth_potential_score"].tolist() == [70.0, 10.0, 0.0, 10.0]
        assert out["potential_value"].tolist() == [71.0, 17.0, 55.0, 6.0]
        # value = 0.6 * current + 0.4 * potential
        assert out["value_score"].tolist() == [40.4, 48.8, 49.0, 20.4]
        assert out["quadrant"].tolist() == ["growth", "profit", "growth", "basic"]
        assert out.index.equals(features.index)

    def test_weights_and_cutoffs_come_from_the_config(self) -> None:
        features = pd.DataFrame({"revenue_12m": [1.0, 2.0], "industry_influence": [90.0, 40.0]})
        cfg = ValueConfig(
            current_weight=0.5,
            potential_weight=0.5,
            current_cutoff=100.0,
            potential_cutoff=90.0,
            current_measures={"revenue_12m": 1.0},
            potential_measures={"industry_influence": 1.0},
        )
        out = score_value(features, cfg)
        assert out["value_score"].tolist() == [45.0, 70.0]
        assert out["quadrant"].tolist() == ["growth", "profit"]


class TestQuadrant:
    def test_cutoffs_are_inclusive(self) -> None:
        current = pd.Series([50.0, 49.9, 50.0, 49.9])
        potential = pd.Series([50.0, 50.0, 49.9, 49.9])
        names = quadrant(current, potential, ValueConfig()).tolist()
        assert names == ["strategic_partner", "growth", "profit", "basic"]
        assert set(names) == set(QUADRANTS)
