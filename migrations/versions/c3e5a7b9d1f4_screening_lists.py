"""Screening lists: screening_list, its loaded versions (with the diff of each load) and the
current entries that parties are screened against.

Revision ID: c3e5a7b9d1f4
Revises: b2d4f6a8c0e1
Create Date: 2026-12-03 07:40:00
"""

import sqlalchemy as sa
from alembic import op

import app.core.types

revision = "c3e5a7b9d1f4"
down_revision = "b2d4f6a8c0e1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "screening_list",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("sensitivity", sa.String(length=1), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("current_version_id", sa.Integer(), nullable=True),
        sa.Column("created_dt", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "screening_list_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("version_date", sa.Date(), nullable=False),
        sa.Column("file_format", sa.String(length=8), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=True),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("diff", sa.JSON(), nullable=False),
        sa.Column("loaded_dt", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("loaded_by_id", sa.Integer(), nullable=True),
        sa.Column("loaded_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(["list_id"], ["screening_list.id"]),
        sa.ForeignKeyConstraint(["loaded_by_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("screening_list_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_screening_list_version_list_id"), ["list_id"], unique=False
        )
    op.create_table(
        "screening_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.String(length=200), nullable=False),
        sa.Column("schema", sa.String(length=20), nullable=False),
        sa.Column("caption", sa.String(length=500), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("countries", sa.JSON(), nullable=False),
        sa.Column("identifiers", sa.JSON(), nullable=False),
        sa.Column("birth_dates", sa.JSON(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("match_names", sa.Text(), nullable=False),
        sa.Column("match_ids", sa.Text(), nullable=False),
        sa.Column("version_key", sa.BigInteger(), nullable=False),
        sa.Column("first_version_id", sa.Integer(), nullable=False),
        sa.Column("changed_version_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["list_id"], ["screening_list.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("list_id", "entry_id", name="uq_screening_entry_id"),
    )
    with op.batch_alter_table("screening_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_screening_entry_list_id"), ["list_id"], unique=False)


def downgrade():
    with op.batch_alter_table("screening_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_screening_entry_list_id"))
    op.drop_table("screening_entry")
    with op.batch_alter_table("screening_list_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_screening_list_version_list_id"))
    op.drop_table("screening_list_version")
    op.drop_table("screening_list")
