"""Reading list filters and paging from the query string."""

from __future__ import annotations

import pytest

from tenure.web.listing import choice, last_page, page_link, page_number


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("3", 3), (None, 1), ("", 1), ("0", 1), ("-2", 1), ("x", 1), ("٣", 1), ("9" * 40, 1)],
)
def test_page_number(raw: str | None, expected: int) -> None:
    assert page_number(raw) == expected


def test_choice_keeps_only_allowed_values() -> None:
    assert choice("growth", {"growth", "basic"}) == "growth"
    assert choice("Growth", {"growth"}) is None
    assert choice("", {""}) is None


def test_pages_and_links() -> None:
    assert [last_page(n, 25) for n in (0, 1, 25, 26)] == [1, 1, 1, 2]
    link = page_link("/accounts", {"q": "a&b", "stage": None, "sort": "-arr"}, 2)
    assert link == "/accounts?q=a%26b&sort=-arr&page=2"
