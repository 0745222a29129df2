"""online survey: kiosk_survey rows for the visitor's own browser (channel, browser_key,
ticket_id, daily_key; device_id nullable) and wrong ticket codes (ticket_attempt)

Revision ID: 0013_online_survey
Revises: 0012_queue_worker
Create Date: 2026-11-29 17:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0013_online_survey"
down_revision = "0012_queue_worker"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("kiosk_survey", schema=None) as batch_op:
        batch_op.alter_column("device_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("channel", sa.String(length=10), server_default="kiosk", nullable=False))
        batch_op.add_column(sa.Column("browser_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("ticket_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("daily_key", sa.String(length=100), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_kiosk_survey_ticket_id_survey_ticket"), "survey_ticket",
                                    ["ticket_id"], ["id"])
        batch_op.create_unique_constraint(batch_op.f("uq_kiosk_survey_daily_key"), ["daily_key"])
        batch_op.create_index("ix_kiosk_survey_browser_started", ["browser_key", "started_at"])
        batch_op.create_index("ix_kiosk_survey_unit_channel_finished", ["unit_id", "channel", "finished_at"])
    op.create_table(
        "ticket_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("browser_key", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("attempted_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_attempt")),
    )
    op.create_index("ix_ticket_attempt_browser_at", "ticket_attempt", ["browser_key", "attempted_at"])
    op.create_index("ix_ticket_attempt_client_at", "ticket_attempt", ["client", "attempted_at"])


def downgrade():
    op.drop_index("ix_ticket_attempt_client_at", table_name="ticket_attempt")
    op.drop_index("ix_ticket_attempt_browser_at", table_name="ticket_attempt")
    op.drop_table("ticket_attempt")
    op.execute("DELETE FROM kiosk_survey WHERE device_id IS NULL")
    with op.batch_alter_table("kiosk_survey", schema=None) as batch_op:
        batch_op.drop_index("ix_kiosk_survey_unit_channel_finished")
        batch_op.drop_index("ix_kiosk_survey_browser_started")
        batch_op.drop_constraint(batch_op.f("uq_kiosk_survey_daily_key"), type_="unique")
        batch_op.drop_constraint(batch_op.f("fk_kiosk_survey_ticket_id_survey_ticket"), type_="foreignkey")
        batch_op.drop_column("daily_key")
        batch_op.drop_column("ticket_id")
        batch_op.drop_column("browser_key")
        batch_op.drop_column("channel")
        batch_op.alter_column("device_id", existing_type=sa.Integer(), nullable=False)
