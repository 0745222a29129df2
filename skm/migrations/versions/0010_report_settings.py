"""report settings (date and signatories per unit and period) and a unit's report texts

Revision ID: 0010_report_settings
Revises: 0009_quarantine
Create Date: 2026-11-29 15:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0010_report_settings"
down_revision = "0009_quarantine"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "report_setting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("head_name", sa.String(length=200), nullable=False),
        sa.Column("head_position", sa.String(length=200), nullable=False),
        sa.Column("head_rank", sa.String(length=200), nullable=False),
        sa.Column("head_nip", sa.String(length=30), nullable=False),
        sa.Column("officer_name", sa.String(length=200), nullable=False),
        sa.Column("officer_nip", sa.String(length=30), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_report_setting_unit_id_unit")),
        sa.ForeignKeyConstraint(["period_id"], ["period.id"], name=op.f("fk_report_setting_period_id_period")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_setting")),
        sa.UniqueConstraint("unit_id", "period_id", name="uq_report_setting_unit_period"),
    )
    with op.batch_alter_table("report_setting", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_setting_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_report_setting_period_id"), ["period_id"], unique=False)
    op.create_table(
        "report_text",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=True),
        sa.Column("element_code", sa.String(length=10), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_report_text_unit_id_unit")),
        sa.ForeignKeyConstraint(["period_id"], ["period.id"], name=op.f("fk_report_text_period_id_period")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_text")),
        sa.UniqueConstraint("unit_id", "key", "period_id", "element_code", name="uq_report_text"),
    )
    with op.batch_alter_table("report_text", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_text_unit_id"), ["unit_id"], unique=False)


def downgrade():
    with op.batch_alter_table("report_text", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_text_unit_id"))
    op.drop_table("report_text")
    with op.batch_alter_table("report_setting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_setting_period_id"))
        batch_op.drop_index(batch_op.f("ix_report_setting_unit_id"))
    op.drop_table("report_setting")
