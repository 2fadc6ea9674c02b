"""The ``stages:`` section flattened into plain values the stage machine reads per person.

Built once per rules file, so deciding a stage touches no pydantic model and formats no
strings in the common case: every threshold label is prepared here.
"""

from __future__ import annotations

from dataclasses import dataclass

from connector.funnel import Seniority
from connector.rules.model import (
    BantPolicy,
    ClosedLost,
    ManualStage,
    ProspectCriterion,
    StagesConfig,
)

__all__ = ["StagePolicy", "stage_policy"]


@dataclass(frozen=True, slots=True)
class StagePolicy:
    fit_min: float | None  # set when fit_score is a criterion
    total_min: float | None
    need: bool
    authority: bool
    authority_seniority: frozenset[Seniority]
    # For each bit mask of criteria met (1 fit score, 2 total score, 4 need, 8 authority):
    # ("fit score >= 40, authority", ("prospect: fit score >= 40", ...), fit criteria hold?),
    # so deciding a stage formats no strings.
    criteria_text: tuple[tuple[str, tuple[str, ...], bool], ...]
    on_open_deal: bool
    on_bant: bool
    bant_requires: tuple[str, ...]
    timeline_days: int
    bant_promote: bool
    disqualify_on_status: bool
    disqualify_on_fit: bool
    recycle_on_status: bool
    recycle_engagement_min: float | None
    never_recycle: frozenset[str]
    closed_lost: ClosedLost
    closed_lost_reason: str
    manual: ManualStage


def stage_policy(config: StagesConfig) -> StagePolicy:
    prospect = config.prospect
    criteria = set(prospect.criteria)
    fit_min = prospect.fit_score_min if ProspectCriterion.FIT_SCORE in criteria else None
    total_min = prospect.total_score_min if ProspectCriterion.TOTAL_SCORE in criteria else None
    labels = (
        f"fit score >= {fit_min or 0:g}",
        f"score >= {total_min or 0:g}",
        "stated need",
        "authority",
    )
    texts: list[tuple[str, tuple[str, ...], bool]] = []
    for mask in range(16):
        met = [label for bit, label in enumerate(labels) if mask & (1 << bit)]
        holds = len(met) == len(criteria) if prospect.require == "all" else bool(met)
        texts.append((", ".join(met), tuple(f"prospect: {label}" for label in met), holds))
    return StagePolicy(
        fit_min=fit_min,
        total_min=total_min,
        need=ProspectCriterion.NEED in criteria,
        authority=ProspectCriterion.AUTHORITY in criteria,
        authority_seniority=frozenset(prospect.authority_seniority) - {Seniority.UNKNOWN},
        criteria_text=tuple(texts),
        on_open_deal=config.opportunity.on_open_deal,
        on_bant=config.opportunity.on_bant,
        bant_requires=tuple(config.opportunity.bant_requires),
        timeline_days=config.opportunity.timeline_days,
        bant_promote=config.opportunity.bant_without_two_way is BantPolicy.PROMOTE,
        disqualify_on_status=config.disqualify.on_crm_status,
        disqualify_on_fit=config.disqualify.on_fit_rules,
        recycle_on_status=config.recycle.on_crm_status,
        recycle_engagement_min=config.recycle.engagement_since_disqualified_min,
        never_recycle=frozenset(config.recycle.never_for_reasons),
        closed_lost=config.closed_lost,
        closed_lost_reason=config.closed_lost_reason,
        manual=config.manual_stage,
    )
