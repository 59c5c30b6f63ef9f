"""The portfolio dashboard: KPI tiles, value quadrants, health, stages, risk trend."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tenure.auth.deps import OptionalPrincipal
from tenure.kit.deps import SessionDep
from tenure.scoring.portfolio import portfolio_summary
from tenure.web import charts, queries
from tenure.web.i18n import label_of, translator
from tenure.web.templating import login_redirect, render, request_language

AT_RISK_ROWS = 10
TREND_CACHE_DATES = 1000

router = APIRouter(include_in_schema=False)


def _trend_cache(request: Request) -> dict[dt.date, tuple[int, int]]:
    """Per-app counts of past snapshot dates (kept on the app, not in a module global)."""
    state = request.app.state
    cache: dict[dt.date, tuple[int, int]] | None = getattr(state, "web_trend_cache", None)
    if cache is None or len(cache) > TREND_CACHE_DATES:
        cache = {}
        state.web_trend_cache = cache
    return cache


@router.get("/")
def dashboard(request: Request, session: SessionDep, principal: OptionalPrincipal) -> Response:
    """The portfolio at a glance, from the latest scoring run."""
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
        points = queries.quadrant_points(session, day)
        chart_options = {
            "quadrant": charts.quadrant_scatter(points, t, label),
            "health": charts.health_histogram(queries.health_histogram(session, day), t),
            "funnel": charts.stage_funnel(
                queries.stage_funnel(summary["lifecycle_stages"]), t, label
            ),
            "trend": charts.at_risk_trend(
                queries.at_risk_trend(session, cache=_trend_cache(request)), t
            ),
        }
        arr = queries.arr_totals(session)
        kpis = {
            "accounts": summary["accounts"],
            "avg_health": summary["avg_health_score"],
            "avg_value": summary["avg_value_score"],
            "open_alerts": sum(summary["open_alerts"].values()),
            "accounts_with_alerts": summary["accounts_with_open_alerts"],
            "arr_at_risk": arr["at_risk"],
            "arr_total": arr["total"],
            "sampled": len(points) if len(points) >= queries.SCATTER_POINTS else None,
        }
        at_risk = queries.account_summaries(
            session, queries.at_risk_ids(session, day, AT_RISK_ROWS)
        )
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
