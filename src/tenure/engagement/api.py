"""REST endpoints of engagement (see docs/engagement.md)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from tenure.auth.deps import require_principal

router = APIRouter(tags=["engagement"], dependencies=[Depends(require_principal)])
