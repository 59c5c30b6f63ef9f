"""The portfolio dashboard: KPI tiles, value quadrants, health, stages, risk trend."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tenure.auth.deps import OptionalPrincipal
from tenure.kit.deps import SessionDep
from tenure.scoring.portfolio import (
    SCATTER_POINTS,
    portfolio_days,
    portfolio_summary,
)
from tenure.web import charts, queries
from tenure.web.i18n import label_of, translator
from tenure.web.templating import login_redirect, render, request_language

AT_RISK_ROWS = 10

router = APIRouter(include_in_schema=False)


@router.get("/")
def dashboard(request: Request, session: SessionDep, principal: OptionalPrincipal) -> Response:
    """The portfolio at a glance, from the latest scoring run.

    The date's figures are one stored row (`portfolio_days`); only open alerts, the ARR
    behind them and the at-risk list are read live.
    """
    if principal is None:
        return login_redirect(request)
    language = request_language(request, principal)
    t, label = translator(language), label_of(language)
    summary = portfolio_summary(session)
    scored = bool(summary["accounts"])
    chart_options: dict[str, object] = {}
    kpis: dict[str, object] = {}
    at_risk = []
    if scored:
        day = dt.date.fromisoformat(summary["as_of"])
        figures = portfolio_days(session, [day])[day]
        points = queries.quadrant_points(figures)
        chart_options = {
            "quadrant": charts.quadrant_scatter(points, t, label),
            "health": charts.health_histogram(figures["health_histogram"], t),
            "funnel": charts.stage_funnel(
                queries.stage_funnel(summary["lifecycle_stages"]), t, label
            ),
            "trend": charts.at_risk_trend(queries.at_risk_trend(session), t),
        }
        kpis = {
            "accounts": summary["accounts"],
            "avg_health": summary["avg_health_score"],
            "avg_value": summary["avg_value_score"],
            "open_alerts": sum(summary["open_alerts"].values()),
            "accounts_with_alerts": summary["accounts_with_open_alerts"],
            "arr_at_risk": summary["arr_at_risk"],
            "arr_total": summary["arr"],
            "sampled": len(points) if len(points) >= SCATTER_POINTS else None,
        }
        at_risk = queries.account_summaries(session, queries.at_risk_ids(session, AT_RISK_ROWS))
    return render(
        request,
        "dashboard.html",
        principal=principal,
        nav="dashboard",
        summary=summary,
        scored=scored,
        kpis=kpis,
        charts=chart_options,
        at_risk=at_risk,
    )
