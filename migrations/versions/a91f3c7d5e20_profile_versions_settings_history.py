"""Profile versions under change control (the next version written while the active one
fires; four-eyes approval) and the versioned history of the selectivity settings.

Revision ID: a91f3c7d5e20
Revises: a4d1e2f3c5b7
Create Date: 2026-12-03 05:00:00
"""

import sqlalchemy as sa
from alembic import op

import app.core.types

revision = "a91f3c7d5e20"
down_revision = "a4d1e2f3c5b7"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("risk_profile", schema=None) as batch_op:
        batch_op.add_column(sa.Column("author_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("draft_version", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_risk_profile_author_id_user_account"),
            "user_account",
            ["author_id"],
            ["id"],
        )
    with op.batch_alter_table("risk_profile_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("simulation", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("approved_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("approved_by_name", sa.String(length=120), nullable=True))
        batch_op.add_column(
            sa.Column("approved_dt", app.core.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_risk_profile_version_approved_by_id_user_account"),
            "user_account",
            ["approved_by_id"],
            ["id"],
        )
    op.create_table(
        "risk_settings_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("changed_by_name", sa.String(length=120), nullable=False),
        sa.Column("changed_dt", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["user_account.id"],
            name=op.f("fk_risk_settings_version_changed_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_settings_version")),
        sa.UniqueConstraint("version", name=op.f("uq_risk_settings_version_version")),
    )


def downgrade():
    op.drop_table("risk_settings_version")
    with op.batch_alter_table("risk_profile_version", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_risk_profile_version_approved_by_id_user_account"), type_="foreignkey"
        )
        for column in ("approved_dt", "approved_by_name", "approved_by_id", "simulation", "state"):
            batch_op.drop_column(column)
    with op.batch_alter_table("risk_profile", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_risk_profile_author_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_column("draft_version")
        batch_op.drop_column("author_id")
