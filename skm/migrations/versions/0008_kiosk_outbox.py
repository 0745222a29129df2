"""kiosk outbox size per tablet

Revision ID: 0008_kiosk_outbox
Revises: 0007_session_version
Create Date: 2026-11-29 14:25:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0008_kiosk_outbox"
down_revision = "0007_session_version"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("device") as batch_op:
        batch_op.add_column(sa.Column("outbox_size", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("device") as batch_op:
        batch_op.drop_column("outbox_size")
