"""The schema of ``config/rules.yaml``: strict pydantic models, no expressions, no templating.

Every section is closed (``extra="forbid"``), so a misspelt key is an error with a "did you
mean" hint rather than a silently ignored setting. See the shipped ``config/rules.yaml`` for a
commented example of every key.
"""

from __future__ import annotations

from enum import StrEnum
from itertools import pairwise
from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from connector.funnel import ActivityKind, Direction, Outcome, Seniority
from connector.rules._conditions import Condition

__all__ = [
    "Band",
    "Bands",
    "BantPolicy",
    "ClosedLost",
    "Decay",
    "DisqualifyConfig",
    "EngagementConfig",
    "EngagementGroup",
    "EngagementRule",
    "FitConfig",
    "FitRule",
    "ManualStage",
    "OpportunityConfig",
    "ProspectConfig",
    "ProspectCriterion",
    "RecycleConfig",
    "RulesFile",
    "ScoreConfig",
    "StagesConfig",
]

_STRICT = ConfigDict(frozen=True, extra="forbid")

RuleId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Points = Annotated[float, Field(ge=-100, le=100)]
Cap = Annotated[float, Field(gt=0, le=100)]
Threshold = Annotated[float, Field(ge=0, le=100)]
Reason = Annotated[str, Field(min_length=1, max_length=120)]


def _listify(value: object) -> object:
    """Let admins write ``outcome: clicked`` as well as ``outcome: [clicked, opened]``."""
    return [value] if isinstance(value, str) else value


class FitRule(BaseModel):
    """Points for who the person is; all ``when`` conditions must hold for the rule to fire."""

    model_config = _STRICT

    id: RuleId
    points: Points
    when: list[Condition] = Field(min_length=1)
    reason: Reason | None = None
    disqualify: Reason | None = None  # firing this rule disqualifies, with this reason


class FitConfig(BaseModel):
    model_config = _STRICT

    base: Threshold = 0
    rules: list[FitRule] = Field(default_factory=list)


class Decay(BaseModel):
    """How an engagement group's points fade with the activity's age at ``as_of``.

    ``half_life``: halves every ``days``; ``linear``: falls in a straight line to zero at
    ``days``; ``window``: full points for ``days``, then none; ``none``: never fades.
    """

    model_config = _STRICT

    mode: Literal["half_life", "linear", "window", "none"]
    days: float | None = Field(default=None, gt=0, le=3650)

    @model_validator(mode="after")
    def _days_match_mode(self) -> Self:
        if self.mode == "none" and self.days is not None:
            raise ValueError("decay mode 'none' takes no days")
        if self.mode != "none" and self.days is None:
            raise ValueError(f"decay mode {self.mode!r} needs days (a positive number)")
        return self


class EngagementRule(BaseModel):
    """Points per activity of one kind, optionally narrowed by direction and outcome."""

    model_config = _STRICT

    id: RuleId
    kind: ActivityKind
    direction: Annotated[list[Direction], BeforeValidator(_listify)] = Field(default_factory=list)
    outcome: Annotated[list[Outcome], BeforeValidator(_listify)] = Field(default_factory=list)
    points: Points
    cap: Cap | None = None  # most points (in magnitude) this rule adds, after decay
    reason: Reason | None = None


class EngagementGroup(BaseModel):
    model_config = _STRICT

    id: RuleId
    decay: Decay = Decay(mode="none")
    cap: Cap | None = None
    rules: list[EngagementRule] = Field(min_length=1)


class EngagementConfig(BaseModel):
    model_config = _STRICT

    groups: list[EngagementGroup] = Field(default_factory=list)


class ScoreConfig(BaseModel):
    model_config = _STRICT

    fit_weight: float = Field(default=0.5, ge=0, le=1)
    engagement_weight: float = Field(default=0.5, ge=0, le=1)

    @model_validator(mode="after")
    def _some_weight(self) -> Self:
        if self.fit_weight + self.engagement_weight == 0:
            raise ValueError("fit_weight and engagement_weight cannot both be 0")
        return self


class Band(BaseModel):
    model_config = _STRICT

    name: Annotated[str, Field(min_length=1, max_length=3)]
    min: Threshold


def _check_bands(name: str, bands: list[Band]) -> None:
    mins = [band.min for band in bands]
    if not mins:
        return
    if any(high <= low for high, low in pairwise(mins)):
        raise ValueError(
            f"{name} bands must be listed from the highest min to the lowest, each min strictly "
            f"lower than the one before (got {mins})"
        )
    if mins[-1] != 0:
        raise ValueError(f"the last {name} band needs min: 0 so every score gets a band")
    names = [band.name for band in bands]
    if len(set(names)) != len(names):
        raise ValueError(f"{name} band names repeat: {names}")


