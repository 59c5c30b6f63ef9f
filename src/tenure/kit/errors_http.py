"""One error shape for every API error: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from tenure.errors import TenureError


def _code(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def error_body(
    code: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The JSON body of an error response."""
    return {"error": {"code": code, "message": message, "details": details or []}}


def install_error_handlers(app: FastAPI) -> None:
    """Render TenureError, HTTP errors and payload validation errors in the one shape."""

    @app.exception_handler(TenureError)
    async def _tenure(_: Request, exc: TenureError) -> JSONResponse:
        details = [{"field": k, "message": m} for k, m in getattr(exc, "problems", [])]
        return JSONResponse(
            error_body(_code(type(exc).__name__), exc.message, details),
            status_code=exc.status_code,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
        return JSONResponse(
            error_body(codes.get(exc.status_code, f"http_{exc.status_code}"), str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {
                "field": ".".join(str(p) for p in err["loc"] if p not in ("body", "query", "path")),
                "location": str(err["loc"][0]) if err["loc"] else "",
                "message": err["msg"],
            }
            for err in exc.errors()
        ]
        return JSONResponse(
            error_body("validation_error", "the request is malformed", details), status_code=422
        )
