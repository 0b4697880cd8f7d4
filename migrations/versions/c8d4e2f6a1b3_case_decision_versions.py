"""Offence decisions as versions (case_decision): the first decision, threshold re-runs after
an edit of the evaded duties, supervisors' corrections with a reason. Cases decided before
this migration get their decision as version 1.

Revision ID: c8d4e2f6a1b3
Revises: e4b8c2a6d913
Create Date: 2026-12-03 05:00:00
"""

import sqlalchemy as sa
from alembic import op

import app.core.types

revision = "c8d4e2f6a1b3"
down_revision = "e4b8c2a6d913"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "case_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decision_type", sa.String(length=20), nullable=False),
        sa.Column("evaded_duties", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("penalty", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("legal_provision", sa.String(length=300), nullable=True),
        sa.Column("decision_text", sa.Text(), nullable=True),
        sa.Column("threshold", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_by_name", sa.String(length=120), nullable=False),
        sa.Column("decided_dt", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case_file.id"],
            name=op.f("fk_case_decision_case_id_case_file"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_case_decision_decided_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_decision")),
        sa.UniqueConstraint(
            "case_id", "version", name=op.f("uq_case_decision_case_id_version")
        ),
    )
    with op.batch_alter_table("case_decision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_decision_case_id"), ["case_id"], unique=False)
    op.execute(
        "INSERT INTO case_decision (case_id, version, origin, decision_type, evaded_duties, "
        "penalty, legal_provision, decision_text, threshold, decided_by_id, decided_by_name, "
        "decided_dt) SELECT id, 1, 'decision', decision_type, COALESCE(evaded_duties, 0), "
        "penalty, legal_provision, decision_text, COALESCE(decision_threshold, 0), "
        "decided_by_id, COALESCE(decided_by_name, ''), COALESCE(decided_dt, updated_dt) "
        "FROM case_file WHERE decision_type IS NOT NULL"
    )


def downgrade():
    with op.batch_alter_table("case_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_decision_case_id"))
    op.drop_table("case_decision")
