"""CRM credentials at rest: Fernet-encrypted JSON."""
from __future__ import annotations

import json
from typing import Any, Mapping

from cryptography.fernet import Fernet, InvalidToken


class SecretBox:
    """Encrypts and decrypts a connection's secret settings with the service's Fernet key."""

    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"

    def seal(self, secrets: Mapping[str, Any]) -> str:
        """Encrypt a mapping of secret settings into a token safe to store."""
        return self._fernet.encrypt(json.dumps(dict(secrets), sort_keys=True).encode()).decode()

    def open(self, token: str) -> dict[str, Any]:
        """Decrypt a stored token. Raises ValueError if the key does not match."""
        try:
            return json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken:
            raise ValueError("stored credentials cannot be decrypted with JOURNEY_SECRET_KEY "
                             "(was the key changed?)") from None
