"""Property-based calls of every REST operation, generated from the OpenAPI schema: no 5xx.

The schema comes from a bare app holding only the REST router (generating it needs no
database); each test calls its own app on a copy of the seeded book with the admin's token.
Schemathesis sends boundary values (coverage phase) and a few fuzzed examples, positive and
negative, bounded so the whole run stays well under a minute.
"""

from __future__ import annotations

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings

from tenure.api import api_router

from .conftest import Book


def _bare_app() -> FastAPI:
    bare = FastAPI(title="Tenure")
    bare.include_router(api_router())
    return bare


schema = schemathesis.openapi.from_asgi("/openapi.json", _bare_app())


@schema.parametrize()
@settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors(case: schemathesis.Case, app: FastAPI, book: Book) -> None:
    response = case.call(app=app, headers=book.headers("admin"))
    assert response.status_code < 500, response.text[:500]
