"""API tokens: format, hashed storage, verification, revocation and scopes."""

from __future__ import annotations

import datetime as dt
import hashlib
import typing

import pytest

from tenure.accounts.models import Role, User
from tenure.auth import schemas
from tenure.auth.clock import utcnow
from tenure.auth.tokens import (
    SCOPES,
    InvalidScope,
    create_token,
    expand_scopes,
    normalize_scopes,
    revoke_token,
    verify_token,
)
from tenure.db import transaction
from tenure.kit.runtime import Runtime


@pytest.fixture
def owner_id(runtime: Runtime) -> int:
    with transaction(runtime.sessions) as session:
        user = User(external_id="u1", email="u1@example.com", name="U1", role="admin")
        session.add(user)
        session.flush()
        return user.id


class TestCreateToken:
    def test_plain_token_is_shown_once_and_only_its_hash_is_kept(
        self, runtime: Runtime, owner_id: int
    ) -> None:
        with transaction(runtime.sessions) as session:
            user = session.get(User, owner_id)
            assert user is not None
            plain, token = create_token(session, user=user, name="ci", scopes=["read"])
        assert plain.startswith("tnr_") and len(plain) > 40
        assert token.token_hash == hashlib.sha256(plain.encode()).hexdigest()
        assert token.prefix == plain[:8]
        stored = [str(v) for v in vars(token).values()]
        assert plain not in stored

    def test_two_tokens_differ(self, runtime: Runtime, owner_id: int) -> None:
        with transaction(runtime.sessions) as session:
            user = session.get(User, owner_id)
            assert user is not None
            first, _ = create_token(session, user=user, name="a", scopes=["read"])
            second, _ = create_token(session, user=user, name="b", scopes=["read"])
        assert first != second


class TestVerifyToken:
    def test_live_token_verifies_and_others_do_not(self, runtime: Runtime, owner_id: int) -> None:
        with transaction(runtime.sessions) as session:
            user = session.get(User, owner_id)
            assert user is not None
            plain, token = create_token(session, user=user, name="ci", scopes=["read"])
            assert verify_token(session, plain) is token
            assert verify_token(session, plain + "x") is None
            assert verify_token(session, plain.removeprefix("tnr_")) is None

    def test_expired_token_does_not_verify(self, runtime: Runtime, owner_id: int) -> None:
        now = utcnow()
        with transaction(runtime.sessions) as session:
            user = session.get(User, owner_id)
            assert user is not None
            plain, _ = create_token(session, user=user, name="ci", scopes=["read"], expires_at=now)
            assert verify_token(session, plain, now=now - dt.timedelta(seconds=1)) is not None
            assert verify_token(session, plain, now=now) is None

    def test_revoked_token_does_not_verify_and_keeps_first_revocation(
        self, runtime: Runtime, owner_id: int
    ) -> None:
        with transaction(runtime.sessions) as session:
            user = session.get(User, owner_id)
            assert user is not None
            plain, token = create_token(session, user=user, name="ci", scopes=["read"])
            first = dt.datetime(2024, 1, 1)
            assert revoke_token(token, now=first)
            assert not revoke_token(token, now=dt.datetime(2024, 2, 1))
            assert token.revoked_at == first
            assert verify_token(session, plain) is None


class TestScopes:
    def test_unknown_scope_is_named_with_the_allowed_ones(self) -> None:
        with pytest.raises(InvalidScope) as caught:
            normalize_scopes(["read", "delete"])
        assert caught.value.message == (
            "unknown scope 'delete'; allowed: read, write, admin, events:write"
        )

    def test_no_scope_is_refused(self) -> None:
        with pytest.raises(InvalidScope, match="at least one scope"):
            normalize_scopes([" "])

    def test_scopes_are_sorted_and_deduplicated(self) -> None:
        assert normalize_scopes(["write", "read", "write"]) == ["read", "write"]

    def test_admin_implies_write_and_read_but_a_write_key_reads_nothing(self) -> None:
        assert expand_scopes(["admin"]) == {"admin", "write", "read"}
        assert expand_scopes(["write"]) == {"write", "read"}
        assert expand_scopes(["events:write"]) == {"events:write"}

    def test_schema_literals_match_roles_and_scopes(self) -> None:
        assert set(typing.get_args(schemas.ScopeName)) == set(SCOPES)
        assert set(typing.get_args(schemas.RoleName)) == {r.value for r in Role}
