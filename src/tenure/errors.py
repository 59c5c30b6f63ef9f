"""One error base for the whole application; every layer raises these."""

from __future__ import annotations


class TenureError(Exception):
    """Base of every error Tenure raises on purpose; `status_code` maps it to HTTP."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ResourceNotFound(TenureError):
    """A named resource does not exist."""

    status_code = 404


class ResourceAlreadyExists(TenureError):
    """A resource with the same natural key exists already."""

    status_code = 409


class ConfigError(TenureError):
    """The configuration file is invalid; `problems` lists every (key, message) pair."""

    status_code = 422

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{key}: {msg}" for key, msg in problems))


class RuleError(TenureError):
    """A rule expression is not valid in the rule language."""

    status_code = 422

    def __init__(self, expression: str, message: str, position: int | None = None) -> None:
        self.expression = expression
        self.position = position
        where = f" (at character {position})" if position is not None else ""
        self.reason = f"{message}{where}"
        super().__init__(f"{self.reason} in rule {expression!r}")
