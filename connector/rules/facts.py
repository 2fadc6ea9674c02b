"""What the CRMs say about a person beyond the canonical :class:`~connector.funnel.Person`.

The sync engine fills these from mapped fields and related records (deals, opportunities,
status values); the rules read them but never fetch them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from connector.errors import System
from connector.funnel import FunnelStage, UtcDatetime

__all__ = ["NO_FACTS", "Facts", "SystemStage"]


class SystemStage(BaseModel):
    """The stage one CRM shows now, and whether a sales rep set it by hand."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    system: System
    stage: FunnelStage
    manual: bool = False


class Facts(BaseModel):
    """Deal, status and timeline facts for one person, as of the evaluation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    open_deal: bool = False  # an open Salesforce Opportunity or HubSpot deal
    closed_won: bool = False
    closed_lost: bool = False
    # A status value the mapping maps to "disqualified", and the reason it gives.
    disqualified_reason: str | None = Field(default=None, min_length=1, max_length=255)
    disqualified_at: UtcDatetime | None = None
    recycle_requested: bool = False  # a status value the mapping maps to "recycle"
    timeline_days: int | None = Field(default=None, ge=0)  # BANT timeline from mapped fields
    stages: tuple[SystemStage, ...] = ()


NO_FACTS = Facts()
