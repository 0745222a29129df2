"""publication: opt-out, withdrawals, picked suggestions, their log; public flag on follow-up photos

Revision ID: 0006_publication
Revises: 0005_reports
Create Date: 2026-11-29 14:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0006_publication"
down_revision = "0005_reports"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "publication_opt_out",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_publication_opt_out_unit_id_unit")),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_publication_opt_out_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publication_opt_out")),
        sa.UniqueConstraint("unit_id", name=op.f("uq_publication_opt_out_unit_id")),
    )
    op.create_table(
        "publication_withdrawal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["period_id"], ["period.id"], name=op.f("fk_publication_withdrawal_period_id_period")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_publication_withdrawal_unit_id_unit")),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_publication_withdrawal_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publication_withdrawal")),
        sa.UniqueConstraint("period_id", "unit_id", name=op.f("uq_publication_withdrawal_period_id_unit_id")),
    )
    with op.batch_alter_table("publication_withdrawal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_publication_withdrawal_period_id"), ["period_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_publication_withdrawal_unit_id"), ["unit_id"], unique=False)
    op.create_table(
        "publication_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.CheckConstraint("action IN ('withdraw','republish','opt_out','opt_in','pick','unpick')",
                           name=op.f("ck_publication_log_action")),
        sa.ForeignKeyConstraint(["period_id"], ["period.id"], name=op.f("fk_publication_log_period_id_period")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_publication_log_unit_id_unit")),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_publication_log_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publication_log")),
    )
    with op.batch_alter_table("publication_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_publication_log_unit_id"), ["unit_id"], unique=False)
    op.create_table(
        "published_suggestion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["response_id"], ["response.id"], ondelete="CASCADE",
                                name=op.f("fk_published_suggestion_response_id_response")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_published_suggestion_unit_id_unit")),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_published_suggestion_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_published_suggestion")),
        sa.UniqueConstraint("response_id", name=op.f("uq_published_suggestion_response_id")),
    )
    with op.batch_alter_table("published_suggestion", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_published_suggestion_unit_id"), ["unit_id"], unique=False)
    with op.batch_alter_table("followup_photo", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table("followup_photo", schema=None) as batch_op:
        batch_op.drop_column("public")
    with op.batch_alter_table("published_suggestion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_published_suggestion_unit_id"))
    op.drop_table("published_suggestion")
    with op.batch_alter_table("publication_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_publication_log_unit_id"))
    op.drop_table("publication_log")
    with op.batch_alter_table("publication_withdrawal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_publication_withdrawal_unit_id"))
        batch_op.drop_index(batch_op.f("ix_publication_withdrawal_period_id"))
    op.drop_table("publication_withdrawal")
    op.drop_table("publication_opt_out")
