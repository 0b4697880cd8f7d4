"""Links are corrected and ended as new versions: entity_link_version keeps each earlier
reading of a link (type, dates, grade) with who changed it, when and why.

Revision ID: f1a3c5e7b9d2
Revises: d2e6f8a0b4c7
Create Date: 2026-12-03 06:25:00
"""

import sqlalchemy as sa
from alembic import op

import app.core.types

revision = "f1a3c5e7b9d2"
down_revision = "d2e6f8a0b4c7"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "entity_link_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("link_type", sa.String(length=40), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("grade", sa.String(length=4), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("changed_dt", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["changed_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["link_id"], ["entity_link.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("entity_link_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_entity_link_version_link_id"), ["link_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("entity_link_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entity_link_version_link_id"))
    op.drop_table("entity_link_version")
