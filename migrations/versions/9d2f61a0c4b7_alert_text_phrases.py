"""Alerts keep their texts as phrases naming records by reference, rendered per recipient.

Revision ID: 9d2f61a0c4b7
Revises: a91f3c7d5e20
Create Date: 2026-12-03 05:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "9d2f61a0c4b7"
down_revision = "a91f3c7d5e20"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("text", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_column("text")
