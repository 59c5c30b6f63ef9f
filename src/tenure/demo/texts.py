"""Every word the demo data set writes, per locale (`zh` or `en`)."""

from __future__ import annotations

from dataclasses import dataclass

# Shared codes; the labels live in the locale modules.
INDUSTRIES = (
    "manufacturing", "retail", "technology", "finance",
    "healthcare", "logistics", "education", "energy",
)  # fmt: skip
SIZES = ("micro", "small", "mid", "large", "enterprise")
EMPLOYEES = {
    "micro": (10, 49),
    "small": (50, 199),
    "mid": (200, 999),
    "large": (1000, 4999),
    "enterprise": (5000, 50000),
}
TICKET_CATEGORIES = (
    "how_to", "bug", "performance", "data_import", "integration", "billing", "feature_request",
)  # fmt: skip
CHURN_REASONS = (
    "low_adoption", "price", "competitor", "support_quality",
    "product_fit", "budget_cut", "champion_left",
)  # fmt: skip
CONTACT_ROLES = ("decision_maker", "key_user", "champion", "user", "billing")


@dataclass(frozen=True)
class LocaleText:
    """What one locale needs: labels, name parts, templates. Indexed by the shared codes."""

    code: str  # "zh" or "en"
    faker_locale: str
    language: str  # BCP 47 tag stored on users and contacts
    currency: str
    arr_unit: float  # one ARR unit of the size bands in this currency
    industry_labels: dict[str, str]
    industry_words: dict[str, tuple[str, ...]]
    regions: tuple[tuple[str, str, str], ...]  # (label, city used in names, time zone)
    name_suffixes: tuple[str, ...]
    departments: dict[str, str]  # admin / manager / csm
    titles: dict[str, tuple[str, ...]]  # contact role -> job titles
    channels: tuple[tuple[str, float], ...]  # preferred channel and its share
    message_channel: str  # the chat channel CSMs use (wecom / slack)
    base_products: tuple[str, str, str]  # standard, professional, enterprise tier
    addons: tuple[str, ...]
    services: tuple[str, ...]  # implementation, training
    tickets: dict[str, tuple[tuple[str, str], ...]]  # category -> (subject, text)
    complaints: tuple[tuple[str, str, str], ...]  # (category, subject, text)
    hidden_need: tuple[tuple[str, str], ...]  # asks for what report.create does
    nps_comments: dict[str, tuple[str, ...]]  # promoter / passive / detractor
    interactions: dict[str, tuple[str, ...]]  # interaction type -> summaries
    social: dict[str, tuple[str, ...]]  # sentiment -> public comments
    churn_reasons: dict[str, str]  # reason code -> exit interview summary


def locale_text(locale: str) -> LocaleText:
    """The texts of `locale` ("zh" or "en")."""
    if locale == "zh":
        from tenure.demo.texts_zh import ZH

        return ZH
    if locale == "en":
        from tenure.demo.texts_en import EN

        return EN
    raise ValueError(f"unknown demo locale {locale!r}; use 'zh' or 'en'")
