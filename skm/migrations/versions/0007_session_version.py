"""user.session_version: revocable sessions

Revision ID: 0007_session_version
Revises: 0006_publication
Create Date: 2026-11-29 14:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0007_session_version"
down_revision = "0006_publication"
branch_labels = None
depends_on = None


def upgrade():
    # Empty for existing users: their old cookies no longer match and they sign in again.
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_version", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("session_version")
