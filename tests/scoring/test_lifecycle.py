"""Lifecycle: calendar-month tenure and the onboarding / growth / mature / declining stages."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from tenure.config import LifecycleConfig
from tenure.scoring.lifecycle import (
    STAGES,
    add_months,
    assign_stage,
    months_between,
    tenure_months,
)


class TestMonthsBetween:
    @pytest.mark.parametrize(
        ("start", "end", "months"),
        [
            (date(2025, 1, 15), date(2025, 1, 15), 0),
            (date(2025, 1, 15), date(2025, 4, 14), 2),
            (date(2025, 1, 15), date(2025, 4, 15), 3),
            (date(2025, 1, 15), date(2026, 1, 14), 11),
            (date(2025, 1, 15), date(2026, 1, 15), 12),
            # month ends clamp: Jan 31 + 1 month is the last day of February
            (date(2025, 1, 31), date(2025, 2, 27), 0),
            (date(2025, 1, 31), date(2025, 2, 28), 1),
            (date(2024, 1, 31), date(2024, 2, 28), 0),
            (date(2024, 1, 31), date(2024, 2, 29), 1),
            (date(2025, 1, 31), date(2025, 4, 30), 3),
            (date(2024, 2, 29), date(2025, 2, 28), 12),
            (date(2025, 3, 15), date(2025, 2, 14), -1),
        ],
    )
    def test_whole_calendar_months(self, start: date, end: date, months: int) -> None:
        assert months_between(start, end) == months

    def test_add_months_clamps_to_month_end(self) -> None:
        assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
        assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
        assert add_months(date(2025, 3, 31), -1) == date(2025, 2, 28)
        assert add_months(date(2025, 11, 30), 14) == date(2027, 1, 30)

    def test_column_version_matches_the_scalar_one(self) -> None:
        starts = [date(2023, 12, 1) + timedelta(days=d) for d in range(0, 500, 3)]
        for as_of in (date(2024, 2, 29), date(2025, 2, 28), date(2025, 3, 31), date(2025, 6, 1)):
            column = tenure_months(pd.Series(starts), as_of).tolist()
            expected = [max(months_between(s, as_of), 0) for s in starts]
            assert column == expected

    def test_column_version_missing_and_future_starts_are_zero(self) -> None:
        starts = pd.Series([None, date(2026, 1, 1), date(2025, 1, 1)])
        assert tenure_months(starts, date(2025, 7, 1)).tolist() == [0, 0, 6]


def stage_frame(
    starts: list[date | None], usage: list[float], complaints: list[float], prev: list[float]
) -> tuple[pd.DataFrame, pd.Series]:
    features = pd.DataFrame(
        {"usage_change": usage, "complaints_30d": complaints, "complaints_prev_30d": prev},
        index=pd.RangeIndex(100, 100 + len(starts), name="account_id"),
    )
    return features, pd.Series(starts, index=features.index, dtype=object)


class TestAssignStage:
    def test_tenure_boundaries(self) -> None:
        since = date(2025, 1, 15)
        cfg = LifecycleConfig()
        expected = {
            date(2025, 4, 14): "onboarding",
            date(2025, 4, 15): "growth",
            date(2026, 1, 14): "growth",
            date(2026, 1, 15): "mature",
        }
        for as_of, stage in expected.items():
            features, starts = stage_frame([since], [0.0], [0], [0])
            assert assign_stage(features, starts, as_of, cfg).tolist() == [stage], as_of

    def test_month_end_start(self) -> None:
        features, starts = stage_frame([date(2024, 11, 30)], [0.0], [0], [0])
        cfg = LifecycleConfig()
        assert assign_stage(features, starts, date(2025, 2, 27), cfg).tolist() == ["onboarding"]
        assert assign_stage(features, starts, date(2025, 2, 28), cfg).tolist() == ["growth"]

    def test_declining_overrides_growth_and_mature(self) -> None:
        grown, old, new = date(2025, 1, 1), date(2023, 1, 1), date(2025, 5, 1)
        features, starts = stage_frame(
            [grown, grown, old, old, old, old, old, new, new, grown, None],
            usage=[-0.3, -0.29, np.nan, 0.0, 0.0, 0.0, 0.0, -0.9, 0.0, np.nan, -0.5],
            complaints=[0, 0, 2, 2, 1, 5, np.nan, 0, 9, np.nan, 0],
            prev=[0, 0, 1, 2, 0, np.nan, 0, 0, 0, np.nan, 0],
        )
        stages = assign_stage(features, starts, date(2025, 6, 1), LifecycleConfig()).tolist()
        assert stages == [
            "declining",  # usage down exactly 30%
            "growth",  # usage down 29%
            "declining",  # complaints 1 -> 2, and at least 2
            "mature",  # complaints flat at 2
            "mature",  # complaints rising 0 -> 1, but fewer than 2
            "declining",  # 5 complaints, none before (null counts as 0)
            "mature",  # null complaints count as 0
            "onboarding",  # onboarding is never marked declining
            "onboarding",
            "growth",  # null usage change is no signal
            "onboarding",  # no start date
        ]
        assert set(stages) <= set(STAGES)

    def test_thresholds_come_from_the_config(self) -> None:
        features, starts = stage_frame([date(2025, 1, 1)] * 2, [-0.1, 0.0], [1, 0], [0, 0])
        cfg = LifecycleConfig(
            onboarding_months=1,
            growth_months=2,
            declining_usage_change=-0.1,
            declining_min_complaints=1,
        )
        stages = assign_stage(features, starts, date(2025, 3, 1), cfg)
        assert stages.tolist() == ["declining", "mature"]
        assert stages.index.equals(features.index)

    def test_customer_since_must_share_the_index(self) -> None:
        features, _ = stage_frame([date(2025, 1, 1)], [0.0], [0], [0])
        with pytest.raises(ValueError, match="same index"):
            assign_stage(
                features, pd.Series([date(2025, 1, 1)]), date(2025, 6, 1), LifecycleConfig()
            )
