"""Alembic environment: runs on the connection the caller hands over.

`lowart.store.migrate` passes an open synchronous connection (from the async
engine's `run_sync`) in `config.attributes["connection"]`; the `alembic`
command line path builds its own async engine from the URL.

Revision ids are the four-digit prefix of each file name. Databases migrated
before that was so carry an older id in alembic_version; it is rewritten to
the new one before Alembic reads it.
"""

import asyncio

import sqlalchemy as sa
from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

from lowart.store._tables import metadata

_RENAMED_REVISIONS = {"0005_images": "0002", "0008_resilience": "0003"}


def _rename_old_revisions(connection) -> None:
    if not sa.inspect(connection).has_table("alembic_version"):
        return
    for old, new in _RENAMED_REVISIONS.items():
        connection.execute(
            sa.text("UPDATE alembic_version SET version_num = :new WHERE version_num = :old"),
            {"old": old, "new": new},
        )


def _run(connection) -> None:
    _rename_old_revisions(connection)
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_url(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(_run)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url")
    asyncio.run(_run_from_url(url or context.config.get_main_option("sqlalchemy.url")))
