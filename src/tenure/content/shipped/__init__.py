"""Content Tenure ships: the templates the shipped playbooks send, in zh-CN and en (video and
document variants where the strategy guide tells them apart), and starter talk tracks."""

from __future__ import annotations

from tenure.content.shipped.base import ShippedTalkTrack, ShippedTemplate
from tenure.content.shipped.talk_tracks import TALK_TRACKS
from tenure.content.shipped.templates_en import TEMPLATES_EN
from tenure.content.shipped.templates_zh import TEMPLATES_ZH

SHIPPED_TEMPLATES: tuple[ShippedTemplate, ...] = TEMPLATES_ZH + TEMPLATES_EN
SHIPPED_TALK_TRACKS: tuple[ShippedTalkTrack, ...] = TALK_TRACKS

__all__ = ["SHIPPED_TALK_TRACKS", "SHIPPED_TEMPLATES", "ShippedTalkTrack", "ShippedTemplate"]
