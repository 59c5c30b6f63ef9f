"""Segment's HTTP tracking API: /v1/track, identify, group, page, screen and batch.

A request is answered 200 `{"success": true}` only after its calls are committed to the
inbox. The work after reading the body (JSON, write key, checks, insert, commit) runs in the
thread pool, so the event loop keeps reading other requests meanwhile.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import os
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pydantic_core
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from tenure.kit.deps import get_runtime
from tenure.kit.runtime import Runtime
from tenure.tracking.calls import check_request, unique_calls
from tenure.tracking.inbox import InboxWriter, inbox_held, is_write_key

router = APIRouter(tags=["tracking"])

_OK = b'{"success":true}'
_ROOM_MARGIN = 100_000  # free rows below which every request checks the capacity


@dataclass(frozen=True)
class TrackingSettings:
    """Limits of the tracking API (environment: TENURE_TRACKING_<NAME>, upper case)."""

    inbox_capacity: int = 1_000_000  # rows held before calls are refused with 429
    retry_after: int = 10  # seconds, sent with 429 and 503
    max_request_bytes: int = 500 * 1024  # Segment's batch limit (after gzip decoding)
    max_call_bytes: int = 32 * 1024  # Segment's per-call limit (of the stored call)
    full_recheck: float = 1.0  # seconds a capacity verdict is reused (see _inbox_full)
    key_cache: float = 5.0  # seconds a checked write key is trusted without asking again

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TrackingSettings:
        """Defaults overridden by TENURE_TRACKING_INBOX_CAPACITY and the like."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, kind in (("inbox_capacity", int), ("retry_after", int),
                           ("max_request_bytes", int), ("max_call_bytes", int),
                           ("full_recheck", float), ("key_cache", float)):  # fmt: skip
            raw = environ.get(f"TENURE_TRACKING_{name.upper()}")
            if raw:
                values[name] = kind(raw)
        return cls(**values)


@dataclass
class TrackingState:
    """Per-app state: settings, the inbox writer, cached capacity verdicts and write keys."""

    settings: TrackingSettings = field(default_factory=TrackingSettings.from_env)
    writer: InboxWriter = field(default_factory=InboxWriter)
    full_until: float = 0.0  # the inbox is full until then
    room_until: float = 0.0  # the inbox has room (well below capacity) until then
    keys: dict[str, float] = field(default_factory=dict)  # write key → trusted until


def install_tracking(app: FastAPI, settings: TrackingSettings | None = None) -> None:
    """Add the tracking routes to `app`, with `settings` (default: from the environment)."""
    app.state.tracking = TrackingState(settings or TrackingSettings.from_env())
    app.include_router(router)


def _state(request: Request) -> TrackingState:
    state = getattr(request.app.state, "tracking", None)
    if state is None:  # the router was included without install_tracking
        state = request.app.state.tracking = TrackingState()
    assert isinstance(state, TrackingState)
    return state


@dataclass(frozen=True)
class Reply:
    """The answer to one request: status, JSON body and extra headers."""

    status: int
    body: bytes = _OK
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> Response:
        return Response(self.body, self.status, self.headers, media_type="application/json")


