"""The shape of shipped content, and the greeting, sign-off and footer every message shares."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ShippedTemplate:
    """A template variant Tenure ships (installed by `tenure templates install-shipped`)."""

    key: str
    locale: str
    format: str
    name: str
    subject: str
    body: str
    html: str | None = None


@dataclass(frozen=True)
class ShippedTalkTrack:
    """A talk track Tenure ships, as a starting point for the team's own answers."""

    key: str
    locale: str
    topic: str
    question: str
    answer: str
    tags: list[str]
    department: str | None = None


# Templates render with trim_blocks and lstrip_blocks: a block tag alone on its line leaves
# no blank line behind.
GREETING_ZH = """\
{% if contact %}
{{ contact.name }}，您好！
{% else %}
{{ account.name }}的各位伙伴，大家好！
{% endif %}
"""
SIGNATURE_ZH = """\
{% if owner %}
{{ owner.name }}｜客户成功经理
{{ owner.email }}
{% else %}
客户成功团队
{% endif %}"""
FOOTER_ZH = """\
{% if links.unsubscribe is defined %}

如不希望再收到此类消息，可点此退订：{{ links.unsubscribe }}
{% endif %}"""

GREETING_EN = """\
{% if contact %}
Hi {{ contact.name }},
{% else %}
Hello {{ account.name }} team,
{% endif %}
"""
SIGNATURE_EN = """\
Best regards,
{% if owner %}
{{ owner.name }}, Customer Success Manager
{{ owner.email }}
{% else %}
The Customer Success team
{% endif %}"""
FOOTER_EN = """\
{% if links.unsubscribe is defined %}

Prefer not to receive these messages? Unsubscribe: {{ links.unsubscribe }}
{% endif %}"""


def letter_zh(text: str, *, footer: bool = True) -> str:
    """A Chinese message: greeting, `text`, sign-off and (for customers) the opt-out line."""
    return (
        GREETING_ZH
        + "\n"
        + text.strip("\n")
        + "\n\n"
        + SIGNATURE_ZH
        + ("\n" + FOOTER_ZH if footer else "")
    )


def letter_en(text: str, *, footer: bool = True) -> str:
    """An English message: greeting, `text`, sign-off and (for customers) the opt-out line."""
    return (
        GREETING_EN
        + "\n"
        + text.strip("\n")
        + "\n\n"
        + SIGNATURE_EN
        + ("\n" + FOOTER_EN if footer else "")
    )
