"""Errors of the content domain that are not about template text (see render.TemplateError)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from tenure.errors import TenureError

M = TypeVar("M", bound=BaseModel)


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
