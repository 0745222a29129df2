"""flagged kiosk responses wait in quarantine (response.quarantined)

Revision ID: 0009_quarantine
Revises: 0008_kiosk_outbox
Create Date: 2026-11-29 14:30:00

A quarantined response is also `excluded` (response and answers), so every figure and
the index-only scoring over `answer` already leave it out; no index changes.
"""
from alembic import op
import sqlalchemy as sa


revision = "0009_quarantine"
down_revision = "0008_kiosk_outbox"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quarantined", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_column("quarantined")
