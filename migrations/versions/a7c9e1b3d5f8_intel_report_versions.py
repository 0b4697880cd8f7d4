"""Filed intelligence reports are edited as new versions: intel_report_version keeps each
earlier reading (title, body, grades, sanitised text) with who changed it, when and why.

Revision ID: a7c9e1b3d5f8
Revises: f1a3c5e7b9d2
Create Date: 2026-12-03 06:30:00
"""

import sqlalchemy as sa
from alembic import op

import app.core.types

revision = "a7c9e1b3d5f8"
down_revision = "f1a3c5e7b9d2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "intel_report_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("source_grade", sa.String(length=1), nullable=False),
        sa.Column("intel_grade", sa.String(length=1), nullable=False),
        sa.Column("sanitised_body", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("changed_dt", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["changed_by_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["report_id"], ["intel_report.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("intel_report_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intel_report_version_report_id"), ["report_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("intel_report_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intel_report_version_report_id"))
    op.drop_table("intel_report_version")
