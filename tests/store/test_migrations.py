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

# What a fresh install serves with no vendor keys: chat (0001) and embeddings (0011).
_SEEDED = [("mock", "mock", "chat"), ("mock-embed", "mock", "embedding")]


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
            query = "select name, vendor, kind from models order by id"
            result = await conn.execute(sa.text(query))
            return [tuple(r) for r in result]
    finally:
        await engine.dispose()


async def test_sqlite_migrations_match_the_tables(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    assert await _schema_diff(url) == []
    assert await _mock_rows(url) == _SEEDED


def test_postgres_migrations_match_the_tables(loop_thread, postgres_url):
    assert loop_thread.run(_schema_diff(postgres_url)) == []
    assert loop_thread.run(_mock_rows(postgres_url)) == _SEEDED


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


async def _downgrade(engine, revision: str) -> None:
    from alembic import command

    from lowart.store._engine import _alembic_config

    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: command.downgrade(_alembic_config(sync), revision))


async def _execute(engine, statement: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(sa.text(statement))


async def test_mock_embed_is_seeded_once_and_removed_only_as_seeded(tmp_path):
    engine = open_engine(f"sqlite+aiosqlite:///{tmp_path / 'seed.db'}")
    url = f"sqlite+aiosqlite:///{tmp_path / 'seed.db'}"
    try:
        await migrate(engine)
        await _downgrade(engine, "0008")  # untouched: it goes
        assert await _mock_rows(url) == _SEEDED[:1]
        await migrate(engine)
        assert await _mock_rows(url) == _SEEDED
        await _execute(engine, "update models set options = '{\"dimensions\": 8}'"
                       " where name = 'mock-embed'")  # fmt: skip
        await _downgrade(engine, "0008")  # the operator's changes stay
        assert await _mock_rows(url) == _SEEDED
    finally:
        await engine.dispose()


async def test_an_existing_route_named_mock_embed_is_left_alone(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'own.db'}"
    engine = open_engine(url)
    try:
        await migrate(engine, "0008")
        await _execute(
            engine,
            "insert into models (name, vendor, upstream_model, kind, created_at, updated_at)"
            " values ('mock-embed', 'openai', 'text-embedding-3-small', 'embedding',"
            " '2026-01-01', '2026-01-01')",
        )
        await migrate(engine)
        assert await _mock_rows(url) == [_SEEDED[0], ("mock-embed", "openai", "embedding")]
    finally:
        await engine.dispose()
