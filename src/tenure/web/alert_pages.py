"""The alert queue: filters by owner, severity, rule and status; actions through the REST API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tenure.auth.deps import OptionalPrincipal
from tenure.kit.deps import SessionDep
from tenure.risk.models import SEVERITIES
from tenure.risk.queries import list_alerts
from tenure.risk.schemas import ALERT_STATUS_FILTERS
from tenure.web import queries
from tenure.web.listing import choice, last_page, page_link, page_number
from tenure.web.templating import is_htmx, login_redirect, render

PAGE_SIZE = 25
# The buttons of an alert in each status: the REST endpoint's last path segment (the API
# resolves only acknowledged alerts; dismissing needs a reason, resolving takes a note).
ACTIONS: dict[str, tuple[str, ...]] = {
    "open": ("acknowledge", "dismiss"),
    "acknowledged": ("resolve", "dismiss"),
}
# Statuses in which an alert can be (re)assigned (POST /api/v1/alerts/{id}/assign).
ASSIGNABLE: frozenset[str] = frozenset(ACTIONS)
# The JSON field each action's prompt fills, and whether an answer is required.
PROMPTS: dict[str, tuple[str, bool]] = {"resolve": ("note", False), "dismiss": ("reason", True)}

router = APIRouter(include_in_schema=False)


@dataclass
class _Owned:
    """An account's owner, as `Principal.can_write_account` reads it."""

    owner_id: int | None


def alert_filters(
    request: Request, owners: list[tuple[str, str]], rules: list[tuple[str, str]]
) -> dict[str, Any]:
    """The queue's filters read from the query string, unknown values dropped."""
    q = request.query_params
    return {
        "owner": choice(q.get("owner"), {key for key, _ in owners}),
        "severity": choice(q.get("severity"), SEVERITIES),
        "rule": choice(q.get("rule"), {key for key, _ in rules}),
        "status": choice(q.get("status"), ALERT_STATUS_FILTERS) or "open",
        "page": page_number(q.get("page")),
    }


@router.get("/alerts")
def alerts(request: Request, session: SessionDep, principal: OptionalPrincipal) -> Response:
    """Open alerts, most severe first, with the evidence that fired them."""
    if principal is None:
        return login_redirect(request)
    owners, rules = queries.team(session), queries.alert_rules(session)
    filters = alert_filters(request, owners, rules)
    page = list_alerts(
        session,
        status=filters["status"],
        severity=filters["severity"],
        rule=filters["rule"],
        owner=filters["owner"],
        limit=PAGE_SIZE,
        offset=(filters["page"] - 1) * PAGE_SIZE,
    )

    owners_of = queries.account_owners(session, {a.account_id for a in page.items})
    workable = {
        a.id for a in page.items if principal.can_write_account(_Owned(owners_of.get(a.account_id)))
    }
    context: dict[str, Any] = {
        "page": page,
        "filters": filters,
        "last_page": last_page(page.total, PAGE_SIZE),
        "page_link": lambda number: page_link("/alerts", filters, number),
        "actions": ACTIONS,
        "prompts": PROMPTS,
        "workable": workable,
        "assignable": ASSIGNABLE,
        "team": owners,
    }
    if is_htmx(request):
        return render(request, "_alerts_results.html", principal=principal, **context)
    return render(
        request,
        "alerts.html",
        principal=principal,
        nav="alerts",
        owners=owners,
        rules=rules,
        severities=list(reversed(SEVERITIES)),
        statuses=ALERT_STATUS_FILTERS,
        **context,
    )
