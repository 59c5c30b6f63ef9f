"""The web application: REST API, tracking API, health and metrics, web pages."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI

from tenure import __version__
from tenure.api import api_router, refuse_nul_characters
from tenure.auth.api import router as auth_router
from tenure.kit.errors_http import install_error_handlers
from tenure.kit.runtime import Runtime, open_runtime
from tenure.observability import install_observability
from tenure.tracking.api import install_tracking
from tenure.web.pages import mount_static
from tenure.web.pages import router as web_router


def create_app(
    runtime: Runtime | None = None,
    *,
    home: str | Path | None = None,
    database_url: str | None = None,
    freeze_gc: bool = False,
) -> FastAPI:
    """Build the app on `runtime` (or on the home/database given, opened at start-up).

    `freeze_gc` (what `tenure serve` sets): at start-up, move every object loaded so far
    out of the garbage collector's sight (see the lifespan). Not for tests, which build
    many apps in one process.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = runtime is None
        app.state.runtime = runtime or open_runtime(home, database_url)
        # Everything loaded at start-up (modules, routes, templates) lives as long as the
        # process: moved out of the collector's sight, a full collection scans only what
        # requests allocate. Measured on the dashboard at 100k accounts: gen-2 pauses of
        # 220-290 ms fell to ~35 ms (docs/benchmarks.md, "Pages").
        if freeze_gc:
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            if owned:
                app.state.runtime.close()

    app = FastAPI(
        title="Tenure",
        version=__version__,
        description="Open-source customer success platform: REST and tracking APIs.",
        lifespan=lifespan,
    )
    if runtime is not None:
        app.state.runtime = runtime
    install_error_handlers(app)
    install_observability(app)
    app.include_router(auth_router)
    app.include_router(api_router())
    install_tracking(app)
    # Pages share the API's guard: PostgreSQL refuses NUL characters in compared text.
    app.include_router(web_router, dependencies=[Depends(refuse_nul_characters)])
    mount_static(app)
    return app
