"""Rendering a template's parts with plain variables (pure: no database, no I/O)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError

from tenure.content.errors import TemplateError, TemplateProblem
from tenure.content.sandbox import MAX_OUTPUT, environment, refusal, template_line

PLAIN_TYPES = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class Rendered:
    """A rendered message: one-line subject, text body, HTML part (None without one).

    `locale`, `format`, `key` and `template_id` name the variant it came from (set by
    `tenure.content.compose.render_for`; None when rendered from bare fields)."""

    subject: str
    text: str
    html: str | None
    locale: str | None = None
    format: str | None = None
    key: str | None = None
    template_id: int | None = None


def ensure_plain(value: Any, path: str = "variables") -> None:
    """Raise TypeError unless `value` is plain data (dicts with text keys, lists, text,
    numbers, booleans, None): templates never see an ORM object or a function."""
    if isinstance(value, PLAIN_TYPES):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path} has a key that is not text: {key!r}")
            ensure_plain(item, f"{path}.{key}")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            ensure_plain(item, f"{path}[{i}]")
        return
    raise TypeError(f"{path} is a {type(value).__name__}; template variables are plain data")


def render_part(text: str, variables: Mapping[str, Any], *, field: str, html: bool = False) -> str:
    """Render one template text; any failure is a TemplateError naming `field` and the line."""
    env = environment(html=html)

    def problem(line: int | None, message: str) -> TemplateError:
        return TemplateError([TemplateProblem(line, message, field)])

    try:
        result = env.from_string(text).render(dict(variables))
    except TemplateSyntaxError as exc:
        raise problem(exc.lineno, f"syntax error: {exc.message}") from None
    except SecurityError as exc:
        raise problem(template_line(exc.__traceback__), refusal(exc)) from None
    except UndefinedError as exc:
        raise problem(template_line(exc.__traceback__), f"undefined: {exc.message}") from None
    except RecursionError:
        raise problem(None, "the template nests too deeply") from None
    except Exception as exc:  # a filter given the wrong type, a division by zero, …
        line = template_line(exc.__traceback__)
        raise problem(line, f"{type(exc).__name__}: {exc}") from None
    if len(result) > MAX_OUTPUT:
        raise problem(None, f"renders {len(result):,} characters; at most {MAX_OUTPUT:,}")
    return result


def one_line(text: str) -> str:
    """A subject on one line: newlines and runs of spaces become one space (no header
    injection through a variable holding a newline)."""
    return re.sub(r"\s+", " ", text).strip()


def render(template_fields: Mapping[str, str | None], variables: Mapping[str, Any]) -> Rendered:
    """Render a template's subject, body and html (when present) with plain `variables`."""
    ensure_plain(dict(variables))
    subject = one_line(render_part(template_fields.get("subject") or "", variables,
                                   field="subject"))  # fmt: skip
    text = render_part(template_fields.get("body") or "", variables, field="body").strip()
    html_source = template_fields.get("html")
    html = None
    if html_source:
        html = render_part(html_source, variables, field="html", html=True).strip()
    return Rendered(subject=subject, text=text, html=html)
