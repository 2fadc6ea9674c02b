"""The canonical funnel model every CRM record is normalised into."""

from connector.funnel._values import (
    Email,
    UtcDatetime,
    email_or_none,
    normalise_email,
    require_utc,
)
from connector.funnel.activity import (
    ACTIVITY_TYPES,
    TWO_WAY,
    Activity,
    ActivityKind,
    Direction,
    Outcome,
    Timeline,
    is_two_way,
)
from connector.funnel.person import (
    LONGEST_TEXT,
    Company,
    Criterion,
    Person,
    Qualification,
    Seniority,
)
from connector.funnel.refs import SourceRef, System
from connector.funnel.score import Contribution, Score, ScoreKind
from connector.funnel.seniority import seniority_from_title
from connector.funnel.stage import (
    FUNNEL_ORDER,
    TRANSITIONS,
    FunnelStage,
    Move,
    Permission,
    Transition,
    check_transition,
    classify_move,
)

__all__ = [
    "ACTIVITY_TYPES",
    "FUNNEL_ORDER",
    "LONGEST_TEXT",
    "TRANSITIONS",
    "TWO_WAY",
    "Activity",
    "ActivityKind",
    "Company",
    "Contribution",
    "Criterion",
    "Direction",
    "Email",
    "FunnelStage",
    "Move",
    "Outcome",
    "Permission",
    "Person",
    "Qualification",
    "Score",
    "ScoreKind",
    "Seniority",
    "SourceRef",
    "System",
    "Timeline",
    "Transition",
    "UtcDatetime",
    "check_transition",
    "classify_move",
    "email_or_none",
    "is_two_way",
    "normalise_email",
    "require_utc",
    "seniority_from_title",
]
