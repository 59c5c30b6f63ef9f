"""Message catalogs and the choice of language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tenure.web.account_pages import SORTS
from tenure.web.alert_pages import ACTIONS, PROMPTS
from tenure.web.i18n import (
    LANGUAGES,
    MissingMessage,
    catalog,
    choose_language,
    from_accept_language,
    label_of,
    translator,
)
from tenure.web.settings_pages import LIFECYCLE_FIELDS, VALUE_MEASURES, VALUE_NUMBERS
from tenure.web.templating import TEMPLATES_DIR

LITERAL_KEY = re.compile(r"""\bt\(\s*["']([a-z_.\-]+)["']\s*[,)]""")


def test_catalogs_define_the_same_messages() -> None:
    assert set(catalog("zh-CN")) == set(catalog("en"))
    for language in LANGUAGES:
        assert all(text.strip() for text in catalog(language).values())


def test_every_message_a_template_names_exists() -> None:
    used = {
        key
        for page in Path(TEMPLATES_DIR).glob("*.html")
        for key in LITERAL_KEY.findall(page.read_text("utf-8"))
    }
    assert len(used) > 50
    # Keys the templates build from a prefix and a code.
    used |= {f"sort.{key}" for key in SORTS} | {f"lang.{code}" for code in LANGUAGES}
    used |= {f"alerts.{action}" for actions in ACTIONS.values() for action in actions}
    used |= {f"alerts.{action}_prompt" for action in PROMPTS}
    used |= {f"settings.value.{name}" for name in (*VALUE_NUMBERS, *VALUE_MEASURES)}
    used |= {f"settings.lifecycle.{name}" for name in LIFECYCLE_FIELDS}
    used |= {f"settings.{error}" for error in ("invalid", "conflict", "forbidden")}
    assert used - set(catalog("en")) == set()


def test_labels_of_the_guide() -> None:
    zh = label_of("zh-CN")
    assert [zh("quadrant", q) for q in ("strategic_partner", "growth", "profit", "basic")] == [
        "战略伙伴",
        "增长型",
        "利润型",
        "基础客户",
    ]
    assert [zh("stage", s) for s in ("onboarding", "growth", "mature", "declining")] == [
        "新客户期",
        "成长期",
        "成熟期",
        "衰退期",
    ]
    assert zh("severity", "critical") == "紧急"
    assert zh("channel", "carrier_pigeon") == "carrier_pigeon"  # unknown codes show as stored
    assert label_of("en")("stage", None) == "—"


def test_translate_with_parameters_and_missing_keys() -> None:
    assert translator("en")("accounts.total", total=12) == "12 accounts"
    assert translator("zh-CN")("accounts.total", total=12) == "共 12 个客户"
    with pytest.raises(MissingMessage):
        translator("en")("no.such.key")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-US,en;q=0.9", "en"),
        ("fr-FR,zh-CN;q=0.8,en;q=0.5", "zh-CN"),
        ("de, en;q=0.1, zh;q=0.2", "zh-CN"),
        ("zh-Hant-TW", "zh-CN"),
        ("en;q=0, fr", None),
        ("", None),
        ("en;q=abc", None),
    ],
)
def test_accept_language(header: str, expected: str | None) -> None:
    assert from_accept_language(header) == expected


def test_cookie_then_user_then_header() -> None:
    assert choose_language(cookie="en", user_locale="zh-CN", accept_language="zh") == "en"
    assert choose_language(cookie="xx", user_locale="en-US", accept_language="zh") == "en"
    assert choose_language(cookie=None, user_locale=None, accept_language="en") == "en"
    assert choose_language(cookie=None, user_locale=None, accept_language=None) == "zh-CN"
