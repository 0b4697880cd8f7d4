"""Reference lists (offices, crossing points, transport modes, countries, currencies,
procedure codes, tax types) and the history of their changes; seeds the standard lists.

Revision ID: a4d1e2f3c5b7
Revises: 7c4e9a1d2b83
Create Date: 2026-12-03 05:20:00
"""

import sqlalchemy as sa
from alembic import op

import app.core.types

revision = "a4d1e2f3c5b7"
down_revision = "7c4e9a1d2b83"
branch_labels = None
depends_on = None


def upgrade():
    entry = op.create_table(
        "reference_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_name", sa.String(length=20), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("max_rate", sa.Float(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_dt", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_dt", app.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("list_name", "code", name="uq_reference_entry_code"),
    )
    with op.batch_alter_table("reference_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reference_entry_list_name"), ["list_name"], unique=False
        )
    op.create_table(
        "reference_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("changed_dt", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("changed_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(["changed_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["entry_id"], ["reference_entry.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reference_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reference_change_entry_id"), ["entry_id"], unique=False
        )
    # The standard lists (ISO 3166-1, ISO 4217, UN/ECE Rec. 19) as shipped today; later
    # additions come with `tollgate reference seed standard` (it adds only what is missing).
    from app.core.time import now_utc
    from app.reference.service import _shipped_rows

    now = now_utc()
    op.bulk_insert(
        entry,
        [
            {"list_name": name, **values, "is_active": True, "created_dt": now}
            for name, values in _shipped_rows("standard")
        ],
    )


def downgrade():
    with op.batch_alter_table("reference_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reference_change_entry_id"))
    op.drop_table("reference_change")
    with op.batch_alter_table("reference_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reference_entry_list_name"))
    op.drop_table("reference_entry")
