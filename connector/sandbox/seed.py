"""A deterministic synthetic sales-funnel world, shared by both CRM emulators.

Everything is drawn from ``random.Random`` instances derived from the seed and from ``as_of``;
nothing reads the wall clock or the global random state, so one seed always yields the same
people, companies, activities and ground-truth outcomes.

How the world is shaped:

* each person has a latent *fit* (seniority, company size, industry) and *engagement* (how much
  two-way activity they had); stage and outcome are drawn from both, so scoring rules can be
  backtested against ``outcome`` and beat chance;
* roughly 50% leads, 22% prospects, 12% opportunities, 6% customers and 10% disqualified;
* ``overlap`` of the people exist in both CRMs with the same e-mail; of the rest, 60% are only in
  Salesforce and 40% only in HubSpot;
* about 17% of the people in both systems have a HubSpot stage one step away from Salesforce's;
* about 2% of Salesforce people have a duplicate Lead with the same e-mail;
* a person whose ``salesforce_object`` is ``"Contact"`` and who has ``lead_converted`` came
  from a converted Lead: the Salesforce emulator stores the converted Lead as well, linked to
  the Contact, its Account and (for opportunities and customers) an Opportunity.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Final, Literal

from connector.errors import System
from connector.funnel import ActivityKind, Direction, FunnelStage, Outcome, Seniority
from connector.sandbox import _seedvocab as vocab

__all__ = [
    "DEFAULT_AS_OF",
    "SyntheticActivity",
    "SyntheticCompany",
    "SyntheticPerson",
    "World",
    "generate",
    "iter_people",
]

DEFAULT_AS_OF: Final = datetime(2026, 11, 1, tzinfo=UTC)
_ACTIVITY_WINDOW_SECONDS: Final = 180 * 86400

ObjectName = Literal["Lead", "Contact"]
OutcomeName = Literal["converted", "closed_won", "closed_lost", "open", "stale"]


@dataclass(frozen=True, slots=True)
class SyntheticCompany:
    """A company with firmographics (``industry`` is a Salesforce Industry picklist value)."""

    key: str
    name: str
    domain: str
    industry: str
    employees: int
    annual_revenue: float
    country: str


@dataclass(frozen=True, slots=True)
class SyntheticActivity:
    """One activity, logged in ``system``, within the 180 days before ``as_of``."""

    key: str
    system: System
    kind: ActivityKind
    direction: Direction
    outcome: Outcome
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class SyntheticPerson:
    """One human as both CRMs know them (stages may disagree between the systems)."""

    key: str
    first_name: str
    last_name: str
    email: str
    title: str
    seniority: Seniority
    phone: str
    company: SyntheticCompany
    in_salesforce: bool
    in_hubspot: bool
    salesforce_object: ObjectName
    lead_converted: bool
    salesforce_stage: FunnelStage | None
    hubspot_stage: FunnelStage | None
    disqualified_reason: str | None
    budget: bool
    authority: bool
    need: bool
    timeline_days: int | None
    has_open_deal: bool
    outcome: OutcomeName
    created_at: datetime
    modified_at: datetime
    activities: tuple[SyntheticActivity, ...]
    salesforce_duplicate: bool


@dataclass(frozen=True, slots=True)
class World:
    """Everything ``generate`` drew for one seed."""

    seed: int
    as_of: datetime
    companies: tuple[SyntheticCompany, ...]
    people: tuple[SyntheticPerson, ...]


def generate(
    seed: int = 7, people: int = 1000, *, overlap: float = 0.6, as_of: datetime = DEFAULT_AS_OF
) -> World:
    """Draw a whole world in memory (use :func:`iter_people` to stream very large ones)."""
    companies = _companies(seed, people)
    drawn = tuple(_people(seed, people, companies, overlap, as_of))
    return World(seed=seed, as_of=as_of, companies=companies, people=drawn)


def iter_people(
    seed: int = 7, people: int = 1000, *, overlap: float = 0.6, as_of: datetime = DEFAULT_AS_OF
) -> Iterator[SyntheticPerson]:
    """Yield the same people as ``generate(seed, people, ...)`` one at a time."""
    return _people(seed, people, _companies(seed, people), overlap, as_of)


def _check(people: int, overlap: float, as_of: datetime) -> None:
    if people < 0:
        raise ValueError("people must be zero or more")
    if not 0.0 <= overlap <= 1.0:
        raise ValueError("overlap must be between 0 and 1")
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")


def _companies(seed: int, people: int) -> tuple[SyntheticCompany, ...]:
    rng = random.Random(seed * 7919 + 1)
    count = max(1, people // 4)
    country_names = [name for name, _ in vocab.COUNTRIES]
    country_cum = list(accumulate(weight for _, weight in vocab.COUNTRIES))
    domains: set[str] = set()
    out: list[SyntheticCompany] = []
    for index in range(count):
        adjective, noun = rng.choice(vocab.ADJECTIVES), rng.choice(vocab.NOUNS)
        slug = f"{adjective}-{noun}".lower()
        tld = rng.choice(vocab.TLDS)
        domain = f"{slug}.{tld}"
        suffix = 2
        while domain in domains:
            domain = f"{slug}{suffix}.{tld}"
            suffix += 1
        domains.add(domain)
        employees = int(10 ** rng.uniform(0.7, 5.0))
        out.append(
            SyntheticCompany(
                key=f"c{index:05d}",
                name=f"{adjective} {noun} {rng.choice(vocab.SUFFIXES)}",
                domain=domain,
                industry=rng.choice(vocab.INDUSTRIES),
                employees=employees,
                annual_revenue=float(round(employees * rng.uniform(60_000, 350_000), -3)),
                country=rng.choices(country_names, cum_weights=country_cum)[0],
            )
        )
    return tuple(out)


_SENIORITIES: Final = [level for level, _ in vocab.SENIORITY_WEIGHTS]
_SENIORITY_CUM: Final = list(accumulate(weight for _, weight in vocab.SENIORITY_WEIGHTS))
_ORDER: Final = (
    FunnelStage.LEAD,
    FunnelStage.PROSPECT,
    FunnelStage.OPPORTUNITY,
    FunnelStage.CUSTOMER,
)


def _people(
    seed: int, count: int, companies: tuple[SyntheticCompany, ...], overlap: float, as_of: datetime
) -> Iterator[SyntheticPerson]:
    _check(count, overlap, as_of)
    rng = random.Random(seed * 7919 + 2)
    as_of = as_of.astimezone(UTC).replace(microsecond=0)
    emails: set[str] = set()
    next_activity = [0]
    for index in range(count):
        yield _person(rng, index, companies, emails, next_activity, overlap, as_of)


def _fit(seniority: Seniority, company: SyntheticCompany) -> float:
    size = min(1.0, math.log10(max(company.employees, 1)) / 4.0)
    return (
        0.4 * vocab.SENIORITY_FIT[seniority]
        + 0.35 * vocab.INDUSTRY_FIT[company.industry]
        + 0.25 * size
    )


def _person(
    rng: random.Random,
    index: int,
    companies: tuple[SyntheticCompany, ...],
    emails: set[str],
    next_activity: list[int],
    overlap: float,
    as_of: datetime,
) -> SyntheticPerson:
    # Skewed pick: a few companies get many people, most get a handful.
    company = companies[int(len(companies) * rng.random() ** 1.6)]
    seniority = rng.choices(_SENIORITIES, cum_weights=_SENIORITY_CUM)[0]
    first, last = rng.choice(vocab.FIRST_NAMES), rng.choice(vocab.LAST_NAMES)
    email = _unique_email(f"{first}.{last}".lower(), company.domain, emails)
    fit = _fit(seniority, company)
    engagement = 0.7 * rng.random() + 0.3 * fit
    two_way = min(8, int(rng.expovariate(1.0) * 3.0 * engagement * engagement))
    propensity = 3.2 * fit + 0.7 * min(two_way, 4) + rng.gauss(0.0, 0.7) - 1.7

    if rng.random() < 0.04 + 0.12 * (1.0 - fit):
        stage = FunnelStage.DISQUALIFIED
    else:
        rank = sum(propensity >= cut for cut in (0.5, 1.4, 2.1))
        stage = _ORDER[rank]
        if rank >= 1 and two_way == 0:
            two_way = 1  # a prospect has, by definition, talked back at least once

    membership = rng.random()
    in_sf = membership < overlap + (1.0 - overlap) * 0.6
    in_hs = membership < overlap or not in_sf
    sf_stage, hs_stage = _stages(rng, stage, in_sf, in_hs)
    outcome = _outcome(rng, stage, propensity, two_way)
    sf_object: ObjectName = "Lead"
    if stage in (FunnelStage.OPPORTUNITY, FunnelStage.CUSTOMER) or (
        stage is FunnelStage.PROSPECT and rng.random() < 0.25
    ):
        sf_object = "Contact"
    converted = in_sf and sf_object == "Contact" and rng.random() < 0.75
    disqualified = FunnelStage.DISQUALIFIED in (sf_stage, hs_stage)
    reason = rng.choice(vocab.DISQUALIFIED_REASONS) if disqualified else None

    activities = _activities(rng, next_activity, two_way, engagement, in_sf, in_hs, as_of)
    if activities:
        oldest, newest = activities[0].occurred_at, activities[-1].occurred_at
    else:
        oldest = newest = as_of - timedelta(seconds=rng.randrange(3600, 300 * 86400))
    created = oldest - timedelta(seconds=rng.randrange(3600, 540 * 86400))
    gap = int((as_of - newest).total_seconds())
    modified = newest + timedelta(seconds=rng.randrange(0, max(gap, 1)))
    senior = seniority in (Seniority.EXECUTIVE, Seniority.VP, Seniority.DIRECTOR)
    late = stage in (FunnelStage.OPPORTUNITY, FunnelStage.CUSTOMER)
    return SyntheticPerson(
        key=f"p{index:06d}",
        first_name=first,
        last_name=last,
        email=email,
        title=rng.choice(vocab.TITLES[seniority]),
        seniority=seniority,
        phone=f"+1 {rng.randint(200, 989)} 555 {rng.randint(0, 9999):04d}",
        company=company,
        in_salesforce=in_sf,
        in_hubspot=in_hs,
        salesforce_object=sf_object,
        lead_converted=converted,
        salesforce_stage=sf_stage,
        hubspot_stage=hs_stage,
        disqualified_reason=reason,
        budget=late or rng.random() < 0.25 * fit,
        authority=senior or (late and rng.random() < 0.5),
        need=two_way > 0 and rng.random() < 0.7,
        timeline_days=rng.choice((30, 60, 90, 180)) if late or rng.random() < 0.1 else None,
        has_open_deal=stage is FunnelStage.OPPORTUNITY,
        outcome=outcome,
        created_at=created,
        modified_at=modified,
        activities=activities,
        salesforce_duplicate=in_sf and sf_object == "Lead" and rng.random() < 0.025,
    )


def _unique_email(local: str, domain: str, seen: set[str]) -> str:
    email = f"{local}@{domain}"
    number = 2
    while email in seen:
        email = f"{local}{number}@{domain}"
        number += 1
    seen.add(email)
    return email


def _stages(
    rng: random.Random, stage: FunnelStage, in_sf: bool, in_hs: bool
) -> tuple[FunnelStage | None, FunnelStage | None]:
    if not in_hs:
        return stage, None
    if not in_sf:
        return None, stage
    if rng.random() >= 0.17:
        return stage, stage
    # Portals drift: HubSpot lags a step, runs a step ahead, or one side disqualified the person.
    roll = rng.random()
    if stage is FunnelStage.DISQUALIFIED:
        return stage, FunnelStage.LEAD
    rank = _ORDER.index(stage)
    if roll < 0.45 and rank > 0:
        return stage, _ORDER[rank - 1]
    if roll < 0.85 and rank < 3:
        return stage, _ORDER[rank + 1]
    return stage, FunnelStage.DISQUALIFIED


def _outcome(
    rng: random.Random, stage: FunnelStage, propensity: float, two_way: int
) -> OutcomeName:
    if stage is FunnelStage.CUSTOMER:
        return "closed_won"
    if stage is FunnelStage.DISQUALIFIED:
        return "closed_lost" if rng.random() < 0.3 else "stale"
    win = 1.0 / (1.0 + math.exp(-(propensity - 2.2) * 1.6))
    if rng.random() < win:
        return "closed_won" if stage is FunnelStage.OPPORTUNITY else "converted"
    if stage is FunnelStage.OPPORTUNITY:
        return "closed_lost" if rng.random() < 0.5 else "open"
    return "open" if two_way > 0 and rng.random() < 0.6 else "stale"


def _activities(
    rng: random.Random,
    next_activity: list[int],
    two_way: int,
    engagement: float,
    in_sf: bool,
    in_hs: bool,
    as_of: datetime,
) -> tuple[SyntheticActivity, ...]:
    one_way = int(rng.expovariate(1.0) * (1.0 + 6.0 * engagement))
    drawn: list[tuple[int, ActivityKind, Direction, Outcome, System]] = []
    for count, two in ((one_way, False), (two_way, True)):
        for _ in range(count):
            # Marketing touches land in HubSpot, sales conversations in Salesforce; a person in
            # only one system has everything logged there.
            if two:
                kind, direction, outcomes = rng.choice(vocab.TWO_WAY_ACTIVITIES)
                to_sf = in_sf and (not in_hs or rng.random() < 0.7)
                system = System.SALESFORCE if to_sf else System.HUBSPOT
            elif in_hs and (not in_sf or rng.random() < 0.6):
                kind, direction, outcomes = rng.choice(vocab.ONE_WAY_HUBSPOT)
                system = System.HUBSPOT
            else:
                kind, direction, outcomes = rng.choice(vocab.ONE_WAY_SALESFORCE)
                system = System.SALESFORCE
            age = rng.randrange(60, _ACTIVITY_WINDOW_SECONDS)
            drawn.append((age, kind, direction, rng.choice(outcomes), system))
    drawn.sort(key=lambda item: -item[0])
    out: list[SyntheticActivity] = []
    for age, kind, direction, outcome, system in drawn:
        out.append(
            SyntheticActivity(
                key=f"a{next_activity[0]:07d}",
                system=system,
                kind=kind,
                direction=direction,
                outcome=outcome,
                occurred_at=as_of - timedelta(seconds=age),
            )
        )
        next_activity[0] += 1
    return tuple(out)
