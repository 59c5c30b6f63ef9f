"""Encryption of channel secrets at rest (Fernet: AES-128-CBC + HMAC-SHA256).

The key comes from the environment variable TENURE_SECRET_KEY (a Fernet key, as printed by
`tenure channels keygen`), else from `<home>/secret.key`, created with mode 0600 on first
use. Losing the key loses the stored secrets (they must be entered again), nothing else.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

KEY_ENV = "TENURE_SECRET_KEY"
KEY_FILE = "secret.key"


class SecretKeyError(Exception):
    """The secret key is missing, malformed, or not the one the secrets were sealed with."""


def load_key(home: Path) -> bytes:
    """The server's Fernet key: from TENURE_SECRET_KEY, else `home/secret.key` (created)."""
    from_env = os.environ.get(KEY_ENV)
    if from_env:
        key = from_env.strip().encode()
    else:
        path = home / KEY_FILE
        if not path.exists():
            home.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(Fernet.generate_key())
        key = path.read_bytes().strip()
    try:
        Fernet(key)
    except ValueError:
        raise SecretKeyError(
            f"the secret key ({KEY_ENV} or {KEY_FILE}) is not a valid Fernet key"
        ) from None
    return key


def seal(key: bytes, secrets: dict[str, Any]) -> str:
    """Encrypt a JSON object of secrets."""
    return Fernet(key).encrypt(json.dumps(secrets, sort_keys=True).encode()).decode()


def unseal(key: bytes, token: str | None) -> dict[str, Any]:
    """Decrypt what `seal` produced (an empty object for none)."""
    if not token:
        return {}
    try:
        data = Fernet(key).decrypt(token.encode())
    except InvalidToken:
        raise SecretKeyError(
            "stored channel secrets cannot be decrypted with this secret key "
            f"(was {KEY_ENV} or {KEY_FILE} changed?)"
        ) from None
    value: dict[str, Any] = json.loads(data)
    return value
