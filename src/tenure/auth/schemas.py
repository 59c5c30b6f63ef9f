"""Request and response bodies of the auth API (never a password hash or token hash)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# Kept equal to accounts.models.Role and auth.tokens.SCOPES (tests/auth check it).
RoleName = Literal["admin", "manager", "csm", "viewer"]
ScopeName = Literal["read", "write", "admin", "events:write"]


class UserRead(BaseModel):
    """A user as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    external_id: str
    email: str
    name: str
    role: str
    department: str | None
    locale: str
    is_active: bool
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


class UserCreate(BaseModel):
    """A new user; `external_id` defaults to the e-mail."""

    email: str = Field(max_length=255)
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(max_length=1024)
    role: RoleName = "csm"
    department: str | None = Field(default=None, max_length=100)
    external_id: str | None = Field(default=None, max_length=100)
    locale: str | None = Field(default=None, max_length=10)


class UserUpdate(BaseModel):
    """The fields of a user an admin may change; omitted fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    role: RoleName | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    department: str | None = Field(default=None, max_length=100)
    is_active: bool | None = None

    def changes(self) -> dict[str, Any]:
        """The fields the request sent (`department: null` clears it; others may not be null)."""
        sent = self.model_dump(exclude_unset=True)
        return {k: v for k, v in sent.items() if v is not None or k == "department"}


class PasswordSet(BaseModel):
    """A new password (at least 10 characters)."""

    password: str = Field(max_length=1024)


class LoginRequest(BaseModel):
    """Sign-in with an e-mail or external id and a password."""

    login: str = Field(min_length=1, max_length=255)
    password: str = Field(max_length=1024)


class LoginResponse(BaseModel):
    """The signed-in user and the CSRF token to send with every unsafe request."""

    user: UserRead
    csrf_token: str


class Me(BaseModel):
    """Who the request is authenticated as, and with what."""

    user: UserRead
    via: Literal["session", "token"]
    scopes: list[str]
    csrf_token: str | None = None
    token_name: str | None = None


class TokenCreate(BaseModel):
    """A new API token; `user_id` defaults to the caller."""

    name: str = Field(min_length=1, max_length=200)
    scopes: list[ScopeName] = Field(min_length=1)
    user_id: int | None = None
    expires_at: dt.datetime | None = None


class TokenRead(BaseModel):
    """An API token as listed: its display prefix, never the token itself."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: dt.datetime | None
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreated(TokenRead):
    """A token just created: `token` is shown this once and cannot be recovered."""

    token: str


class AuditRead(BaseModel):
    """One audit log entry."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: dt.datetime
    actor_id: int | None
    actor: str
    action: str
    entity: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
