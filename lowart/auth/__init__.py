"""Who is calling and how much they may do."""

from lowart.auth._authenticator import Authenticator, principal_from_row
from lowart.auth._keys import KEY_PREFIX, generate_key, hash_key, key_display_prefix
from lowart.auth._limits import Admission, InProcessLimiter

__all__ = [
    "KEY_PREFIX",
    "Admission",
    "Authenticator",
    "InProcessLimiter",
    "generate_key",
    "hash_key",
    "key_display_prefix",
    "principal_from_row",
]
