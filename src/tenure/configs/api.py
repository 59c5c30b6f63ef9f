"""REST endpoints of the configuration: read, validate, save (admins), and its versions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query

from tenure.accounts.api import Limit, Offset
from tenure.accounts.service import MAX_ID
from tenure.accounts.writes import Forbidden
from tenure.auth.deps import CurrentPrincipal, Principal, require_principal
from tenure.configs import service
from tenure.configs.schemas import (
    ConfigValidation,
    ConfigVersionRead,
    ConfigVersionSummary,
    EffectiveConfig,
)
from tenure.kit.deps import RuntimeDep, SessionDep
from tenure.kit.pagination import DEFAULT_LIMIT, Page

ConfigBody = Annotated[
    dict[str, Any], Body(description="the full configuration, tenure.toml as JSON")
]


def require_config_admin(principal: CurrentPrincipal) -> Principal:
    """Admins (through a token: with the `admin` scope) only; 403 otherwise."""
    if not principal.is_admin:
        raise Forbidden(f"role {principal.role} may not change the configuration (needs admin)")
    if not principal.can_admin():
        raise Forbidden("changing the configuration needs a token with the 'admin' scope")
    return principal


router = APIRouter(tags=["config"], dependencies=[Depends(require_principal)])


@router.get("/config", response_model=EffectiveConfig)
def get_config(session: SessionDep, runtime: RuntimeDep) -> EffectiveConfig:
    """Read the configuration in force, as JSON, with the last saved version number."""
    return service.effective_config(session, runtime)


@router.put("/config", response_model=EffectiveConfig)
def put_config(
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Annotated[Principal, Depends(require_config_admin)],
    body: ConfigBody,
    comment: Annotated[
        str | None, Query(max_length=500, pattern=r"^[^\x00]*$", description="why it changed")
    ] = None,
) -> EffectiveConfig:
    """Replace the configuration (admins): validated, saved as a new version, written to disk."""
    return service.save_config(session, runtime, principal, body, comment)


@router.post("/config/validate", response_model=ConfigValidation)
def validate_config(body: ConfigBody) -> ConfigValidation:
    """Check a configuration without saving it; lists every problem by its exact key."""
    return service.check_config(body)


@router.get("/config/versions", response_model=Page[ConfigVersionSummary])
def list_config_versions(
    session: SessionDep, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
) -> Page[ConfigVersionSummary]:
    """List saved configurations, newest first, with author, time and comment."""
    return service.list_versions(session, limit=limit, offset=offset)


@router.get("/config/versions/{version}", response_model=ConfigVersionRead)
def get_config_version(
    session: SessionDep, version: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> ConfigVersionRead:
    """Read one saved configuration: its TOML text and the same as JSON."""
    return service.get_version(session, version)
