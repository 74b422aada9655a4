"""Opening the database and bringing its schema to the latest migration."""

from __future__ import annotations

import ast
import functools
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine.interfaces import DBAPIConnection
    from sqlalchemy.pool import ConnectionPoolEntry

__all__ = ["migrate", "migrations_dir", "open_engine", "shipped_heads"]


@functools.cache
def migrations_dir() -> Path:
    """Where the Alembic scripts are: inside an installed wheel (lowart/_migrations),
    else alembic/ at the top of the source checkout this package runs from."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "_migrations", package.parent / "alembic"):
        if (candidate / "env.py").is_file() and (candidate / "versions").is_dir():
            return candidate
    raise RuntimeError(f"lowart's migrations are missing: no {package / '_migrations'}")


def open_engine(url: str) -> AsyncEngine:
    """An async engine; SQLite gets WAL and a busy timeout so readers never block the writer."""
    if url.startswith("sqlite"):
        _create_private(sa.engine.make_url(url).database)
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(
            dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry
        ) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _create_private(database: str | None) -> None:
    """Create a new SQLite file 0600, like the key file: it holds key hashes, encrypted
    provider keys and usage. SQLite gives its -wal and -shm files the same mode. An
    existing file keeps the mode its operator gave it."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    try:
        fd = os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError:
        return  # a missing directory and the like: connecting reports it
    os.close(fd)


def _alembic_config(connection: sa.Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["connection"] = connection
    return config


def shipped_heads() -> set[str]:
    """The head revisions of the migrations shipped in the package, read from their files.

    Alembic costs about 11 MiB to import; a gateway whose database is already
    current should not carry it for its whole life just to learn that.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (migrations_dir() / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        revision = re.search(r"^revision\s*=\s*(.+)$", text, re.M)
        down = re.search(r"^down_revision\s*=\s*(.+)$", text, re.M)
        if revision is None:
            continue
        revisions.add(ast.literal_eval(revision[1].strip()))
        down_value = ast.literal_eval(down[1].strip()) if down else None
        if isinstance(down_value, str):
            parents.add(down_value)
        elif isinstance(down_value, tuple | list):
            parents.update(down_value)
    return revisions - parents


async def _current_revisions(engine: AsyncEngine) -> set[str]:
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(sa.text("SELECT version_num FROM alembic_version"))
            return {row[0] for row in rows}
    except SQLAlchemyError:
        return set()  # a fresh database has no version table yet


async def migrate(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply migrations up to `revision` (what `serve` does on start and `db upgrade` does)."""
    if revision == "head" and await _current_revisions(engine) == shipped_heads():
        return
    from alembic import command

    async with engine.begin() as conn:
        await conn.run_sync(lambda sync_conn: command.upgrade(_alembic_config(sync_conn), revision))
