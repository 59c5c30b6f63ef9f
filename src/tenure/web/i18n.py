"""Message catalogs (zh-CN, en) and the choice of a request's language.

The language is the `lang` cookie when it names a catalog, else the signed-in user's locale,
else the best match of the Accept-Language header, else zh-CN (the guide's language).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path

LANGUAGES: tuple[str, ...] = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
LANG_COOKIE = "lang"
LOCALES_DIR = Path(__file__).parent / "locales"

Translate = Callable[..., str]


class MissingMessage(KeyError):
    """A message key that a catalog does not define."""


@cache
def catalog(language: str) -> Mapping[str, str]:
    """The messages of `language` (one of LANGUAGES), read once from web/locales/."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; known: {', '.join(LANGUAGES)}")
    messages: dict[str, str] = json.loads((LOCALES_DIR / f"{language}.json").read_text("utf-8"))
    return messages


def normalize(tag: str | None) -> str | None:
    """The catalog serving a language tag ("zh", "zh-Hans-CN", "en-GB", …), or None."""
    if not tag:
        return None
    primary = tag.strip().replace("_", "-").split("-")[0].lower()
    if primary == "zh":
        return "zh-CN"
    if primary == "en":
        return "en"
    return None


def from_accept_language(header: str | None) -> str | None:
    """The catalog best matching an Accept-Language header (by q value), or None."""
    if not header:
        return None
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        language = normalize(tag)
        if language is not None and quality > 0:
            weighted.append((-quality, position, language))
    return min(weighted)[2] if weighted else None


def choose_language(
    *, cookie: str | None, user_locale: str | None, accept_language: str | None
) -> str:
    """The request's language: cookie, else the user's locale, else Accept-Language."""
    return (
        normalize(cookie)
        or normalize(user_locale)
        or from_accept_language(accept_language)
        or DEFAULT_LANGUAGE
    )


def translator(language: str) -> Translate:
    """`t(key, **params)` for `language`; a key missing in the catalog raises MissingMessage."""
    messages = catalog(language)

    def t(key: str, /, **params: object) -> str:
        try:
            text = messages[key]
        except KeyError:
            raise MissingMessage(f"no message {key!r} in the {language} catalog") from None
        return text.format(**params) if params else text

    return t


def label_of(language: str) -> Callable[[str, object], str]:
    """`label(kind, code)`: the message `kind.code`, or the code itself when none is defined.

    Codes come from data (quadrants, stages, severities, channels, …); a code a newer
    version stores still shows, untranslated, rather than breaking the page.
    """
    messages = catalog(language)

    def label(kind: str, code: object) -> str:
        if code is None or code == "":
            return messages["common.none"]
        return messages.get(f"{kind}.{code}", str(code))

    return label
