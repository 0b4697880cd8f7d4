"""Control results are append-only: every recorded version, and the version the result holds.

Revision ID: a3c5e7f91b20
Revises: b7e3a5c9d1f2
Create Date: 2026-12-03 05:10:00
"""

import sqlalchemy as sa
from alembic import op

import app.core.types

revision = "a3c5e7f91b20"
down_revision = "b7e3a5c9d1f2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "risk_control_result_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("declaration_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("is_inspected", sa.Boolean(), nullable=False),
        sa.Column("is_compliant", sa.Boolean(), nullable=True),
        sa.Column("fraud_type", sa.String(length=30), nullable=True),
        sa.Column("is_critical", sa.Boolean(), nullable=False),
        sa.Column("revenue_recovered", sa.Float(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=True),
        sa.Column("is_goods_seized", sa.Boolean(), nullable=False),
        sa.Column("seizure_case_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("recorded_dt", app.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by_name", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(["declaration_id"], ["risk_declaration.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("declaration_id", "version"),
    )
    with op.batch_alter_table("risk_control_result_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_risk_control_result_version_declaration_id"),
            ["declaration_id"],
            unique=False,
        )
    with op.batch_alter_table("risk_control_result", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    # Results recorded before versions existed become their version 1.
    op.execute(
        "INSERT INTO risk_control_result_version (declaration_id, version, is_inspected, "
        "is_compliant, fraud_type, is_critical, revenue_recovered, findings, is_goods_seized, "
        "seizure_case_id, source, recorded_dt, recorded_by_id, recorded_by_name) "
        "SELECT declaration_id, 1, is_inspected, is_compliant, fraud_type, is_critical, "
        "revenue_recovered, findings, is_goods_seized, seizure_case_id, source, recorded_dt, "
        "recorded_by_id, '' FROM risk_control_result"
    )


def downgrade():
    with op.batch_alter_table("risk_control_result", schema=None) as batch_op:
        batch_op.drop_column("version")
    with op.batch_alter_table("risk_control_result_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_control_result_version_declaration_id"))
    op.drop_table("risk_control_result_version")
