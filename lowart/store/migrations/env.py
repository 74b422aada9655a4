"""Alembic environment: runs on the connection the caller hands over.

`lowart.store.migrate` passes an open synchronous connection (from the async
engine's `run_sync`) in `config.attributes["connection"]`; the `alembic`
command line path builds its own async engine from the URL.
"""

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

from lowart.store._tables import metadata


def _run(connection) -> None:
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
    asyncio.run(_run_from_url(context.config.get_main_option("sqlalchemy.url")))
