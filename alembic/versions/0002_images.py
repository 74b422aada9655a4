"""image generation: jobs and result files (ComfyUI routes)

Revision ID: 0002 (was 0005_images)
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "image_jobs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("key_id", sa.Integer, nullable=False),
        sa.Column("key_name", sa.String(200)),
        sa.Column("route", sa.String(200), nullable=False),
        sa.Column("interface", sa.String(20), nullable=False),
        sa.Column("request_id", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("workflow", sa.Text),
        sa.Column("prompt_id", sa.String(100)),
        sa.Column("client_id", sa.String(100)),
        sa.Column("progress", sa.Text),
        sa.Column("outputs", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_image_jobs_key_created", "image_jobs", ["key_id", "created_at"])
    op.create_index("ix_image_jobs_status", "image_jobs", ["status"])
    op.create_table(
        "files",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("key_id", sa.Integer, nullable=False),
        sa.Column("job_id", sa.String(64)),
        sa.Column("filename", sa.String(400), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("path", sa.String(400), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_files_key", "files", ["key_id"])
    op.create_index("ix_files_job", "files", ["job_id"])


def downgrade() -> None:
    op.drop_table("files")
    op.drop_table("image_jobs")
