"""A declaration's screening hits are written by the worker moments after its assessment
(issue 20): the declaration carries ``screening_pending`` until then, with a partial index
holding only the pending ones.

Revision ID: b3d5f7a9c1e2
Revises: a7c9e1f3b5d8
Create Date: 2026-12-04 11:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b3d5f7a9c1e2"
down_revision = "a7c9e1f3b5d8"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("risk_declaration", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "screening_pending", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    op.create_index(
        "ix_risk_declaration_screening_pending",
        "risk_declaration",
        ["id"],
        unique=False,
        sqlite_where=sa.text("screening_pending = 1"),
        postgresql_where=sa.text("screening_pending"),
    )


def downgrade():
    op.drop_index("ix_risk_declaration_screening_pending", table_name="risk_declaration")
    with op.batch_alter_table("risk_declaration", schema=None) as batch_op:
        batch_op.drop_column("screening_pending")
