"""ECharts options built on the server (plain JSON, labels already translated).

static/app.js hands each option to `echarts.init(...).setOption(...)`; it adds only what
JSON cannot carry (tooltip formatters, click-through to an account).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from tenure.scoring.value import QUADRANTS
from tenure.web.i18n import Translate

QUADRANT_COLORS = {
    "strategic_partner": "#2f6fde",
    "growth": "#18a058",
    "profit": "#d99a0e",
    "basic": "#8a94a6",
}
STAGE_COLORS = ["#5b8def", "#18a058", "#2f6fde", "#d03050"]
GRID = {"left": 48, "right": 16, "top": 28, "bottom": 36, "containLabel": True}
MIN_BUBBLE, MAX_BUBBLE = 6.0, 36.0
HEALTH_CUTS = (40, 70)


def _bubble(arr: float, largest: float) -> float:
    if largest <= 0:
        return MIN_BUBBLE
    return round(MIN_BUBBLE + (MAX_BUBBLE - MIN_BUBBLE) * math.sqrt(max(arr, 0) / largest), 1)


def quadrant_scatter(
    points: list[dict[str, Any]], t: Translate, label: Callable[[str, object], str]
) -> dict[str, Any]:
    """Current × potential value per account, one series per quadrant, bubble area by ARR."""
    largest = max((p["arr"] for p in points), default=0.0)
    series = []
    for quadrant in QUADRANTS:
        data = [
            {
                "name": p["name"],
                "value": [p["current"], p["potential"], p["arr"]],
                "symbolSize": _bubble(p["arr"], largest),
                "url": f"/accounts/{p['key']}",
            }
            for p in points
            if p["quadrant"] == quadrant
        ]
        series.append(
            {
                "name": label("quadrant", quadrant),
                "type": "scatter",
                "data": data,
                "itemStyle": {"color": QUADRANT_COLORS[quadrant], "opacity": 0.7},
                "emphasis": {"focus": "series"},
            }
        )
    return {
        "kind": "scatter",
        "axisNames": [t("chart.current_value"), t("chart.potential_value"), t("field.arr")],
        "grid": {**GRID, "top": 40},
        "legend": {"top": 0},
        "tooltip": {"trigger": "item"},
        "xAxis": {
            "name": t("chart.current_value"),
            "min": 0,
            "max": 100,
            "nameLocation": "middle",
            "nameGap": 24,
        },
        "yAxis": {"name": t("chart.potential_value"), "min": 0, "max": 100},
        "series": series,
    }


def health_histogram(counts: list[int], t: Translate) -> dict[str, Any]:
    """Accounts per health decile, coloured by health band."""
    width = 100 // max(len(counts), 1)
    labels = [f"{i * width}-{(i + 1) * width}" for i in range(len(counts))]

    def color(low: int) -> str:
        if low < HEALTH_CUTS[0]:
            return "#d03050"
        return "#d99a0e" if low < HEALTH_CUTS[1] else "#18a058"

    return {
        "kind": "bar",
        "grid": GRID,
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "data": labels, "name": t("chart.health")},
        "yAxis": {"type": "value", "name": t("chart.accounts"), "minInterval": 1},
        "series": [
            {
                "name": t("chart.accounts"),
                "type": "bar",
                "barCategoryGap": "8%",
                "data": [
                    {"value": n, "itemStyle": {"color": color(i * width)}}
                    for i, n in enumerate(counts)
                ],
            }
        ],
    }


def stage_funnel(
    stages: list[dict[str, Any]], t: Translate, label: Callable[[str, object], str]
) -> dict[str, Any]:
    """Accounts per lifecycle stage, in the order they move through them."""
    return {
        "kind": "funnel",
        "tooltip": {"trigger": "item"},
        "color": STAGE_COLORS,
        "series": [
            {
                "name": t("chart.funnel"),
                "type": "funnel",
                "sort": "none",
                "left": "8%",
                "width": "84%",
                "top": 8,
                "bottom": 8,
                "minSize": "20%",
                "label": {"show": True, "position": "inside", "formatter": "{b}: {c}"},
                "data": [{"name": label("stage", s["stage"]), "value": s["count"]} for s in stages],
            }
        ],
    }


def at_risk_trend(trend: list[dict[str, Any]], t: Translate) -> dict[str, Any]:
    """Accounts with health below 40 on each snapshot date."""
    return {
        "kind": "line",
        "grid": GRID,
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "data": [p["as_of"] for p in trend]},
        "yAxis": {"type": "value", "name": t("chart.accounts"), "minInterval": 1},
        "series": [
            {
                "name": t("chart.at_risk_series"),
                "type": "line",
                "smooth": True,
                "areaStyle": {"opacity": 0.12},
                "itemStyle": {"color": "#d03050"},
                "data": [p["at_risk"] for p in trend],
            }
        ],
    }


def account_trend(points: list[dict[str, Any]], t: Translate) -> dict[str, Any]:
    """One account's health and value score over its snapshots."""
    return {
        "kind": "line",
        "grid": {**GRID, "top": 36},
        "legend": {"top": 0},
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "data": [p["as_of"] for p in points]},
        "yAxis": {"type": "value", "min": 0, "max": 100},
        "series": [
            {
                "name": t("chart.health"),
                "type": "line",
                "itemStyle": {"color": "#18a058"},
                "data": [p["health_score"] for p in points],
                "markArea": {
                    "silent": True,
                    "itemStyle": {"color": "rgba(208,48,80,0.06)"},
                    "data": [[{"yAxis": 0}, {"yAxis": HEALTH_CUTS[0]}]],
                },
            },
            {
                "name": t("chart.value"),
                "type": "line",
                "itemStyle": {"color": "#2f6fde"},
                "data": [p["value_score"] for p in points],
            },
        ],
    }
