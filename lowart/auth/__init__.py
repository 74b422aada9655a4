"""Who is calling and how much they may do."""

from lowart.auth._authenticator import Authenticator, principal_from_row
from lowart.auth._backend import open_limiter
from lowart.auth._budget import MAX_BUDGET
from lowart.auth._key_material import KEY_PREFIX, generate_key, hash_key, key_display_prefix
from lowart.auth._limits import Admission, InProcessLimiter, Limiter, QuotaBaseline
from lowart.auth._periods import QUOTA_PERIODS, quota_window

__all__ = [
    "KEY_PREFIX",
    "MAX_BUDGET",
    "QUOTA_PERIODS",
    "Admission",
    "Authenticator",
    "InProcessLimiter",
    "Limiter",
    "QuotaBaseline",
    "RedisLimiter",
    "connect_redis",
    "generate_key",
    "hash_key",
    "key_display_prefix",
    "open_limiter",
    "principal_from_row",
    "quota_window",
]


def __getattr__(name: str) -> object:
    """The Redis backend loads only when asked for (it is optional and costs memory)."""
    if name in ("RedisLimiter", "connect_redis"):
        from lowart.auth import _redis_limiter

        return getattr(_redis_limiter, name)
    raise AttributeError(f"module 'lowart.auth' has no attribute {name!r}")
