"""Screening hits and judgements (issue 20): screening_hit keeps each match of a declaration's
party or a registry entity on a list entry (score, reasons, both sides' versions);
screening_judgement keeps analysts' verdicts per party and list entry.

Revision ID: d4f6b8c0e2a3
Revises: c3e5a7b9d1f4
Create Date: 2026-12-03 07:40:00
"""

import sqlalchemy as sa
from alembic import op

import app.core.types

revision = "d4f6b8c0e2a3"
down_revision = "c3e5a7b9d1f4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "screening_hit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("subject_type", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=True),
        sa.Column("party_key", sa.String(length=80), nullable=False),
        sa.Column("party_version", sa.String(length=40), nullable=False),
        sa.Column("party", sa.JSON(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("list_name", sa.String(length=120), nullable=False),
        sa.Column("list_version", sa.String(length=20), nullable=False),
        sa.Column("sensitivity", sa.String(length=1), nullable=False),
        sa.Column("entry_id", sa.String(length=200), nullable=False),
        sa.Column("entry_caption", sa.String(length=500), nullable=False),
        sa.Column("entry_version_key", sa.String(length=40), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("judgement_id", sa.Integer(), nullable=True),
        sa.Column("created_dt", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("handling_code", sa.String(length=1), nullable=False),
        sa.Column("handling_conditions", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("screening_hit", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_screening_hit_created_dt"), ["created_dt"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_screening_hit_list_id"), ["list_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_screening_hit_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index(
            "ix_screening_hit_party", ["party_key", "list_id", "entry_id"], unique=False
        )
        batch_op.create_index(
            "ix_screening_hit_subject", ["subject_type", "subject_id"], unique=False
        )
    op.create_table(
        "screening_judgement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("party_key", sa.String(length=80), nullable=False),
        sa.Column("party_version", sa.String(length=40), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.String(length=200), nullable=False),
        sa.Column("entry_version_key", sa.String(length=40), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("hit_id", sa.Integer(), nullable=False),
        sa.Column("merged_entity_id", sa.Integer(), nullable=True),
        sa.Column("judged_by_id", sa.Integer(), nullable=True),
        sa.Column("judged_by", sa.String(length=80), nullable=False),
        sa.Column("judged_dt", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["hit_id"], ["screening_hit.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["judged_by_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("screening_judgement", schema=None) as batch_op:
        batch_op.create_index(
            "ix_screening_judgement_pair", ["party_key", "list_id", "entry_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("screening_judgement", schema=None) as batch_op:
        batch_op.drop_index("ix_screening_judgement_pair")
    op.drop_table("screening_judgement")
    with op.batch_alter_table("screening_hit", schema=None) as batch_op:
        batch_op.drop_index("ix_screening_hit_subject")
        batch_op.drop_index("ix_screening_hit_party")
        batch_op.drop_index(batch_op.f("ix_screening_hit_unit_id"))
        batch_op.drop_index(batch_op.f("ix_screening_hit_list_id"))
        batch_op.drop_index(batch_op.f("ix_screening_hit_created_dt"))
    op.drop_table("screening_hit")
