"""Reading list pages' filters from the query string and linking to other pages of a list."""

from __future__ import annotations

from collections.abc import Container
from typing import Any
from urllib.parse import urlencode

MAX_PAGE_DIGITS = 6


def choice(value: str | None, allowed: Container[str]) -> str | None:
    """A filter value kept only when it is one of `allowed` (a stale link shows everything)."""
    return value if value and value in allowed else None


def page_number(raw: str | None) -> int:
    """The 1-based page asked for; anything that is not a plain small number is page 1."""
    if raw and raw.isascii() and raw.isdigit() and len(raw) <= MAX_PAGE_DIGITS:
        return max(int(raw), 1)
    return 1


def last_page(total: int, size: int) -> int:
    """The number of the last page (1 for an empty list)."""
    return max(1, -(-total // size))


def page_link(path: str, filters: dict[str, Any], number: int) -> str:
    """`path` with the filters and page `number` as its query, empty filters left out."""
    merged = {**filters, "page": number}
    return f"{path}?" + urlencode({k: v for k, v in merged.items() if v not in (None, "")})
