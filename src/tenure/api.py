"""The REST API under /api/v1: the router of every domain, and what their endpoints share.

Shared here: the error shape documented on every operation, the guard against NUL
characters in parameters, and the rules every create/update payload follows.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from tenure.accounts.service import MAX_ID

MAX_BIGINT = 2**63 - 1  # the largest number SQLite binds (offsets)


def _naive_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


ExternalId = Annotated[str, Field(min_length=1, max_length=100)]


def _key(value: int | str) -> int | str:
    if isinstance(value, int) and not 1 <= value <= MAX_ID:
        raise ValueError(f"an id is a number from 1 to {MAX_ID}")
    if isinstance(value, str) and not 1 <= len(value) <= 100:
        raise ValueError("an external id has 1 to 100 characters")
    return value


# A reference to a row: its id (a number the database can hold) or its external id.
Key = Annotated[int | str, AfterValidator(_key)]
AccountRef = Annotated[Key, Field(description="the account's id or external id")]
# A timestamp as the tables keep it: naive UTC (an offset in the payload is converted).
Timestamp = Annotated[dt.datetime, AfterValidator(_naive_utc)]


def _unstorable(value: Any) -> bool:
    """True for text with NUL (PostgreSQL refuses it) or non-finite numbers, at any depth."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_unstorable(k) or _unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_unstorable(v) for v in value)
    return False


class WritePayload(BaseModel):
    """Base of every create/update payload: unknown fields, NaN and NUL characters refused."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True, allow_inf_nan=False)
    # Fields an update may leave out but not set to null (the column is NOT NULL).
    NOT_NULL: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="after")
    @classmethod
    def _clean(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name in cls.NOT_NULL:
            raise ValueError("must not be null")
        if _unstorable(value):
            raise ValueError("must not contain NUL characters, NaN or infinity")
        return value


class ErrorDetail(BaseModel):
    """One problem: the field (a dotted path or query parameter) and what is wrong."""

    field: str
    message: str
    location: str | None = None


class ErrorInfo(BaseModel):
    """What went wrong: a stable `code`, a human `message`, and per-field `details`."""

    code: str
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    """The one error shape of every API error."""

    error: ErrorInfo


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "No session cookie or API token"},
    403: {"model": ErrorResponse, "description": "Not allowed for this role, owner or scope"},
    404: {"model": ErrorResponse, "description": "The resource does not exist"},
    409: {"model": ErrorResponse, "description": "Conflicts with existing data or state"},
    422: {"model": ErrorResponse, "description": "Malformed payload or query; see details"},
}


def refuse_nul_characters(request: Request) -> None:
    """422 for a NUL character in a path or query parameter (PostgreSQL refuses to compare it)."""
    params = [("path", request.path_params.items()), ("query", request.query_params.multi_items())]
    errors = [
        {"loc": (where, name), "msg": "must not contain NUL characters", "type": "value_error"}
        for where, items in params
        for name, value in items
        if "\x00" in str(value)
    ]
    if errors:
        raise RequestValidationError(errors)


def api_router() -> APIRouter:
    """Every REST endpoint under /api/v1."""
    # Imported here: the domain routers import the payload rules of this module.
    from tenure.accounts.api import router as accounts_router
    from tenure.channels.api import router as channels_router
    from tenure.commerce.api import router as commerce_router
    from tenure.configs.api import router as config_router
    from tenure.content.api import router as content_router
    from tenure.engagement.api import router as engagement_router
    from tenure.feedback.api import router as feedback_router
    from tenure.risk.api import router as alerts_router
    from tenure.scoring.api import router as scores_router
    from tenure.surveys.api import router as surveys_router

    router = APIRouter(
        prefix="/api/v1",
        responses=ERROR_RESPONSES,
        dependencies=[Depends(refuse_nul_characters)],
    )
    for domain in (
        accounts_router,
        scores_router,
        commerce_router,
        feedback_router,
        alerts_router,
        config_router,
        engagement_router,
        content_router,
        channels_router,
        surveys_router,
    ):
        router.include_router(domain)
    return router
