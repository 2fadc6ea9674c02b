"""People and companies in the canonical funnel schema."""

from __future__ import annotations

from enum import StrEnum
from typing import Final, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connector.funnel._values import Email, UtcDatetime, normalise_email
from connector.funnel.refs import SourceRef, System
from connector.funnel.score import Score
from connector.funnel.stage import FunnelStage

__all__ = ["LONGEST_TEXT", "Company", "Criterion", "Person", "Qualification", "Seniority"]

LONGEST_TEXT: Final = 131_072
"""The longest text a CRM field holds: Salesforce's Long Text Area (131,072 characters; HubSpot
string properties hold 65,536). Free-text fields that users type into either CRM are held up to
it, so the canonical record never refuses a value a CRM holds: a refused value was dropped from
the person, and the next evaluation copied the other CRM's truncated copy over the original
(issue 18: a 60,000-character HubSpot title cut to Salesforce's 128 one run later)."""

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

    name: str | None = Field(default=None, max_length=LONGEST_TEXT)
    domain: str | None = Field(default=None, max_length=255)
    industry: str | None = Field(default=None, max_length=LONGEST_TEXT)
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
    first_name: str | None = Field(default=None, max_length=LONGEST_TEXT)
    last_name: str | None = Field(default=None, max_length=LONGEST_TEXT)
    title: str | None = Field(default=None, max_length=LONGEST_TEXT)
    seniority: Seniority = Seniority.UNKNOWN
    phone: str | None = Field(default=None, max_length=LONGEST_TEXT)
    country: str | None = Field(default=None, max_length=LONGEST_TEXT)
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
