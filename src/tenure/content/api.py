"""REST endpoints of content (see docs/engagement.md)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from tenure.auth.deps import require_principal

router = APIRouter(tags=["content"], dependencies=[Depends(require_principal)])
