"""Errors of the content domain: problems of template text, and other broken rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from tenure.errors import TenureError

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class TemplateProblem:
    """One thing wrong with a template: its line (None when it has none) and what is wrong."""

    line: int | None
    message: str
    field: str | None = None

    def text(self) -> str:
        """`line 3: …`, or the message alone when there is no line."""
        return f"line {self.line}: {self.message}" if self.line else self.message

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return where + self.text()


class TemplateError(TenureError):
    """A template that cannot be saved or rendered; `problems` pairs each field with a
    message that starts with the line (`("body", "line 3: unknown variable 'acount'")`)."""

    status_code = 422

    def __init__(self, problems: list[TemplateProblem]) -> None:
        self.template_problems = problems
        self.problems = [(p.field or "template", p.text()) for p in problems]
        super().__init__("; ".join(str(p) for p in problems))


class InvalidContent(TenureError):
    """A well-formed request that breaks a rule of templates or talk tracks; `problems`
    pairs each offending field with what is wrong."""

    status_code = 422

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{key}: {msg}" for key, msg in problems))


def validated(model: type[M], values: Mapping[str, Any]) -> M:
    """`values` as `model`; every field problem reported together as InvalidContent (422)."""
    try:
        return model.model_validate(dict(values))
    except ValidationError as exc:
        problems = [
            (".".join(str(p) for p in err["loc"]) or "body", err["msg"]) for err in exc.errors()
        ]
        raise InvalidContent(problems) from None
