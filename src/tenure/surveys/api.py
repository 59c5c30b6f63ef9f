"""REST endpoints of surveys (see docs/engagement.md)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from tenure.auth.deps import require_principal

router = APIRouter(tags=["surveys"], dependencies=[Depends(require_principal)])
