"""A case's place on the reference lists (case_file.place_ref, "office:<code>" or
"crossing:<code>"): seizures name their office or crossing point from the list, and the
seizure map places them by its coordinates.

Revision ID: d2e6f8a0b4c7
Revises: c8d4e2f6a1b3
Create Date: 2026-12-03 05:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "d2e6f8a0b4c7"
down_revision = "c8d4e2f6a1b3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("case_file", schema=None) as batch_op:
        batch_op.add_column(sa.Column("place_ref", sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f("ix_case_file_place_ref"), ["place_ref"], unique=False)


def downgrade():
    with op.batch_alter_table("case_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_file_place_ref"))
        batch_op.drop_column("place_ref")
