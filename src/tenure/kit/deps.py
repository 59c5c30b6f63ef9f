"""FastAPI dependencies every domain uses: the runtime and the request's session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from tenure.kit.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    """The runtime the app was started with."""
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; it commits when the endpoint returns, rolls back on error.

    Services only flush; the request's session commits (before the response is sent).
    """
    runtime = get_runtime(request)
    with runtime.sessions() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SessionDep = Annotated[Session, Depends(get_session)]
