"""argon2id hashing, rehashing old parameters, and the password policy."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from tenure.auth.passwords import (
    WeakPassword,
    check_policy,
    hash_password,
    needs_rehash,
    verify_password,
)


class TestHashPassword:
    def test_hash_is_argon2id_and_salted(self) -> None:
        first, second = hash_password("a long password"), hash_password("a long password")
        assert first.startswith("$argon2id$")
        assert "a long password" not in first
        assert first != second  # a random salt each time

    def test_verify_accepts_the_password_only(self) -> None:
        stored = hash_password("a long password")
        assert verify_password(stored, "a long password")
        assert not verify_password(stored, "a long passworD")

    @pytest.mark.parametrize("stored", [None, "", "not-a-hash", "$argon2id$garbage"])
    def test_missing_or_malformed_hash_never_verifies(self, stored: str | None) -> None:
        assert not verify_password(stored, "a long password")


class TestNeedsRehash:
    def test_weaker_parameters_need_rehash(self) -> None:
        old = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("a long password")
        assert verify_password(old, "a long password")
        assert needs_rehash(old)

    def test_current_parameters_do_not(self) -> None:
        assert not needs_rehash(hash_password("a long password"))


class TestPolicy:
    def test_nine_characters_are_refused_with_the_count(self) -> None:
        with pytest.raises(WeakPassword) as caught:
            check_policy("123456789")
        assert caught.value.message == "password must have at least 10 characters, it has 9"
        assert caught.value.status_code == 422

    def test_ten_characters_are_enough(self) -> None:
        check_policy("1234567890")

    def test_only_spaces_is_refused(self) -> None:
        with pytest.raises(WeakPassword, match="only spaces"):
            check_policy(" " * 12)
