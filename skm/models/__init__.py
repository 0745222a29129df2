"""The data model, one module per area; import models from here.

Modules inside the package import each other directly (survey first, then the areas
that refer to it), never this package, so there are no import cycles.
"""
from skm.core.clock import TIMEZONES, utcnow
from skm.models.accounts import User
from skm.models.admin import AlertRule, AlertState, LoginThrottle, PeriodUnitLog, StoredAlert
from skm.models.base import CHANNELS, PERIOD_KINDS, ROLES
from skm.models.followup import (
    ACTION_STATUSES,
    FollowUpAction,
    FollowUpHistory,
    FollowUpPhoto,
    FollowUpPlan,
    FollowUpPriority,
    FollowUpReminder,
)
from skm.models.kiosk import SURVEY_STATES, Device, KioskPinAttempt, KioskSurvey, TicketAttempt
from skm.models.online import SurveyTicket
from skm.models.publication import (
    PUBLICATION_ACTIONS,
    PublicationLog,
    PublicationOptOut,
    PublicationWithdrawal,
    PublishedSuggestion,
)
from skm.models.reports import ReportJob, ReportSetting, ReportText
from skm.models.rollup import RollupAnswerDay, RollupResponseDay
from skm.models.survey import (
    Answer,
    Element,
    ImportBatch,
    Period,
    PeriodUnit,
    Questionnaire,
    Response,
    Service,
    Unit,
    user_unit,
)

__all__ = [
    "ACTION_STATUSES", "CHANNELS", "PERIOD_KINDS", "ROLES", "SURVEY_STATES", "TIMEZONES",
    "AlertRule", "AlertState", "Answer", "Device", "Element", "FollowUpAction", "FollowUpHistory", "FollowUpPhoto",
    "FollowUpPlan", "FollowUpPriority", "FollowUpReminder", "ImportBatch", "KioskPinAttempt", "KioskSurvey", "LoginThrottle",
    "Period", "PeriodUnit", "PeriodUnitLog", "PUBLICATION_ACTIONS", "PublicationLog", "PublicationOptOut",
    "PublicationWithdrawal", "PublishedSuggestion", "Questionnaire", "ReportJob", "ReportSetting", "ReportText", "Response",
    "RollupAnswerDay", "RollupResponseDay", "Service", "StoredAlert", "SurveyTicket", "TicketAttempt", "Unit",
    "User", "user_unit", "utcnow",
]

# The session listeners that keep the daily rollups in step with every ORM write.
import skm.scoring.rollup  # noqa: E402,F401  (after the models it imports)
