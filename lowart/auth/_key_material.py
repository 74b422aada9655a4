"""API key material: generation, hashing and the safe-to-show prefix."""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["KEY_PREFIX", "generate_key", "hash_key", "key_display_prefix"]

KEY_PREFIX = "la-"


def generate_key() -> str:
    """A new key: 256 random bits, prefixed so leaked keys are easy to recognise and scan for."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """SHA-256 is enough here: keys are long random strings, so there is nothing to brute-force."""
    return hashlib.sha256(key.encode()).hexdigest()


def key_display_prefix(key: str) -> str:
    return key[:10]
