"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tenure.errors import TenureError

MIN_LENGTH = 10
MAX_LENGTH = 1024  # argon2 takes any length; this only stops absurd request bodies


class WeakPassword(TenureError):
    """A new password does not meet the policy."""

    status_code = 422


@lru_cache(maxsize=1)
def hasher() -> PasswordHasher:
    """The argon2id hasher with argon2-cffi's recommended parameters (built on first use)."""
    return PasswordHasher()


def check_policy(password: str) -> None:
    """Raise WeakPassword with the precise reason when `password` may not be used."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(
            f"password must have at least {MIN_LENGTH} characters, it has {len(password)}"
        )
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"password must have at most {MAX_LENGTH} characters")
    if not password.strip():
        raise WeakPassword("password must not be only spaces")


def hash_password(password: str) -> str:
    """The argon2id hash (PHC string) of `password`."""
    return hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches `password_hash`; False for a missing or malformed hash."""
    if not password_hash:
        return False
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than the current ones."""
    try:
        return hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


# Verified when the login is unknown, so a wrong login costs as long as a wrong password
# and the response time does not tell which logins exist.
@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash of a random string, made once."""
    return hash_password("no such user, just spending the same time")
