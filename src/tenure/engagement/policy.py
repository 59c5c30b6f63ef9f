"""Who may be sent what, when, and how (pure: takes data, returns decisions).

Opt-outs, the frequency cap, quiet hours in the contact's time zone and the choice of
channel and template variant from the contact's preferences (docs/engagement.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tenure.config import EngagementConfig

# Channel kinds a message can be delivered through (plugins), and the contact preferences
# that map to them (WeChat contacts are reached through the account's WeCom group).
DELIVERABLE = {"email", "wecom", "dingtalk", "feishu", "slack", "webhook"}
PREFERENCE_TO_KIND = {"wechat": "wecom"}


@dataclass(frozen=True)
class ContactFacts:
    """What the policy needs to know of a contact."""

    id: int
    email: str | None
    mobile: str | None
    channel_preference: str | None
    format_preference: str | None
    locale: str | None
    timezone: str | None
    opted_out_all: bool
    opt_out_channels: tuple[str, ...]


@dataclass(frozen=True)
class Decision:
    """Send on `channel` not before `not_before` (naive UTC), or blocked for `blocked`."""

    channel: str | None = None
    not_before: dt.datetime | None = None
    blocked: str | None = None  # opted_out | channel_opted_out | frequency_cap | no_channel


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def zone_of(name: str | None, default: str) -> ZoneInfo:
    """The contact's time zone, else the default (an unknown name falls back too)."""
    for candidate in (name, default):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def quiet_until(now: dt.datetime, zone: ZoneInfo, start: str, end: str) -> dt.datetime | None:
    """If `now` (naive UTC) falls in the quiet hours start–end (local to `zone`; the window
    may wrap midnight), the naive UTC time they end; else None."""
    local = now.replace(tzinfo=dt.UTC).astimezone(zone)
    minute = local.hour * 60 + local.minute
    begin, finish = _minutes(start), _minutes(end)
    if begin == finish:
        return None
    inside = begin <= minute < finish if begin < finish else minute >= begin or minute < finish
    if not inside:
        return None
    end_day = local.date()
    if begin > finish and minute >= begin:  # evening part of a window that wraps midnight
        end_day += dt.timedelta(days=1)
    ends = dt.datetime.combine(end_day, dt.time(finish // 60, finish % 60), tzinfo=zone)
    return ends.astimezone(dt.UTC).replace(tzinfo=None)


def choose_channel(
    contact: ContactFacts, available: set[str], forced: str | None = None
) -> str | None:
    """The channel kind for `contact`: `forced`, else their preference if an endpoint of it
    is available and they have not opted out of it, else e-mail if they have an address."""
    opted = set(contact.opt_out_channels)
    wanted = forced or contact.channel_preference
    if wanted:
        kind = PREFERENCE_TO_KIND.get(wanted, wanted)
        reachable = kind != "email" or bool(contact.email)
        if kind in available and kind not in opted and wanted not in opted and reachable:
            return kind
        if forced:
            return None
    if "email" in available and contact.email and "email" not in opted:
        return "email"
    return None


def decide(
    contact: ContactFacts,
    *,
    now: dt.datetime,
    config: EngagementConfig,
    available: set[str],
    sent_in_window: int,
    forced_channel: str | None = None,
) -> Decision:
    """Whether and how a message may go to `contact` now (`sent_in_window`: messages to
    them counted by the frequency cap)."""
    if contact.opted_out_all:
        return Decision(blocked="opted_out")
    cap = config.max_messages_per_contact
    if cap and sent_in_window >= cap:
        return Decision(blocked="frequency_cap")
    channel = choose_channel(contact, available, forced_channel)
    if channel is None:
        wanted = forced_channel or contact.channel_preference
        opted = set(contact.opt_out_channels)
        if wanted and (wanted in opted or PREFERENCE_TO_KIND.get(wanted, wanted) in opted):
            return Decision(blocked="channel_opted_out")
        return Decision(blocked="no_channel")
    zone = zone_of(contact.timezone, config.default_timezone)
    later = quiet_until(now, zone, config.quiet_hours_start, config.quiet_hours_end)
    return Decision(channel=channel, not_before=later)
