"""RFM: quantile scores 1..5 by average rank, ties always equal, non-buyers at 1."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tenure.config import RfmConfig
from tenure.scoring.rfm import quantile_bins, score_rfm


def frame(days: list[float], orders: list[float], revenue: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"days_since_last_order": days, "orders_12m": orders, "revenue_12m": revenue}
    )


class TestQuantileBins:
    def test_ten_distinct_values_fill_two_per_bin(self) -> None:
        values = pd.Series([10.0, 9, 8, 7, 6, 5, 4, 3, 2, 1])
        assert quantile_bins(values, 5).tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]

    def test_equal_values_get_the_same_score(self) -> None:
        # the four 3s share rank 2.5: 1 + floor(5 * 1.5 / 5) = 2; the 8 has rank 5 -> 5
        assert quantile_bins(pd.Series([3.0, 3, 8, 3, 3]), 5).tolist() == [2, 2, 5, 2, 2]
        # all equal among 10: rank 5.5 -> 1 + floor(5 * 4.5 / 10) = 3
        assert quantile_bins(pd.Series([4.0] * 10), 5).tolist() == [3] * 10

    def test_ties_never_split_across_bins(self) -> None:
        values = pd.Series([1.0, 2, 2, 2, 3, 3, 4, 5, 5, 6, 7, 7])
        scores = quantile_bins(values, 5)
        for value in values.unique():
            assert scores[values == value].nunique() == 1
        # average ranks 1, 3, 5.5, 7, 8.5, 10, 11.5 of 12 -> 1 + floor(5 * (r - 1) / 12)
        assert scores.tolist() == [1, 1, 1, 1, 2, 2, 3, 4, 4, 4, 5, 5]

    def test_nulls_score_1_and_are_not_ranked(self) -> None:
        assert quantile_bins(pd.Series([np.nan, 1.0, 2.0]), 5).tolist() == [1, 1, 3]


class TestScoreRfm:
    def test_five_distinct_accounts(self) -> None:
        features = frame(
            days=[1, 10, 30, 60, 200],
            orders=[10, 1, 5, 2, 3],
            revenue=[500, 100, 300, 200, 400],
        )
        out = score_rfm(features, RfmConfig())
        assert out["rfm_recency"].tolist() == [5, 4, 3, 2, 1]
        assert out["rfm_frequency"].tolist() == [5, 1, 4, 2, 3]
        assert out["rfm_monetary"].tolist() == [5, 1, 3, 2, 4]
        assert out["rfm_code"].tolist() == ["555", "411", "343", "222", "134"]
        assert str(out["rfm_recency"].dtype) == "int64"

    def test_never_ordered_and_no_orders_in_window(self) -> None:
        features = frame(
            days=[np.nan, 5, 5, 400], orders=[0, 1, 2, 0], revenue=[np.nan, 10, 20, 999]
        )
        out = score_rfm(features, RfmConfig())
        # recency ranks the three that ever ordered: the tied 5s share rank 2.5 of 3 -> 1+2=3
        assert out["rfm_recency"].tolist() == [1, 3, 3, 1]
        # frequency and monetary rank only the two accounts with orders: rank 2 of 2 -> 3
        assert out["rfm_frequency"].tolist() == [1, 1, 3, 1]
        assert out["rfm_monetary"].tolist() == [1, 1, 3, 1]
        assert out["rfm_code"].tolist() == ["111", "311", "333", "111"]

    def test_keeps_the_index_and_is_deterministic(self) -> None:
        index = pd.Index([7, 3, 9], name="account_id")
        features = frame(days=[3, 3, 90], orders=[4, 4, 1], revenue=[50, 50, 5]).set_axis(index)
        first = score_rfm(features, RfmConfig())
        assert first.index.equals(index)
        # the tied pairs share rank 2.5 of 3: 1 + floor(5 * 1.5 / 3) = 3
        assert first["rfm_code"].tolist() == ["333", "333", "111"]
        pd.testing.assert_frame_equal(
            first, score_rfm(features.iloc[[2, 0, 1]], RfmConfig()).loc[index]
        )

    def test_ten_bins_use_a_separator(self) -> None:
        features = frame(days=list(range(10)), orders=list(range(1, 11)), revenue=[1.0] * 10)
        out = score_rfm(features, RfmConfig(bins=10))
        # equal revenue everywhere: rank 5.5 of 10 -> 1 + floor(10 * 4.5 / 10) = 5
        assert out["rfm_code"].tolist()[0] == "10-1-5"
        assert out["rfm_code"].tolist()[9] == "1-10-5"
