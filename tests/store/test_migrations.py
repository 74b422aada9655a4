"""Migrations build the schema the code expects, on SQLite and on PostgreSQL."""

from __future__ import annotations

import openai
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from lowart.store import migrate, open_engine
from lowart.store._engine import shipped_heads
from lowart.store._tables import metadata
from tests.support.servers import start_gateway, stop_gateway, test_settings


async def _schema_diff(url: str) -> list:
    engine = open_engine(url)
    try:
        await migrate(engine)
        await migrate(engine)  # idempotent
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
            )
    finally:
        await engine.dispose()


async def _mock_rows(url: str) -> list:
    engine = open_engine(url)
    try:
        async with engine.connect() as conn:
            result = await conn.execute(sa.text("select name, vendor from models"))
            return [tuple(r) for r in result]
    finally:
        await engine.dispose()


async def test_sqlite_migrations_match_the_tables(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    assert await _schema_diff(url) == []
    assert await _mock_rows(url) == [("mock", "mock")]


def test_postgres_migrations_match_the_tables(loop_thread, postgres_url):
    assert loop_thread.run(_schema_diff(postgres_url)) == []
    assert loop_thread.run(_mock_rows(postgres_url)) == [("mock", "mock")]


def test_gateway_runs_on_postgres(loop_thread, tmp_path, postgres_url, fake_openai):
    handle = start_gateway(loop_thread, test_settings(tmp_path, database_url=postgres_url))
    try:
        handle.add_model("fake", "openai", base_url=fake_openai.base_url, upstream_model="echo")
        api = openai.OpenAI(
            base_url=handle.openai_base_url, api_key=handle.admin_key, max_retries=0
        )
        for _ in range(2):
            api.chat.completions.create(model="fake", messages=[{"role": "user", "content": "pg"}])
        list(
            api.chat.completions.create(
                model="mock", messages=[{"role": "user", "content": "pg"}], stream=True
            )
        )
        records = handle.wait_for_records(3)
        assert [r["route"] for r in records] == ["fake", "fake", "mock"]
        summary = handle.run(handle.runtime.admin.usage_summary(by="model"))
        fake_row = next(r for r in summary if r["route"] == "fake")
        assert fake_row["requests"] == 2 and fake_row["total_tokens"] == 36
        keys = handle.run(handle.runtime.admin.list_keys())
        assert keys[0]["used_tokens"] == sum(r["total_tokens"] for r in records)
    finally:
        stop_gateway(handle)


def test_shipped_heads_match_alembic():
    """The quick head check that lets `serve` skip importing Alembic must agree with Alembic."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from lowart.store._engine import migrations_dir, shipped_heads

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    assert shipped_heads() == set(ScriptDirectory.from_config(config).get_heads())
    assert len(shipped_heads()) == 1  # one linear history: a second head means an unchained merge


async def _version(engine) -> list[str]:
    async with engine.connect() as conn:
        return list(
            (await conn.execute(sa.text("select version_num from alembic_version"))).scalars()
        )


async def test_databases_stamped_with_the_old_revision_ids_still_upgrade(tmp_path):
    """Revisions 0002 and 0003 were called 0005_images and 0008_resilience once."""
    for revision, old_id in (("0002", "0005_images"), ("0003", "0008_resilience")):
        engine = open_engine(f"sqlite+aiosqlite:///{tmp_path / (old_id + '.db')}")
        try:
            await migrate(engine, revision)
            async with engine.begin() as conn:
                await conn.execute(
                    sa.text("update alembic_version set version_num = :v"), {"v": old_id}
                )
            await migrate(engine)
            assert await _version(engine) == [max(shipped_heads())]
            async with engine.connect() as conn:
                diff = await conn.run_sync(
                    lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
                )
            assert diff == []
        finally:
            await engine.dispose()


def test_the_migrations_are_in_the_top_level_alembic_directory():
    from pathlib import Path

    from lowart.store._engine import migrations_dir

    root = Path(__file__).resolve().parents[2]
    assert migrations_dir() == root / "alembic"
    assert not (root / "alembic" / "__init__.py").exists()  # never shadows the alembic library
    names = sorted(p.name for p in (root / "alembic" / "versions").glob("*.py"))
    assert [n[:4] for n in names] == [f"{i:04d}" for i in range(1, len(names) + 1)]
