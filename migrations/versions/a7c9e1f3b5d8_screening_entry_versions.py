"""Screening entries belong to a list version (issue 20): a new version's entries are written
beside the current ones in short transactions and the list switches to them at once, so a load
of a million entries never holds SQLite's write lock for minutes.

Revision ID: a7c9e1f3b5d8
Revises: 51440752486c
Create Date: 2026-12-03 18:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a7c9e1f3b5d8"
down_revision = "51440752486c"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("screening_list_version", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=10), nullable=False, server_default="loaded")
        )
    with op.batch_alter_table("screening_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version_id", sa.Integer(), nullable=True))
    # the entries held so far are their list's current version's
    op.execute(
        "UPDATE screening_entry SET version_id = (SELECT current_version_id FROM screening_list "
        "WHERE screening_list.id = screening_entry.list_id)"
    )
    with op.batch_alter_table("screening_entry", schema=None) as batch_op:
        batch_op.alter_column("version_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint("uq_screening_entry_id", type_="unique")
        batch_op.create_unique_constraint(
            "uq_screening_entry_version_id", ["version_id", "entry_id"]
        )
        batch_op.create_foreign_key(
            "fk_screening_entry_version_id", "screening_list_version", ["version_id"], ["id"]
        )


def downgrade():
    op.execute(
        "DELETE FROM screening_entry WHERE version_id <> (SELECT current_version_id FROM "
        "screening_list WHERE screening_list.id = screening_entry.list_id)"
    )
    with op.batch_alter_table("screening_entry", schema=None) as batch_op:
        batch_op.drop_constraint("fk_screening_entry_version_id", type_="foreignkey")
        batch_op.drop_constraint("uq_screening_entry_version_id", type_="unique")
        batch_op.create_unique_constraint("uq_screening_entry_id", ["list_id", "entry_id"])
        batch_op.drop_column("version_id")
    with op.batch_alter_table("screening_list_version", schema=None) as batch_op:
        batch_op.drop_column("status")
