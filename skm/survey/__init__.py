"""Units, questionnaires, profile questions, periods and responses."""
