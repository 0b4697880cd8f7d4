"""Feeds count the polls in a row whose host gave no answer, to disable a dead feed.

Revision ID: 7c4e9a1d2b83
Revises: 5b1d2c3e4f60
Create Date: 2026-11-23 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "7c4e9a1d2b83"
down_revision = "5b1d2c3e4f60"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("news_feed", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("network_failures", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table("news_feed", schema=None) as batch_op:
        batch_op.drop_column("network_failures")