class Bands(BaseModel):
    """Fit bands (A/B/C) × engagement bands (1/2/3): a score's band reads like ``A2``."""

    model_config = _STRICT

    fit: list[Band] = Field(min_length=1)
    engagement: list[Band] = Field(min_length=1)

    @field_validator("fit", "engagement")
    @classmethod
    def _ordered(cls, bands: list[Band], info: ValidationInfo) -> list[Band]:
        _check_bands(str(info.field_name), bands)
        return bands


class ProspectCriterion(StrEnum):
    FIT_SCORE = "fit_score"  # fit score >= fit_score_min
    TOTAL_SCORE = "total_score"  # combined score >= total_score_min
    NEED = "need"  # a stated need (BANT need met)
    AUTHORITY = "authority"  # BANT authority met, or seniority in authority_seniority


class ProspectConfig(BaseModel):
    """Lead → prospect: two-way communication (always required) and these fit criteria."""

    model_config = _STRICT

    require: Literal["any", "all"] = "any"
    criteria: list[ProspectCriterion] = Field(min_length=1)
    fit_score_min: Threshold | None = None
    total_score_min: Threshold | None = None
    authority_seniority: list[Seniority] = Field(default_factory=list)

    @model_validator(mode="after")
    def _thresholds_given(self) -> Self:
        if ProspectCriterion.FIT_SCORE in self.criteria and self.fit_score_min is None:
            raise ValueError("criterion fit_score needs fit_score_min")
        if ProspectCriterion.TOTAL_SCORE in self.criteria and self.total_score_min is None:
            raise ValueError("criterion total_score needs total_score_min")
        return self


BantCriterion = Literal["budget", "authority", "need", "timeline"]
_ALL_BANT: tuple[BantCriterion, ...] = ("budget", "authority", "need", "timeline")


class BantPolicy(StrEnum):
    PROMOTE = "promote"  # BANT alone makes an opportunity
    HOLD = "hold"  # BANT counts only once two-way communication has happened


class OpportunityConfig(BaseModel):
    """Prospect → opportunity: BANT met, or an open deal / Salesforce Opportunity exists."""

    model_config = _STRICT

    on_open_deal: bool = True
    on_bant: bool = True
    bant_requires: list[BantCriterion] = Field(
        default_factory=lambda: list(_ALL_BANT), min_length=1
    )
    timeline_days: int = Field(default=90, ge=1, le=3650)
    bant_without_two_way: BantPolicy = BantPolicy.HOLD


class DisqualifyConfig(BaseModel):
    model_config = _STRICT

    on_crm_status: bool = True  # a status value the mapping maps to "disqualified"
    on_fit_rules: bool = True  # fit rules with `disqualify:`


class RecycleConfig(BaseModel):
    """Disqualified → lead happens only through these explicit rules."""

    model_config = _STRICT

    on_crm_status: bool = False  # a status value the mapping maps to "recycle"
    engagement_since_disqualified_min: Threshold | None = None
    never_for_reasons: list[Reason] = Field(default_factory=list)


class ClosedLost(StrEnum):
    KEEP = "keep"  # a lost deal changes nothing
    LEAD = "lead"  # explicit demotion back to lead (an opportunity becomes a lead again)
    DISQUALIFY = "disqualify"  # disqualify with closed_lost_reason


class ManualStage(StrEnum):
    # A stage a rep set by hand stays on every later run (Person.stage_pinned) until a rep sets
    # another one; closed-won still makes a customer.
    PIN = "pin"
    FLOOR = "floor"  # start from the rep's stage; evidence may still move it forward
    IGNORE = "ignore"  # the rules decide alone


class StagesConfig(BaseModel):
    model_config = _STRICT

    prospect: ProspectConfig
    opportunity: OpportunityConfig = OpportunityConfig()
    disqualify: DisqualifyConfig = DisqualifyConfig()
    recycle: RecycleConfig = RecycleConfig()
    closed_lost: ClosedLost = ClosedLost.KEEP
    closed_lost_reason: Reason = "Closed lost"
    manual_stage: ManualStage = ManualStage.PIN


class RulesFile(BaseModel):
    """The whole rules file. ``version`` is recorded with every decision."""

    model_config = _STRICT

    version: Annotated[str, Field(min_length=1, max_length=40)]
    description: str = ""
    lists: dict[
        Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")],
        list[Annotated[str, Field(min_length=1, max_length=255)]],
    ] = Field(default_factory=dict)
    fit: FitConfig = FitConfig()
    engagement: EngagementConfig = EngagementConfig()
    score: ScoreConfig = ScoreConfig()
    bands: Bands
    stages: StagesConfig
