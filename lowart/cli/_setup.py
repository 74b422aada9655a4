"""Which database and secret a command uses, and refusing to invent new ones.

Only `lowart db upgrade` and `lowart serve` set a database up. Any other
command run from the wrong directory would otherwise create an empty
./lowart.db and a new ./lowart.key there and then report a confusing error
(an unknown key, a secret that cannot be decrypted).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

from lowart.config import Settings

__all__ = ["NotSetUp", "describe_database", "require_setup", "sqlite_file"]

_HOW = "run `lowart db upgrade` to create it, or point LOWART_DATABASE_URL (or --db) at yours"


class NotSetUp(Exception):
    """The command would have to create the database or the secret key file."""


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names (absolute), None for other databases and in-memory ones."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database).resolve()


def describe_database(url: str) -> str:
    """The database for a human: a SQLite file's absolute path, else the URL without password."""
    path = sqlite_file(url)
    return str(path) if path else make_url(url).render_as_string(hide_password=True)


def require_setup(settings: Settings) -> None:
    """Raise NotSetUp unless the database (if a SQLite file) and the secret already exist."""
    path = sqlite_file(settings.database_url)
    if path is not None and not path.exists():
        raise NotSetUp(f"no database at {path}: {_HOW}")
    key_file = settings.secret_key_file
    if not settings.secret_key and not key_file.exists():
        raise NotSetUp(
            f"no secret key file at {key_file.resolve()} (it encrypts provider keys and sits"
            " next to the database): run `lowart db upgrade` to create it, or set"
            " LOWART_SECRET_KEY_FILE (or LOWART_SECRET_KEY)"
        )
