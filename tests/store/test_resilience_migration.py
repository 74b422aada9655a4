"""The resilience migration on SQLite and PostgreSQL: every migration runs, down and up
again, and existing models become single deployments that may gain siblings."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from lowart.store import migrate, open_engine
from lowart.store._tables import metadata


async def _round_trip(url: str) -> None:
    engine = open_engine(url)
    try:
        await migrate(engine, "0001")
        now = datetime.now(UTC)
        async with engine.begin() as conn:
            await conn.execute(
                sa.text(
                    "insert into models (name, vendor, upstream_model, options, script_version,"
                    " enabled, created_at, updated_at) values"
                    " ('gpt', 'openai', 'gpt-4o', '{}', 0, true, :now, :now)"
                ),
                {"now": now},
            )
        await migrate(engine)  # every migration up to head
        async with engine.begin() as conn:
            weight = (
                await conn.execute(sa.text("select weight from models where name = 'gpt'"))
            ).scalar_one()
            assert weight == 1
            # the unique name is gone: a second deployment of the same name is allowed
            await conn.execute(
                sa.text(
                    "insert into models (name, vendor, upstream_model, options, script_version,"
                    " enabled, created_at, updated_at, weight) values"
                    " ('gpt', 'openai', 'gpt-4o', '{}', 0, true, :now, :now, 3)"
                ),
                {"now": now},
            )
            await conn.execute(
                sa.text(
                    "insert into api_keys (name, key_hash, key_prefix, created_at)"
                    " values ('old', 'h', 'p', :now)"
                ),
                {"now": now},
            )
            row = (
                await conn.execute(sa.text("select quota_period, max_concurrency from api_keys"))
            ).one()
            assert tuple(row) == ("total", None)  # existing keys keep an all-time quota
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
            )
        assert diff == []
        async with engine.begin() as conn:
            await conn.execute(sa.text("delete from models where weight = 3"))
            await conn.execute(sa.text("delete from api_keys"))
        await migrate_down_and_up(engine)
    finally:
        await engine.dispose()


async def migrate_down_and_up(engine) -> None:
    from alembic import command

    from lowart.store._engine import _alembic_config

    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: command.downgrade(_alembic_config(sync), "0001"))
    await migrate(engine)


async def test_resilience_migration_on_sqlite(tmp_path):
    await _round_trip(f"sqlite+aiosqlite:///{tmp_path / 'r.db'}")


def test_resilience_migration_on_postgres(loop_thread, postgres_url):
    loop_thread.run(_round_trip(postgres_url))
