"""The account list (filters, sort, search, pages; HTMX partial updates) and Account 360."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tenure.accounts.schemas import HEALTH_BANDS, QUADRANT_LABELS, STAGE_LABELS
from tenure.accounts.service import ACCOUNT_STATUSES, get_account, list_accounts
from tenure.auth.deps import OptionalPrincipal
from tenure.engagement import service as engagement
from tenure.engagement import tasks as engagement_tasks
from tenure.errors import ResourceNotFound
from tenure.kit.deps import SessionDep
from tenure.web import charts, queries
from tenure.web.i18n import translator
from tenure.web.listing import choice, last_page, page_link, page_number
from tenure.web.templating import is_htmx, login_redirect, render, request_language

PAGE_SIZE = 25
SORTS: tuple[str, ...] = (
    "health_score",
    "-health_score",
    "-value_score",
    "-arr",
    "health_change",
    "-open_alerts",
    "name",
)
AT_RISK_CHOICES = {"yes": True, "no": False}

router = APIRouter(include_in_schema=False)


def account_filters(request: Request, owners: list[tuple[str, str]]) -> dict[str, Any]:
    """The list's filters read from the query string, unknown values dropped."""
    q = request.query_params
    return {
        "q": (q.get("q") or "").strip()[:100],
        "quadrant": choice(q.get("quadrant"), QUADRANT_LABELS),
        "stage": choice(q.get("stage"), STAGE_LABELS),
        "band": choice(q.get("band"), HEALTH_BANDS),
        "owner": choice(q.get("owner"), {key for key, _ in owners}),
        "at_risk": choice(q.get("at_risk"), AT_RISK_CHOICES),
        "status": choice(q.get("status"), ACCOUNT_STATUSES),
        "sort": choice(q.get("sort"), SORTS) or SORTS[0],
        "page": page_number(q.get("page")),
    }


@router.get("/accounts")
def accounts(request: Request, session: SessionDep, principal: OptionalPrincipal) -> Response:
    """Every account with its latest scores; filtered, sorted, searched and paged."""
    if principal is None:
        return login_redirect(request)
    owners = queries.team(session)
    filters = account_filters(request, owners)
    page = list_accounts(
        session,
        quadrant=filters["quadrant"],
        stage=filters["stage"],
        health_band=filters["band"],
        owner=filters["owner"],
        at_risk=AT_RISK_CHOICES.get(filters["at_risk"] or ""),
        status=filters["status"],
        search=filters["q"] or None,
        sort=filters["sort"],
        limit=PAGE_SIZE,
        offset=(filters["page"] - 1) * PAGE_SIZE,
    )
    context: dict[str, Any] = {
        "page": page,
        "filters": filters,
        "last_page": last_page(page.total, PAGE_SIZE),
        "page_link": lambda number: page_link("/accounts", filters, number),
    }
    if is_htmx(request):
        return render(request, "_accounts_results.html", principal=principal, **context)
    return render(
        request,
        "accounts.html",
        principal=principal,
        nav="accounts",
        owners=owners,
        quadrants=list(QUADRANT_LABELS),
        stages=list(STAGE_LABELS),
        bands=list(HEALTH_BANDS),
        statuses=list(ACCOUNT_STATUSES),
        sorts=SORTS,
        **context,
    )


def _flatten(values: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows.extend(_flatten(value, f"{name}."))
        else:
            rows.append((name, value))
    return rows


@router.get("/accounts/{key}")
def account_360(
    request: Request, key: str, session: SessionDep, principal: OptionalPrincipal
) -> Response:
    """Account 360: profile, scores with each measure's contribution, alerts, timeline."""
    if principal is None:
        return login_redirect(request)
    try:
        account = get_account(session, key)
    except ResourceNotFound:
        return render(
            request,
            "not_found.html",
            principal=principal,
            status_code=404,
            message_key="error.not_found_account",
            message_params={"key": key},
        )
    t = translator(request_language(request, principal))
    trend = [p.model_dump(mode="json") for p in account.health_trend]
    return render(
        request,
        "account.html",
        principal=principal,
        nav="accounts",
        account=account,
        value_rows=_flatten(account.value_breakdown),
        health_points=sum((m.points or 0) for m in account.health_breakdown.values()),
        charts={"trend": charts.account_trend(trend, t)} if trend else {},
        runs=engagement.list_runs(session, account=account.id, with_steps=True, limit=10),
        tasks=engagement_tasks.list_tasks(session, account=account.id, status="open", limit=20),
    )
