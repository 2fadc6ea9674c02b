"""Backtest examples from the sandbox's synthetic world (:mod:`connector.sandbox.seed`).

Each synthetic person becomes the canonical :class:`Person`, their activities, the CRM
:class:`Facts` and their ground-truth outcome. The replay starts every person at ``lead`` and
withholds what would give the outcome away (closed-won/lost and the CRMs' current stages), so
the rules are judged on what they could have known before the outcome.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from connector.errors import System
from connector.funnel import Activity, Company, Criterion, Person, Qualification, SourceRef
from connector.rules.backtest import Example
from connector.rules.facts import Facts
from connector.sandbox.seed import DEFAULT_AS_OF, SyntheticPerson, iter_people

__all__ = ["example_from_synthetic", "synthetic_examples"]


def _ref(person: SyntheticPerson, system: System) -> SourceRef:
    object_type = person.salesforce_object if system is System.SALESFORCE else "contacts"
    return SourceRef(system=system, object_type=object_type, record_id=person.key)


def example_from_synthetic(person: SyntheticPerson) -> Example:
    """One synthetic person as a backtest example."""
    company = person.company
    canonical = Person(
        id=person.key,
        email=person.email,
        first_name=person.first_name,
        last_name=person.last_name,
        title=person.title,
        seniority=person.seniority,
        phone=person.phone,
        country=company.country,
        company=Company(
            name=company.name,
            domain=company.domain,
            industry=company.industry,
            employee_count=company.employees,
            annual_revenue=company.annual_revenue,
        ),
        qualification=Qualification(
            budget=Criterion(met=person.budget),
            authority=Criterion(met=person.authority),
            need=Criterion(met=person.need),
        ),
    )
    refs = {system: _ref(person, system) for system in System}
    activities = tuple(
        Activity(
            system=activity.system,
            id=activity.key,
            person=refs[activity.system],
            kind=activity.kind,
            direction=activity.direction,
            outcome=activity.outcome,
            occurred_at=activity.occurred_at,
        )
        for activity in person.activities
    )
    facts = Facts(
        open_deal=person.has_open_deal,
        disqualified_reason=person.disqualified_reason,
        timeline_days=person.timeline_days,
    )
    return Example(canonical, activities, facts, person.outcome)


def synthetic_examples(
    seed: int = 7, people: int = 5000, *, as_of: datetime = DEFAULT_AS_OF
) -> Iterator[Example]:
    """Stream ``people`` synthetic examples for ``seed`` (memory stays flat)."""
    return _convert(iter_people(seed, people, as_of=as_of))


def _convert(people: Iterable[SyntheticPerson]) -> Iterator[Example]:
    for person in people:
        yield example_from_synthetic(person)
