"""Liveness, readiness, Prometheus metrics and structured (JSON) request logs."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from sqlalchemy import text

logger = logging.getLogger("tenure.http")


class JsonFormatter(logging.Formatter):
    """One JSON object per log line, with the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    """Send Tenure's logs to stderr as JSON lines."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("tenure")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def install_observability(app: FastAPI) -> None:
    """Add /healthz, /readyz, /metrics and a request log + metrics middleware to `app`."""
    registry = CollectorRegistry()
    requests = Counter(
        "tenure_http_requests_total", "HTTP requests", ["method", "route", "status"],
        registry=registry,
    )  # fmt: skip
    latency = Histogram(
        "tenure_http_request_seconds", "HTTP request latency", ["method", "route"],
        registry=registry,
    )  # fmt: skip
    app.state.metrics_registry = registry

    @app.middleware("http")
    async def _observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        request.state.request_id = request_id
        response = await call_next(request)
        elapsed = time.perf_counter() - started
        route = getattr(request.scope.get("route"), "path", "unmatched")
        requests.labels(request.method, route, str(response.status_code)).inc()
        latency.labels(request.method, route).observe(elapsed)
        response.headers["x-request-id"] = request_id
        logger.info(
            "request",
            extra={"fields": {
                "request_id": request_id, "method": request.method, "route": route,
                "status": response.status_code, "ms": round(elapsed * 1000, 1),
            }},
        )  # fmt: skip
        return response

    @app.get("/healthz", tags=["observability"])
    def healthz() -> dict[str, str]:
        """Liveness: the process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["observability"], response_model=None)
    def readyz(request: Request) -> JSONResponse | dict[str, str]:
        """Readiness: the operational database answers."""
        try:
            with request.app.state.runtime.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # any failure means not ready
            return JSONResponse({"status": "unavailable", "reason": str(exc)}, status_code=503)
        return {"status": "ready"}

    @app.get("/metrics", tags=["observability"], include_in_schema=False)
    def metrics() -> Response:
        """Prometheus metrics."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