def _error(
    status: int,
    code: str,
    message: str,
    details: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """Segment's `success`/`message` plus Tenure's one error shape."""
    body = {
        "success": False,
        "message": message,
        "error": {"code": code, "message": message, "details": details or []},
    }
    return Reply(status, pydantic_core.to_json(body), headers or {})


def _unauthorized(message: str) -> Reply:
    challenge = {"WWW-Authenticate": 'Basic realm="tenure-tracking"'}
    return _error(401, "unauthorized", message, headers=challenge)


def _too_large(limit: int) -> Reply:
    return _error(400, "payload_too_large", f"the request is larger than {limit} bytes")


def key_from_header(authorization: str | None) -> str | None:
    """The write key of `Authorization: Basic base64(key:)` (or `Bearer key`); "" if malformed."""
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() != "basic":
        return ""
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return decoded.partition(":")[0]


def _gunzip(body: bytes, limit: int) -> bytes | None:
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflate.decompress(body, limit + 1)
    except zlib.error:
        return None
    return out if len(out) <= limit and not inflate.unconsumed_tail else b""


def _inbox_full(conn: Connection, state: TrackingState) -> bool:
    """Whether to refuse calls (the inbox holds its capacity or more).

    A verdict is reused for `full_recheck` seconds: "full", and "room" when at least a
    tenth of the capacity and 100,000 rows are free (more than a second of traffic at the
    benchmark's rate), so the inbox cannot reach its capacity unnoticed meanwhile.
    """
    now = time.monotonic()
    if now < state.full_until:
        return True
    if now < state.room_until:
        return False
    capacity = state.settings.inbox_capacity
    held = inbox_held(conn, capacity)
    if held >= capacity:
        state.full_until = now + state.settings.full_recheck
        return True
    if capacity - held >= max(capacity // 10, _ROOM_MARGIN):
        state.room_until = now + state.settings.full_recheck
    return False


def _key_ok(conn: Connection, state: TrackingState, key: str) -> bool:
    """Whether `key` is a live write key; a yes is remembered for `key_cache` seconds."""
    now = time.monotonic()
    if state.keys.get(key, 0.0) > now:
        return True
    if not is_write_key(conn, key):
        state.keys.pop(key, None)
        return False
    if len(state.keys) > 10_000:  # never grows without bound, whatever clients send
        state.keys.clear()
    state.keys[key] = now + state.settings.key_cache
    return True


def ingest(
    runtime: Runtime,
    state: TrackingState,
    kind: str | None,
    body: bytes,
    *,
    authorization: str | None,
    content_encoding: str | None,
    received_at: dt.datetime,
) -> Reply:
    """Check and store one request's calls; the reply to send (run in a worker thread)."""
    settings = state.settings
    header_key = key_from_header(authorization)
    if header_key == "":
        return _unauthorized("the Authorization header is not Basic <base64 write key:>")
    if content_encoding and content_encoding.lower() == "gzip":
        inflated = _gunzip(body, settings.max_request_bytes)
        if inflated is None:
            return _error(400, "invalid_body", "the body is not valid gzip")
        if not inflated:
            return _too_large(settings.max_request_bytes)
        body = inflated
    try:
        data: Any = pydantic_core.from_json(body)
    except ValueError as exc:
        return _error(400, "invalid_json", f"the body is not valid JSON: {exc}")
    key = header_key
    if key is None and isinstance(data, dict) and isinstance(data.get("writeKey"), str):
        key = data["writeKey"]
    if not key:
        return _unauthorized("a write key is required (HTTP Basic user, or writeKey)")
    try:
        with runtime.engine.connect() as conn:
            if not _key_ok(conn, state, key):
                return _unauthorized("the write key is unknown, revoked or expired")
            if _inbox_full(conn, state):
                retry = {"Retry-After": str(settings.retry_after)}
                message = "the inbox is full; retry later"
                return _error(429, "inbox_full", message, headers=retry)
        checked = check_request(data, kind, received_at, settings.max_call_bytes)
        if checked.problems:
            details = [
                {"field": name, "location": "body", "message": message}
                for name, message in checked.problems
            ]
            return _error(400, "validation_error", "the request has invalid calls", details)
        # Acknowledged only once committed: write() returns after the commit.
        calls = unique_calls(checked.calls)
        state.writer.write(runtime.engine, calls, received_at.replace(tzinfo=None))
    except OperationalError:  # database down or locked too long: the client should retry
        retry = {"Retry-After": str(settings.retry_after)}
        return _error(503, "unavailable", "the inbox cannot be written now", headers=retry)
    return Reply(200)


async def _read_body(request: Request, limit: int) -> bytes | None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _handle(request: Request, kind: str | None) -> Response:
    received_at = dt.datetime.now(dt.UTC)
    state = _state(request)
    body = await _read_body(request, state.settings.max_request_bytes)
    if body is None:
        return _too_large(state.settings.max_request_bytes).response()
    reply = await run_in_threadpool(
        ingest,
        get_runtime(request),
        state,
        kind,
        body,
        authorization=request.headers.get("authorization"),
        content_encoding=request.headers.get("content-encoding"),
        received_at=received_at,
    )
    return reply.response()


_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": 'Stored in the inbox: `{"success": true}`'},
    400: {"description": "Invalid JSON or calls; `error.details` names each bad field"},
    401: {"description": "Missing, unknown, revoked or expired write key"},
    429: {"description": "The inbox is full; nothing was stored, retry after `Retry-After`"},
    503: {"description": "The database is unavailable; nothing was stored, retry"},
}


@router.post("/v1/track", responses=_RESPONSES)
async def track(request: Request) -> Response:
    """Record an event a user did (Segment track: event, properties, userId/anonymousId)."""
    return await _handle(request, "track")


@router.post("/v1/identify", responses=_RESPONSES)
async def identify(request: Request) -> Response:
    """Record who a user is (Segment identify: userId, traits such as name and email)."""
    return await _handle(request, "identify")


@router.post("/v1/group", responses=_RESPONSES)
async def group(request: Request) -> Response:
    """Link a user to an account and record the account's traits (Segment group: groupId)."""
    return await _handle(request, "group")


@router.post("/v1/page", responses=_RESPONSES)
async def page(request: Request) -> Response:
    """Record a page view (stored as a track event named "page")."""
    return await _handle(request, "page")


@router.post("/v1/screen", responses=_RESPONSES)
async def screen(request: Request) -> Response:
    """Record a mobile screen view (stored as a track event named "screen")."""
    return await _handle(request, "screen")


@router.post("/v1/batch", responses=_RESPONSES)
async def batch(request: Request) -> Response:
    """Record many calls at once: `{"batch": [{"type": "track", ...}, ...]}`, all or none."""
    return await _handle(request, None)


__all__ = ["TrackingSettings", "TrackingState", "ingest", "install_tracking", "router"]
