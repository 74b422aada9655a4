"""Provider API keys encrypted at rest with AES-256-GCM.

The master key comes from `LOWART_SECRET_KEY` (any string; stretched with
SHA-256) or from a key file created once with 0600 permissions, so a copied
database alone never reveals a vendor credential.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["SecretBox", "SecretBoxError"]

_PREFIX = "v1:"


class SecretBoxError(Exception):
    """A stored secret could not be decrypted (wrong master key or tampered data)."""


class SecretBox:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("SecretBox needs a 32-byte key")
        self._key = key
        self._cipher: AESGCM | None = None

    @property
    def _aead(self) -> AESGCM:
        """The cipher, built on first use: a gateway whose routes hold no stored
        provider key never loads the crypto library (about 6 MiB)."""
        if self._cipher is None:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            self._cipher = AESGCM(self._key)
        return self._cipher

    def __repr__(self) -> str:
        return "SecretBox(<hidden>)"

    @classmethod
    def from_settings(cls, secret: str | None, key_file: Path) -> SecretBox:
        """Use the configured secret, else the key file, creating it (0600) on first use."""
        if secret:
            return cls(hashlib.sha256(secret.encode()).digest())
        if key_file.exists():
            raw = key_file.read_text().strip()
            return cls(base64.urlsafe_b64decode(raw))
        key = secrets.token_bytes(32)
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(base64.urlsafe_b64encode(key).decode() + "\n")
        return cls(key)

    def encrypt(self, plaintext: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), b"lowart-provider-key")
        return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt(self, token: str) -> str:
        if not token.startswith(_PREFIX):
            raise SecretBoxError("unknown secret format")
        from cryptography.exceptions import InvalidTag

        raw = base64.urlsafe_b64decode(token[len(_PREFIX) :])
        try:
            return self._aead.decrypt(raw[:12], raw[12:], b"lowart-provider-key").decode()
        except InvalidTag as exc:
            raise SecretBoxError("secret cannot be decrypted with this master key") from exc
