"""queue worker: report_job heartbeat/attempts, stored alerts, RTL reminders

Revision ID: 0012_queue_worker
Revises: 0011_online
Create Date: 2026-11-29 17:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0012_queue_worker"
down_revision = "0011_online"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("report_job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "stored_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("start", sa.DateTime(), nullable=False),
        sa.Column("end", sa.DateTime(), nullable=False),
        sa.Column("low", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_stored_alert_unit_id_unit"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_alert")),
    )
    op.create_index(op.f("ix_stored_alert_unit_id"), "stored_alert", ["unit_id"])
    op.create_table(
        "alert_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("marker", sa.String(length=200), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_alert_state_unit_id_unit"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_state")),
        sa.UniqueConstraint("unit_id", name=op.f("uq_alert_state_unit_id")),
    )
    op.create_table(
        "followup_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("first_on", sa.Date(), nullable=False),
        sa.Column("last_on", sa.Date(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["action_id"], ["followup_action.id"],
                                name=op.f("fk_followup_reminder_action_id_followup_action"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_followup_reminder_unit_id_unit"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_reminder")),
    )
    op.create_index(op.f("ix_followup_reminder_action_id"), "followup_reminder", ["action_id"])
    op.create_index(op.f("ix_followup_reminder_unit_id"), "followup_reminder", ["unit_id"])


def downgrade():
    op.drop_index(op.f("ix_followup_reminder_unit_id"), table_name="followup_reminder")
    op.drop_index(op.f("ix_followup_reminder_action_id"), table_name="followup_reminder")
    op.drop_table("followup_reminder")
    op.drop_table("alert_state")
    op.drop_index(op.f("ix_stored_alert_unit_id"), table_name="stored_alert")
    op.drop_table("stored_alert")
    with op.batch_alter_table("report_job", schema=None) as batch_op:
        batch_op.drop_column("attempts")
        batch_op.drop_column("heartbeat_at")
