"""Web pages of the engagement engine: playbooks (list, detail, editor), tasks, and the
one-click unsubscribe page contacts reach from a message.

Admins edit a playbook's definition as JSON with every problem shown at its path
(`definition.steps[1].template`); everyone signed in reads playbooks, runs and tasks.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from tenure.accounts.models import Contact
from tenure.auth.deps import OptionalPrincipal, check_csrf
from tenure.engagement import service, unsubscribe
from tenure.engagement import tasks as task_service
from tenure.engagement.pages_outbox import router as outbox_router
from tenure.engagement.schemas import PlaybookPatch, PlaybookWrite
from tenure.errors import TenureError
from tenure.kit.deps import RuntimeDep, SessionDep
from tenure.web.listing import last_page, page_number
from tenure.web.templating import login_redirect, render

PAGE_SIZE = 25
router = APIRouter(include_in_schema=False)
router.include_router(outbox_router)


def _problems(exc: ValidationError, prefix: str = "") -> list[tuple[str, str]]:
    """Pydantic errors as (path, message), paths like `definition.steps[1].template`."""
    out = []
    for error in exc.errors():
        path = prefix
        previous: object = None
        for part in error["loc"]:
            if isinstance(part, int):
                path += f"[{part}]"
            elif previous == "trigger" or isinstance(previous, int):
                pass  # the discriminator's value (`rule`, `send`) pydantic puts in the path
            else:
                path += ("." if path else "") + str(part)
            previous = part
        out.append((path or "definition", error["msg"].removeprefix("Value error, ")))
    return out


@router.get("/playbooks")
def playbooks(request: Request, session: SessionDep, principal: OptionalPrincipal) -> Response:
    """Every playbook: trigger, steps, whether it is on, and its runs."""
    if principal is None:
        return login_redirect(request)
    return render(
        request,
        "playbooks.html",
        principal=principal,
        nav="playbooks",
        playbooks=service.list_playbooks(session),
        editable=principal.is_admin,
        summary=service.due_summary(session),
        installed=request.query_params.get("installed"),
    )


@router.post("/playbooks/install-shipped")
async def install_shipped(
    request: Request, session: SessionDep, principal: OptionalPrincipal
) -> Response:
    """Install or refresh the shipped playbooks (admins)."""
    if principal is None:
        return login_redirect(request)
    await check_csrf(request, principal)
    if not principal.is_admin:
        return Response(status_code=403)
    outcome = service.install_shipped(session, principal)
    added = sum(1 for v in outcome.values() if v in ("added", "updated"))
    return RedirectResponse(f"/playbooks?installed={added}", status_code=303)


def _detail(
    request: Request,
    session: Any,
    principal: Any,
    key: str | None,
    *,
    form: dict[str, Any] | None = None,
    problems: list[tuple[str, str]] | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> Response:
    playbook = service.read_playbook(session, key) if key else None
    page = page_number(request.query_params.get("page"))
    runs = (
        service.list_runs(
            session, playbook=key, with_steps=True, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
        if key
        else None
    )
    if form is None:
        form = {
            "key": playbook.key if playbook else "",
            "name": playbook.name if playbook else "",
            "description": (playbook.description or "") if playbook else "",
            "enabled": playbook.enabled if playbook else True,
            "definition": json.dumps(
                playbook.definition if playbook else _EXAMPLE, ensure_ascii=False, indent=2
            ),
        }
    return render(
        request,
        "playbook.html",
        principal=principal,
        nav="playbooks",
        playbook=playbook,
        runs=runs,
        page=page,
        last_page=last_page(runs.total, PAGE_SIZE) if runs else 1,
        form=form,
        problems=problems or [],
        editable=principal.is_admin,
        saved=saved,
        status_code=status_code,
    )


_EXAMPLE: dict[str, Any] = {
    "trigger": {"type": "stage", "stage": "onboarding"},
    "audience": {"target": "contacts", "roles": ["key_user"]},
    "steps": [
        {"action": "send", "template": "onboarding_welcome"},
        {"action": "wait", "days": 3},
        {"action": "task", "title": "Call {{ account.name }}", "due_days": 2},
    ],
}


@router.get("/playbooks/new")
def new_playbook(request: Request, session: SessionDep, principal: OptionalPrincipal) -> Response:
    """The editor for a new playbook (admins)."""
    if principal is None:
        return login_redirect(request)
    return _detail(request, session, principal, None)


@router.get("/playbooks/{key}")
def playbook(
    request: Request, key: str, session: SessionDep, principal: OptionalPrincipal
) -> Response:
    """One playbook: definition, and each run with what fired, why, and what was sent."""
    if principal is None:
        return login_redirect(request)
    try:
        return _detail(
            request, session, principal, key, saved=bool(request.query_params.get("saved"))
        )
    except TenureError:
        return render(request, "not_found.html", principal=principal, status_code=404)


@router.post("/playbooks/{key}")
async def save_playbook(
    request: Request, key: str, session: SessionDep, principal: OptionalPrincipal
) -> Response:
    """Save the editor (admins): create when `key` is `new`, else update."""
    if principal is None:
        return login_redirect(request)
    await check_csrf(request, principal)
    if not principal.is_admin:
        return Response(status_code=403)
    data = await request.form()
    form = {
        "key": str(data.get("key", "")).strip(),
        "name": str(data.get("name", "")).strip(),
        "description": str(data.get("description", "")),
        "enabled": data.get("enabled") == "on",
        "definition": str(data.get("definition", "")),
    }
    existing = None if key == "new" else key
    try:
        definition = json.loads(str(form["definition"]))
    except json.JSONDecodeError as exc:
        problem = (
            "definition",
            f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
        )
        return _detail(request, session, principal, existing, form=form, problems=[problem],
                       status_code=422)  # fmt: skip
    try:
        if existing is None:
            body = PlaybookWrite.model_validate({**form, "definition": definition})
            saved = service.create_playbook(session, principal, body)
        else:
            patch = PlaybookPatch.model_validate(
                {"name": form["name"], "description": form["description"] or None,
                 "enabled": form["enabled"], "definition": definition}
            )  # fmt: skip
            saved = service.update_playbook(session, principal, existing, patch)
    except ValidationError as exc:
        return _detail(request, session, principal, existing, form=form,
                       problems=_problems(exc), status_code=422)  # fmt: skip
    except TenureError as exc:
        path, _, message = exc.message.partition(": ")
        problem = (path, message) if message else ("definition", exc.message)
        return _detail(request, session, principal, existing, form=form, problems=[problem],
                       status_code=exc.status_code)  # fmt: skip
    return RedirectResponse(f"/playbooks/{saved.key}?saved=1", status_code=303)


@router.get("/tasks")
def tasks(request: Request, session: SessionDep, principal: OptionalPrincipal) -> Response:
    """Tasks and cases: the signed-in user's by default, everyone's on request."""
    if principal is None:
        return login_redirect(request)
    q = request.query_params
    scope = "all" if q.get("scope") == "all" else "mine"
    status = q.get("status") if q.get("status") in task_service.TASK_STATUSES else "open"
    page = page_number(q.get("page"))
    found = task_service.list_tasks(
        session,
        owner_id=principal.user.id if scope == "mine" else None,
        status=status,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    return render(
        request,
        "tasks.html",
        principal=principal,
        nav="tasks",
        tasks=found,
        scope=scope,
        status=status,
        page=page,
        last_page=last_page(found.total, PAGE_SIZE),
    )


def _unsubscribe_target(session: Any, runtime: Any, token: str) -> tuple[Contact | None, str, str]:
    """(contact, channel, error key) of an unsubscribe token."""
    try:
        contact_id, channel = unsubscribe.read_token(
            unsubscribe.signing_key(runtime.settings.home), token
        )
    except unsubscribe.BadUnsubscribeToken:
        return None, "", "unsubscribe.bad_link"
    contact = session.scalar(select(Contact).where(Contact.id == contact_id))
    if contact is None:
        return None, channel, "unsubscribe.unknown"
    return contact, channel, ""


@router.get("/u/{token}")
def unsubscribe_page(
    request: Request, token: str, session: SessionDep, runtime: RuntimeDep
) -> Response:
    """The page an unsubscribe link opens: confirm opting out of this channel or of all."""
    contact, channel, error = _unsubscribe_target(session, runtime, token)
    return render(
        request,
        "unsubscribe.html",
        principal=None,
        contact=contact,
        channel=channel,
        error=error,
        done=None,
        token=token,
        status_code=400 if error == "unsubscribe.bad_link" else 404 if error else 200,
    )


@router.post("/u/{token}")
async def unsubscribe_post(
    request: Request, token: str, session: SessionDep, runtime: RuntimeDep
) -> Response:
    """Opt out: the page's buttons, or a mail client's one-click POST (RFC 8058).

    No session or CSRF token: the signed link is the authority, and it can only ever opt
    its own contact out (the worst a forged request does is what the contact asked for).
    """
    contact, channel, error = _unsubscribe_target(session, runtime, token)
    if contact is None:
        return render(request, "unsubscribe.html", principal=None, contact=None, channel=channel,
                      error=error, done=None, token=token, status_code=400)  # fmt: skip
    data = await request.form()
    everything = data.get("scope") == "all"
    if everything:
        contact.opted_out_all = True
    else:
        channels = [str(c) for c in (contact.opt_out_channels or [])]
        if channel not in channels:
            contact.opt_out_channels = [*channels, channel]
    session.flush()
    return render(request, "unsubscribe.html", principal=None, contact=contact, channel=channel,
                  error="", done="all" if everything else "channel", token=token)  # fmt: skip
