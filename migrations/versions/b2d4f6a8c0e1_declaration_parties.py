"""Named parties of a declaration (issue 20): risk_declaration_party keeps each party's role,
kind, name, country, identifiers and birth date as the declaration system sent them.

Revision ID: b2d4f6a8c0e1
Revises: a7c9e1b3d5f8
Create Date: 2026-12-03 07:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b2d4f6a8c0e1"
down_revision = "a7c9e1b3d5f8"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "risk_declaration_party",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("declaration_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("identifiers", sa.JSON(), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["declaration_id"], ["risk_declaration.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("risk_declaration_party", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_risk_declaration_party_declaration_id"),
            ["declaration_id"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("risk_declaration_party", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_declaration_party_declaration_id"))
    op.drop_table("risk_declaration_party")
