"""Web pages of templates and talk tracks: one router including the template and talk-track pages.

Forms go through the same service functions as the REST API, so a refused text comes back
with the same problems, each shown under its field with its line.
"""

from __future__ import annotations

from fastapi import APIRouter

from tenure.content import talk_track_pages, template_pages

router = APIRouter(include_in_schema=False)
router.include_router(template_pages.router)
router.include_router(talk_track_pages.router)
