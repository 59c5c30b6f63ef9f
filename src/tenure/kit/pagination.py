"""Pages of list results, sort keys and the error for a bad list query (knows no domain)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Generic, TypeVar

from pydantic import BaseModel

from tenure.errors import TenureError

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000


class InvalidQuery(TenureError):
    """A filter, sort key or paging value of a list query is not allowed.

    `parameter` names the offending query parameter and `allowed` lists the accepted values
    (empty when the parameter is numeric), so the CLI and the API can both point at it.
    """

    status_code = 422

    def __init__(self, parameter: str, message: str, allowed: Iterable[str] = ()) -> None:
        self.parameter = parameter
        self.allowed = tuple(allowed)
        self.problems = [(parameter, message)]
        super().__init__(message)


class Page(BaseModel, Generic[T]):
    """One page of a list: `items`, and `total` matching rows across every page."""

    items: list[T]
    total: int
    limit: int
    offset: int


def check_paging(limit: int, offset: int) -> None:
    """Reject a limit outside 1..MAX_LIMIT or a negative offset."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidQuery("limit", f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    if offset < 0:
        raise InvalidQuery("offset", f"offset must not be negative, got {offset}")


def check_choice(parameter: str, value: str, allowed: Collection[str]) -> str:
    """Return `value` when it is one of `allowed`; otherwise raise naming every allowed value."""
    if value not in allowed:
        raise InvalidQuery(
            parameter,
            f"unknown {parameter} {value!r}; allowed: {', '.join(allowed)}",
            allowed,
        )
    return value


def parse_sort(sort: str, allowed: Collection[str]) -> tuple[str, bool]:
    """Split a sort key such as ``-health_score`` into ``("health_score", True)`` (descending)."""
    descending = sort.startswith("-")
    key = sort.removeprefix("-")
    if key not in allowed:
        choices = [*allowed, *(f"-{name}" for name in allowed)]
        raise InvalidQuery(
            "sort",
            f"unknown sort key {sort!r}; allowed: {', '.join(allowed)} (prefix '-' for descending)",
            choices,
        )
    return key, descending
