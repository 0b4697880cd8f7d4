"""Declarations whose traders the worker still has to link to the entity registry.

Revision ID: 5b1d2c3e4f60
Revises: 0137ef2235a1
Create Date: 2026-11-22 04:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "5b1d2c3e4f60"
down_revision = "0137ef2235a1"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("risk_declaration", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("links_pending", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index(
            batch_op.f("ix_risk_declaration_links_pending"), ["links_pending"], unique=False
        )


def downgrade():
    with op.batch_alter_table("risk_declaration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_declaration_links_pending"))
        batch_op.drop_column("links_pending")
