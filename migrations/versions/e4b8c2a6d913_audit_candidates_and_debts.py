"""Audit selection by expected findings (issue 18): the candidate figures on each selection
line, and audit debts recorded by kind.

Revision ID: e4b8c2a6d913
Revises: a3c5e7f91b20
Create Date: 2026-12-03 05:00:00
"""

import sqlalchemy as sa
from alembic import op

import app.core.types

revision = "e4b8c2a6d913"
down_revision = "a3c5e7f91b20"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_selection_line", schema=None) as batch_op:
        batch_op.add_column(sa.Column("p_finding", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("expected_findings", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("duty_at_stake", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("n_declarations", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("rating_score", sa.Float(), nullable=True))
    op.create_table(
        "audit_debt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by_name", sa.String(length=120), nullable=False),
        sa.Column("recorded_dt", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_audit_debt_recorded_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_debt")),
    )
    with op.batch_alter_table("audit_debt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_debt_case_id"), ["case_id"], unique=False)


def downgrade():
    with op.batch_alter_table("audit_debt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_debt_case_id"))
    op.drop_table("audit_debt")
    with op.batch_alter_table("audit_selection_line", schema=None) as batch_op:
        batch_op.drop_column("rating_score")
        batch_op.drop_column("n_declarations")
        batch_op.drop_column("duty_at_stake")
        batch_op.drop_column("expected_findings")
        batch_op.drop_column("p_finding")
