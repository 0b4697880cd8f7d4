"""Record shares for real: reason, end, conditions, who shared, soft revocation, expiry noted.

The unique constraint on (record_type, record_id, unit_id, user_id) goes: a revoked or
expired share stays as history and sharing again adds a new row.

Revision ID: b7e3a5c9d1f2
Revises: 9d2f61a0c4b7
Create Date: 2026-12-03 04:50:00
"""

import sqlalchemy as sa
from alembic import op

import app.core.types

revision = "b7e3a5c9d1f2"
down_revision = "9d2f61a0c4b7"
branch_labels = None
depends_on = None


def _dt():
    return app.core.types.UTCDateTime(timezone=True)


def upgrade():
    with op.batch_alter_table("record_share", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_record_share_record_type_record_id_unit_id_user_id"), type_="unique"
        )
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("expires_dt", _dt(), nullable=True))
        batch_op.add_column(sa.Column("conditions", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("created_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("created_by", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("revoked_dt", _dt(), nullable=True))
        batch_op.add_column(sa.Column("revoked_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("revoked_by", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("revoke_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("expiry_logged_dt", _dt(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_record_share_expires_dt"), ["expires_dt"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_record_share_created_by_id_user_account"),
            "user_account",
            ["created_by_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_record_share_revoked_by_id_user_account"),
            "user_account",
            ["revoked_by_id"],
            ["id"],
        )


def downgrade():
    with op.batch_alter_table("record_share", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_record_share_revoked_by_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_record_share_created_by_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_record_share_expires_dt"))
        for column in (
            "expiry_logged_dt",
            "revoke_reason",
            "revoked_by",
            "revoked_by_id",
            "revoked_dt",
            "created_by",
            "created_by_id",
            "conditions",
            "expires_dt",
            "reason",
        ):
            batch_op.drop_column(column)
        batch_op.create_unique_constraint(
            batch_op.f("uq_record_share_record_type_record_id_unit_id_user_id"),
            ["record_type", "record_id", "unit_id", "user_id"],
        )
