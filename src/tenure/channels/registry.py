"""Which channel plugins exist: the built-in ones, and any installed package's.

A package adds a channel by declaring an entry point in the group `tenure.channels`
(`name = "module:Class"`), the class following `tenure.channels.base.ChannelPlugin`.
"""

from __future__ import annotations

import importlib
from functools import cache
from importlib.metadata import entry_points

from tenure.channels.base import ChannelPlugin

ENTRY_POINT_GROUP = "tenure.channels"
BUILT_IN: dict[str, str] = {
    "email": "tenure.channels.email:EmailChannel",
    "webhook": "tenure.channels.webhook:WebhookChannel",
    "slack": "tenure.channels.slack:SlackChannel",
    "wecom": "tenure.channels.wecom:WeComChannel",
    "dingtalk": "tenure.channels.dingtalk:DingTalkChannel",
    "feishu": "tenure.channels.feishu:FeishuChannel",
}


class UnknownChannel(LookupError):
    """No plugin has this kind."""


def _load(target: str) -> type[ChannelPlugin]:
    module, _, name = target.partition(":")
    plugin: type[ChannelPlugin] = getattr(importlib.import_module(module), name)
    return plugin


@cache
def plugins() -> dict[str, type[ChannelPlugin]]:
    """Every plugin by kind: built-ins first, then entry points (which may not replace one)."""
    found = {kind: _load(target) for kind, target in BUILT_IN.items()}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in found:
            found[ep.name] = ep.load()
    return found


def plugin(kind: str) -> ChannelPlugin:
    """A plugin instance of `kind`."""
    try:
        cls = plugins()[kind]
    except KeyError:
        known = ", ".join(sorted(plugins()))
        raise UnknownChannel(f"unknown channel kind {kind!r} (known: {known})") from None
    return cls()
