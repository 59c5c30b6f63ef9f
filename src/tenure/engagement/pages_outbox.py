"""The outbox page: messages by status with counts; retry and cancel for admins and managers.

The buttons post (through HTMX, which sends the CSRF header) to this router, which applies
the change with the same service as the REST API and answers the refreshed results.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from tenure.auth.deps import OptionalPrincipal, Principal, check_csrf
from tenure.engagement import outbox_admin
from tenure.engagement.api_outbox import MessageId, owned_by
from tenure.engagement.schemas_outbox import OUTBOX_STATUSES
from tenure.errors import TenureError
from tenure.kit.deps import SessionDep
from tenure.web.listing import choice, last_page, page_link, page_number
from tenure.web.templating import is_htmx, login_redirect, render

PAGE_SIZE = 25
OPERATORS = frozenset({"admin", "manager"})
# The buttons of a message in each status (POST /outbox/{id}/<action>).
ACTIONS: dict[str, tuple[str, ...]] = {
    "queued": ("cancel",),
    "failed": ("retry", "cancel"),
    "dead": ("retry",),
}

router = APIRouter(include_in_schema=False)


def outbox_filters(request: Request) -> dict[str, Any]:
    """The page's filters from the query string (an unknown status shows every message)."""
    q = request.query_params
    return {"status": choice(q.get("status"), OUTBOX_STATUSES), "page": page_number(q.get("page"))}


def _results(
    request: Request,
    session: SessionDep,
    principal: Principal,
    *,
    fragment: bool,
    notice: dict[str, Any] | None = None,
) -> Response:
    filters = outbox_filters(request)
    mine = owned_by(principal)
    page = outbox_admin.list_outbox(
        session,
        status=filters["status"],
        owned_by=mine,
        limit=PAGE_SIZE,
        offset=(filters["page"] - 1) * PAGE_SIZE,
    )
    counts = outbox_admin.status_counts(session, owned_by=mine)
    query = urlencode({k: v for k, v in filters.items() if v not in (None, "")})
    context: dict[str, Any] = {
        "page": page,
        "filters": filters,
        "counts": counts,
        "statuses": OUTBOX_STATUSES,
        "last_page": last_page(page.total, PAGE_SIZE),
        "page_link": lambda number: page_link("/outbox", filters, number),
        "tab_link": lambda status: page_link("/outbox", {"status": status}, 1),
        "action_url": lambda message_id, action: f"/outbox/{message_id}/{action}?{query}",
        "actions": ACTIONS if principal.role in OPERATORS else {},
        "notice": notice,
    }
    if fragment:
        return render(request, "outbox_results.html", principal=principal, **context)
    return render(request, "outbox.html", principal=principal, nav="outbox", **context)


@router.get("/outbox")
def outbox(request: Request, session: SessionDep, principal: OptionalPrincipal) -> Response:
    """The outbox: messages by status, newest first, with their attempts and last error."""
    if principal is None:
        return login_redirect(request)
    return _results(request, session, principal, fragment=is_htmx(request))


def _change(
    request: Request, session: SessionDep, principal: Principal, message_id: int, action: str
) -> Response:
    change = outbox_admin.retry if action == "retry" else outbox_admin.cancel
    notice: dict[str, Any]
    try:
        change(session, message_id, actor=principal)
    except TenureError as exc:  # not found, or no longer in a status that allows it
        notice = {"kind": "bad", "text": exc.message}
    else:
        notice = {"kind": "ok", "key": f"outbox.{action}_done", "id": message_id}
    return _results(request, session, principal, fragment=True, notice=notice)


async def _act(
    request: Request, session: SessionDep, principal: Principal | None, message_id: int, action: str
) -> Response:
    """Check the user and the CSRF token, apply `action`, answer the refreshed results."""
    if principal is None:
        return login_redirect(request)
    await check_csrf(request, principal)
    if principal.role not in OPERATORS:
        raise HTTPException(
            status_code=403,
            detail=f"role {principal.role} may not {action} outbox messages"
            " (needs admin or manager)",
        )
    return await run_in_threadpool(_change, request, session, principal, message_id, action)


@router.post("/outbox/{message_id}/retry")
async def retry_outbox_message(
    request: Request, session: SessionDep, principal: OptionalPrincipal, message_id: MessageId
) -> Response:
    """Queue a dead or failed message again (admins and managers)."""
    return await _act(request, session, principal, message_id, "retry")


@router.post("/outbox/{message_id}/cancel")
async def cancel_outbox_message(
    request: Request, session: SessionDep, principal: OptionalPrincipal, message_id: MessageId
) -> Response:
    """Cancel a queued or failed message (admins and managers)."""
    return await _act(request, session, principal, message_id, "cancel")
