"""seed mock-embed: a built-in embeddings route, so a fresh install answers
`/v1/embeddings` with no vendor keys, as `mock` answers chat since 0001

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_NAME = "mock-embed"
_models = sa.table(
    "models",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("vendor", sa.String),
    sa.column("base_url", sa.String),
    sa.column("upstream_model", sa.String),
    sa.column("api_key_encrypted", sa.Text),
    sa.column("api_key_env", sa.String),
    sa.column("options", sa.Text),
    sa.column("script", sa.Text),
    sa.column("script_version", sa.Integer),
    sa.column("enabled", sa.Boolean),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
    sa.column("kind", sa.String),
)
_config_state = sa.table("config_state", sa.column("version", sa.BigInteger))

# The route as seeded: downgrade removes only a row that still is exactly this.
_SEEDED = {
    "vendor": "mock",
    "upstream_model": _NAME,
    "options": "{}",
    "script_version": 0,
    "enabled": True,
    "kind": "embedding",
}


def upgrade() -> None:
    bind = op.get_bind()
    taken = bind.execute(sa.select(_models.c.id).where(_models.c.name == _NAME)).first()
    if taken is not None:  # an operator's own route of that name stays as it is
        return
    now = datetime.now(UTC)
    op.bulk_insert(_models, [{"name": _NAME, **_SEEDED, "created_at": now, "updated_at": now}])
    _bump_config_version()


def downgrade() -> None:
    unchanged = sa.and_(
        _models.c.name == _NAME,
        *(_models.c[column] == value for column, value in _SEEDED.items()),
        _models.c.base_url.is_(None),
        _models.c.api_key_encrypted.is_(None),
        _models.c.api_key_env.is_(None),
        _models.c.script.is_(None),
        _models.c.updated_at == _models.c.created_at,
    )
    if op.get_bind().execute(sa.delete(_models).where(unchanged)).rowcount:
        _bump_config_version()


def _bump_config_version() -> None:
    """Running gateways reload their routes when this version moves."""
    op.execute(_config_state.update().values(version=_config_state.c.version + 1))
