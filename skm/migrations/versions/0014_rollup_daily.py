"""daily rollups of answers and respondents (issue 14), filled from the existing responses

Revision ID: 0014_rollup_daily
Revises: 0013_online_survey
Create Date: 2026-11-29 17:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0014_rollup_daily"
down_revision = "0013_online_survey"
branch_labels = None
depends_on = None



def _keys():
    return [
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("service_key", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("excluded", sa.Boolean(), nullable=False),
    ]


KEY_NAMES = ["unit_id", "day", "service_key", "channel", "verified", "excluded"]

FILL_ANSWERS = """
INSERT INTO rollup_answer_day (unit_id, day, service_key, channel, verified, excluded, element_id, n, total)
SELECT a.unit_id, a.survey_date, COALESCE(a.service_id, 0), r.channel, r.ticket_id IS NOT NULL, a.excluded,
       a.element_id, COUNT(*), SUM(a.rating)
FROM answer a JOIN response r ON r.id = a.response_id
GROUP BY a.unit_id, a.survey_date, COALESCE(a.service_id, 0), r.channel, r.ticket_id IS NOT NULL, a.excluded,
         a.element_id
"""
_BASE = ("SELECT unit_id, survey_date AS day, COALESCE(service_id, 0) AS service_key, channel, "
         "ticket_id IS NOT NULL AS verified, excluded, '{field}' AS field, {value} AS value FROM response")
_VALUES = {
    "questionnaire": "CAST(questionnaire_id AS VARCHAR(20))",
    "flag": "CASE WHEN flagged AND quarantined THEN '11' WHEN flagged THEN '10' "
            "WHEN quarantined THEN '01' ELSE '00' END",
    "gender": "COALESCE(gender, '')",
    "education": "COALESCE(education, '')",
    "occupation": "COALESCE(occupation, '')",
    "age": "COALESCE(CAST(age AS VARCHAR(20)), '')",
}
FILL_RESPONSES = (
    "INSERT INTO rollup_response_day (unit_id, day, service_key, channel, verified, excluded, field, value, n) "
    "SELECT unit_id, day, service_key, channel, verified, excluded, field, value, COUNT(*) FROM ("
    + " UNION ALL ".join(_BASE.format(field=f, value=v) for f, v in _VALUES.items())
    + ") parts GROUP BY unit_id, day, service_key, channel, verified, excluded, field, value"
)


def upgrade():
    op.create_table(
        "rollup_answer_day",
        *_keys(),
        sa.Column("element_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY_NAMES, "element_id", name=op.f("pk_rollup_answer_day")),
    )
    op.create_table(
        "rollup_response_day",
        *_keys(),
        sa.Column("field", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=20), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY_NAMES, "field", "value", name=op.f("pk_rollup_response_day")),
    )
    op.execute(FILL_ANSWERS)
    op.execute(FILL_RESPONSES)


def downgrade():
    op.drop_table("rollup_response_day")
    op.drop_table("rollup_answer_day")
