"""REST endpoints of channels (see docs/engagement.md)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from tenure.auth.deps import require_principal

router = APIRouter(tags=["channels"], dependencies=[Depends(require_principal)])
