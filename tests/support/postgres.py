"""A throwaway PostgreSQL database per test, on this machine's server."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

ADMIN_DSN = os.environ.get("LOWART_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")


@asynccontextmanager
async def temporary_database() -> AsyncIterator[str]:
    """Create `lowart_test_<random>`, yield its SQLAlchemy URL, drop it afterwards."""
    name = f"lowart_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(ADMIN_DSN, timeout=5)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        yield f"{base}/{name}"
    finally:
        admin = await asyncpg.connect(ADMIN_DSN, timeout=5)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
