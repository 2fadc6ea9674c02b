"""Scores and their explanations."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Contribution", "Score", "ScoreKind"]


class ScoreKind(StrEnum):
    FIT = "fit"
    ENGAGEMENT = "engagement"


class Contribution(BaseModel):
    """One rule that fired and what it added (after decay for engagement rules)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_id: str = Field(min_length=1)
    kind: ScoreKind
    points: float
    reason: str = ""


class Score(BaseModel):
    """Fit, engagement and the combined score (0..100), with every contribution kept."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fit: float
    engagement: float
    total: float = Field(ge=0, le=100)
    band: str = ""
    contributions: tuple[Contribution, ...] = ()
    rules_version: str = ""
