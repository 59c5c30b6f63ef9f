"""Delivery policy: opt-outs, frequency cap, quiet hours, channel choice."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from zoneinfo import ZoneInfo

from tenure.config import EngagementConfig
from tenure.engagement.policy import ContactFacts, choose_channel, decide, quiet_until, zone_of

SHANGHAI = ZoneInfo("Asia/Shanghai")
CONTACT = ContactFacts(
    id=1, email="li@example.com", mobile="13800000000", channel_preference="wecom",
    format_preference="video", locale="zh-CN", timezone="Asia/Shanghai", opted_out_all=False,
    opt_out_channels=(),
)  # fmt: skip
CONFIG = EngagementConfig()


def utc(local: str, zone: ZoneInfo = SHANGHAI) -> dt.datetime:
    """Naive UTC of a local wall-clock time."""
    moment = dt.datetime.fromisoformat(local).replace(tzinfo=zone)
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def test_quiet_hours_wrap_midnight_in_the_contacts_zone() -> None:
    # 21:00-08:00 Shanghai time.
    assert quiet_until(utc("2026-11-27 20:59"), SHANGHAI, "21:00", "08:00") is None
    assert quiet_until(utc("2026-11-27 21:00"), SHANGHAI, "21:00", "08:00") == utc(
        "2026-11-28 08:00"
    )
    assert quiet_until(utc("2026-11-28 03:30"), SHANGHAI, "21:00", "08:00") == utc(
        "2026-11-28 08:00"
    )
    assert quiet_until(utc("2026-11-28 08:00"), SHANGHAI, "21:00", "08:00") is None
    # A window inside one day, and an empty one.
    assert quiet_until(utc("2026-11-28 12:30"), SHANGHAI, "12:00", "13:00") == utc(
        "2026-11-28 13:00"
    )
    assert quiet_until(utc("2026-11-28 12:30"), SHANGHAI, "12:00", "12:00") is None


def test_quiet_hours_follow_the_contact_not_the_server() -> None:
    # 22:00 in Shanghai is 14:00 UTC and 15:00 in Berlin (CET): quiet for one, not the other.
    now = utc("2026-11-28 22:00")
    shanghai = decide(CONTACT, now=now, config=CONFIG, available={"wecom"}, sent_in_window=0)
    berlin = decide(
        replace(CONTACT, timezone="Europe/Berlin"),
        now=now,
        config=CONFIG,
        available={"wecom"},
        sent_in_window=0,
    )
    assert shanghai.channel == "wecom" and shanghai.not_before == utc("2026-11-29 08:00")
    assert berlin.channel == "wecom" and berlin.not_before is None
    # No zone of its own: the configured default (Asia/Shanghai); an unknown one too.
    assert zone_of(None, "Asia/Shanghai") == SHANGHAI
    assert zone_of("Mars/Olympus", "Asia/Shanghai") == SHANGHAI


def test_channel_follows_preference_then_falls_back_to_email() -> None:
    assert choose_channel(CONTACT, {"wecom", "email"}) == "wecom"
    assert choose_channel(CONTACT, {"email"}) == "email"  # no WeCom endpoint configured
    wechat = replace(CONTACT, channel_preference="wechat")
    assert choose_channel(wechat, {"wecom", "email"}) == "wecom"  # reached via WeCom
    opted = replace(CONTACT, opt_out_channels=("wecom",))
    assert choose_channel(opted, {"wecom", "email"}) == "email"
    no_email = replace(CONTACT, email=None, channel_preference="email")
    assert choose_channel(no_email, {"email", "wecom"}) is None
    assert choose_channel(CONTACT, {"wecom", "email"}, forced="dingtalk") is None


def test_each_rule_blocks_the_send_it_should() -> None:
    noon = utc("2026-11-28 12:00")
    ok = decide(CONTACT, now=noon, config=CONFIG, available={"wecom"}, sent_in_window=2)
    assert ok.blocked is None and ok.channel == "wecom"
    capped = decide(CONTACT, now=noon, config=CONFIG, available={"wecom"}, sent_in_window=3)
    assert capped.blocked == "frequency_cap"
    uncapped = CONFIG.model_copy(update={"max_messages_per_contact": 0})
    assert decide(
        CONTACT, now=noon, config=uncapped, available={"wecom"}, sent_in_window=99
    ).channel
    all_out = replace(CONTACT, opted_out_all=True)
    assert decide(
        all_out, now=noon, config=CONFIG, available={"wecom"}, sent_in_window=0
    ).blocked == ("opted_out")
    only_wecom = replace(CONTACT, email=None, opt_out_channels=("wecom",))
    blocked = decide(only_wecom, now=noon, config=CONFIG, available={"wecom"}, sent_in_window=0)
    assert blocked.blocked == "channel_opted_out"
    nothing = replace(CONTACT, email=None)
    assert decide(nothing, now=noon, config=CONFIG, available=set(), sent_in_window=0).blocked == (
        "no_channel"
    )
