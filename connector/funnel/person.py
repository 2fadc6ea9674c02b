"""People and companies in the canonical funnel schema."""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connector.funnel._values import Email, UtcDatetime, normalise_email
from connector.funnel.refs import SourceRef, System
from connector.funnel.score import Score
from connector.funnel.stage import FunnelStage

__all__ = ["Company", "Criterion", "Person", "Qualification", "Seniority"]

_FROZEN = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Seniority(StrEnum):
    EXECUTIVE = "executive"
    VP = "vp"
    DIRECTOR = "director"
    MANAGER = "manager"
    INDIVIDUAL = "individual"
    STUDENT = "student"
    UNKNOWN = "unknown"


class Company(BaseModel):
    model_config = _FROZEN

    name: str | None = Field(default=None, max_length=255)
    domain: str | None = Field(default=None, max_length=255)
    industry: str | None = Field(default=None, max_length=120)
    employee_count: int | None = Field(default=None, ge=0)
    annual_revenue: float | None = Field(default=None, ge=0)

    @field_validator("domain")
    @classmethod
    def _lower_domain(cls, value: str | None) -> str | None:
        return value.lower().removeprefix("www.") if value else value


class Criterion(BaseModel):
    """One BANT criterion: whether it is met, the evidence, and where the evidence came from."""

    model_config = _FROZEN

    met: bool
    evidence: str = Field(default="", max_length=1000)
    source: SourceRef | None = None
    observed_at: UtcDatetime | None = None


class Qualification(BaseModel):
    """BANT: budget, authority, need, timeline. ``None`` means nothing is known yet."""

    model_config = _FROZEN

    budget: Criterion | None = None
    authority: Criterion | None = None
    need: Criterion | None = None
    timeline: Criterion | None = None

    def met(self) -> frozenset[str]:
        """The names of the criteria that are met."""
        return frozenset(
            name
            for name in ("budget", "authority", "need", "timeline")
            if (criterion := getattr(self, name)) is not None and criterion.met
        )

    def is_bant(self) -> bool:
        return len(self.met()) == 4


class Person(BaseModel):
    """One human across both CRMs: the canonical funnel record."""

    model_config = _FROZEN

    id: str = Field(min_length=1, max_length=64)
    email: Email | None = None
    other_emails: tuple[Email, ...] = ()
    first_name: str | None = Field(default=None, max_length=80)
    last_name: str | None = Field(default=None, max_length=80)
    title: str | None = Field(default=None, max_length=255)
    seniority: Seniority = Seniority.UNKNOWN
    phone: str | None = Field(default=None, max_length=40)
    country: str | None = Field(default=None, max_length=80)
    owner: str | None = Field(default=None, max_length=80)
    company: Company = Company()
    qualification: Qualification = Qualification()
    stage: FunnelStage = FunnelStage.LEAD
    stage_pinned: bool = False
    """A rep set ``stage`` by hand in a CRM and the rules pin it (``manual_stage: pin``): it
    holds on later runs, when the CRMs no longer show it as a fresh edit, until a rep sets
    another stage by hand or a deal closes won."""
    disqualified_reason: str | None = Field(default=None, max_length=255)
    disqualified_at: UtcDatetime | None = None
    """While disqualified: when crmsync first found the person disqualified. Engagement after
    it is what a recycle rule (``engagement_since_disqualified_min``) counts."""
    score: Score | None = None
    sources: tuple[SourceRef, ...] = ()
    updated_at: UtcDatetime | None = None

    @field_validator("other_emails")
    @classmethod
    def _dedupe_other_emails(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(value))

    @model_validator(mode="after")
    def _check_consistency(self) -> Self:
        if self.stage is FunnelStage.DISQUALIFIED and not self.disqualified_reason:
            raise ValueError("disqualified_reason: a disqualified person needs a reason")
        if self.stage is not FunnelStage.DISQUALIFIED and self.disqualified_reason:
            raise ValueError(
                f"disqualified_reason: only a disqualified person has one (stage is {self.stage})"
            )
        if self.email is not None and self.email in self.other_emails:
            raise ValueError("other_emails: repeats the primary email")
        return self

    def refs(self, system: System) -> tuple[SourceRef, ...]:
        """The records this person has in one system."""
        return tuple(ref for ref in self.sources if ref.system is system)

    def all_emails(self) -> tuple[str, ...]:
        return ((self.email,) if self.email else ()) + self.other_emails

    @staticmethod
    def normalise_email(value: str) -> str:
        return normalise_email(value)
