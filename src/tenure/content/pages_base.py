"""What the template and talk-track pages share: list sizes, the edit form, access, refusals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response

from tenure.auth.deps import Principal, csrf_protect
from tenure.content.api import WRITE_ROLES
from tenure.errors import TenureError
from tenure.web.templating import render

PAGE_SIZE = 50
SEARCH_MAX = 200

Csrf = Depends(csrf_protect)


@dataclass
class Form:
    """What an edit form shows: each field's text and the problems by field."""

    values: dict[str, str] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None

    def value(self, key: str) -> str:
        """The text of field `key` ("" when empty)."""
        return self.values.get(key, "")

    def errors(self, key: str) -> list[str]:
        """The problems of field `key` (each starting with its line for template texts)."""
        return [message for k, message in self.problems if k == key]


def can_write(principal: Principal) -> bool:
    """Admins and managers (with the write scope) change templates and talk tracks."""
    return principal.role in WRITE_ROLES and principal.has_scope("write")


async def form_data(request: Request) -> dict[str, str]:
    """The posted form's text fields (line ends as \\n), read before the endpoint runs."""
    raw = await request.form()
    return {k: v.replace("\r\n", "\n") for k, v in raw.items() if isinstance(v, str)}


FormData = Annotated[dict[str, str], Depends(form_data)]


def problems_of(exc: TenureError) -> list[tuple[str, str]]:
    """The problems of a refused save by field (the message alone when it names none)."""
    problems: list[tuple[str, str]] = getattr(exc, "problems", [])
    return problems or [("", exc.message)]


def refused_page(principal: Principal, request: Request) -> Response:
    """403: only admins and managers change content."""
    return render(request, "content_message.html", principal=principal, status_code=403,
                  message="content.forbidden")  # fmt: skip


def not_found_page(request: Request, principal: Principal) -> Response:
    """404: no such template or talk track."""
    return render(request, "content_message.html", principal=principal, status_code=404,
                  message="content.not_found")  # fmt: skip
