"""online channel: one-time survey tickets, response.ticket_id, unit.online_enabled

Revision ID: 0011_online
Revises: 0010_report_settings
Create Date: 2026-11-29 17:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0011_online"
down_revision = "0010_report_settings"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "survey_ticket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("batch", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("spent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_survey_ticket_unit_id_unit")),
        sa.ForeignKeyConstraint(["service_id"], ["service.id"], name=op.f("fk_survey_ticket_service_id_service")),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"], name=op.f("fk_survey_ticket_created_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_ticket")),
        sa.UniqueConstraint("code", name=op.f("uq_survey_ticket_code")),
    )
    op.create_index("ix_survey_ticket_unit_created", "survey_ticket", ["unit_id", "created_at"])
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ticket_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_response_ticket_id"), ["ticket_id"])
        batch_op.create_foreign_key(batch_op.f("fk_response_ticket_id_survey_ticket"), "survey_ticket",
                                    ["ticket_id"], ["id"])
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("online_enabled", sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade():
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_column("online_enabled")
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_response_ticket_id_survey_ticket"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_response_ticket_id"), type_="unique")
        batch_op.drop_column("ticket_id")
    op.drop_index("ix_survey_ticket_unit_created", table_name="survey_ticket")
    op.drop_table("survey_ticket")
