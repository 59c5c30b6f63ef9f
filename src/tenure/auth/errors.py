"""The errors of signing in and managing users."""

from __future__ import annotations

from tenure.errors import TenureError


class InvalidCredentials(TenureError):
    """The login or the password is wrong (the message never says which)."""

    status_code = 401


class TooManyAttempts(TenureError):
    """Sign-in is throttled for this login or address; retry after `retry_after` seconds."""

    status_code = 429

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many failed sign-in attempts; try again in {retry_after} seconds")


class InvalidUser(TenureError):
    """A user's field (e-mail, role, name) is not acceptable."""

    status_code = 422


class LastAdmin(TenureError):
    """The change would leave no active admin."""

    status_code = 409
