"""Replay rules over people whose outcome is known and measure how well they rank them.

Outcomes: ``converted`` and ``closed_won`` are positive, ``closed_lost`` and ``stale``
negative, ``open`` is left out of the metrics (but still counted for stage changes). All
functions are pure; :func:`backtest` streams its examples once and keeps only scores and labels.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from connector.funnel import Activity, FunnelStage, Person, Timeline
from connector.rules.engine import evaluate
from connector.rules.facts import Facts
from connector.rules.loader import Rules

__all__ = [
    "NEGATIVE",
    "POSITIVE",
    "BacktestReport",
    "BandRow",
    "Example",
    "RulesMetrics",
    "auc",
    "backtest",
    "conversion_by_band",
    "label",
    "precision_recall",
    "top_decile_lift",
]

POSITIVE = frozenset({"converted", "closed_won"})
NEGATIVE = frozenset({"closed_lost", "stale"})
_QUALIFIED = frozenset({FunnelStage.PROSPECT, FunnelStage.OPPORTUNITY, FunnelStage.CUSTOMER})


class Example(NamedTuple):
    """One person to replay, and how things turned out for them."""

    person: Person
    activities: Timeline | Sequence[Activity]
    facts: Facts
    outcome: str


def label(outcome: str) -> bool | None:
    """True for a positive outcome, False for a negative one, None for ``open``/unknown."""
    if outcome in POSITIVE:
        return True
    if outcome in NEGATIVE:
        return False
    return None


def auc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Area under the ROC curve by ranks (Mann–Whitney U); ties count half. None if one-class."""
    positives = sum(labels)
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return None
    order = sorted(range(len(scores)), key=scores.__getitem__)
    rank_sum = 0.0
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and scores[order[end + 1]] == scores[order[start]]:
            end += 1
        average = (start + end) / 2 + 1  # 1-based average rank of the tie group
        rank_sum += average * sum(1 for index in order[start : end + 1] if labels[index])
        start = end + 1
    u = rank_sum - positives * (positives + 1) / 2
    return u / (positives * negatives)


@dataclass(frozen=True, slots=True)
class BandRow:
    band: str
    people: int
    positives: int

    @property
    def rate(self) -> float:
        return self.positives / self.people if self.people else 0.0


def conversion_by_band(bands: Sequence[str], labels: Sequence[bool]) -> tuple[BandRow, ...]:
    """Conversion rate per score band, bands in name order (A1, A2, ... C3)."""
    people: Counter[str] = Counter(bands)
    positives: Counter[str] = Counter(band for band, ok in zip(bands, labels, strict=True) if ok)
    return tuple(BandRow(band, people[band], positives[band]) for band in sorted(people))


def precision_recall(
    predicted: Sequence[bool], labels: Sequence[bool]
) -> tuple[float | None, float | None]:
    """Precision and recall of ``predicted`` against ``labels`` (None when undefined)."""
    hits = sum(1 for guess, truth in zip(predicted, labels, strict=True) if guess and truth)
    guessed, actual = sum(predicted), sum(labels)
    return (hits / guessed if guessed else None, hits / actual if actual else None)


def top_decile_lift(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Positive rate in the top 10% by score over the overall rate (ties keep input order)."""
    if not scores or not any(labels):
        return None
    order = sorted(range(len(scores)), key=lambda index: -scores[index])
    top = order[: max(1, math.ceil(len(order) / 10))]
    top_rate = sum(1 for index in top if labels[index]) / len(top)
    return top_rate / (sum(labels) / len(labels))


@dataclass(frozen=True, slots=True)
class RulesMetrics:
    """How one rules file did on the labelled people."""

    version: str
    auc: float | None
    bands: tuple[BandRow, ...]
    precision: float | None  # of people the rules put at prospect or beyond
    recall: float | None
    top_decile_lift: float | None
    qualified: int  # people at prospect or beyond

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "auc": self.auc,
            "precision_at_prospect": self.precision,
            "recall_at_prospect": self.recall,
            "top_decile_lift": self.top_decile_lift,
            "qualified": self.qualified,
            "bands": [
                {"band": row.band, "people": row.people, "positives": row.positives,
                 "conversion_rate": row.rate}
                for row in self.bands
            ],
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class BacktestReport:
    """Current and (optionally) candidate rules side by side."""

    as_of: datetime
    people: int
    labelled: int
    positives: int
    current: RulesMetrics
    candidate: RulesMetrics | None = None
    stage_changes: int | None = None  # people whose stage differs under the candidate
    moves: dict[str, int] = field(default_factory=dict)  # "lead -> prospect": count

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "people": self.people,
            "labelled": self.labelled,
            "positives": self.positives,
            "current": self.current.to_dict(),
            "candidate": self.candidate.to_dict() if self.candidate else None,
            "stage_changes": self.stage_changes,
            "moves": dict(sorted(self.moves.items())),
        }


class _Tally:
    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.scores: list[float] = []
        self.bands: list[str] = []
        self.qualified: list[bool] = []

    def metrics(self, labels: list[bool]) -> RulesMetrics:
        precision, recall = precision_recall(self.qualified, labels)
        return RulesMetrics(
            version=self.rules.version,
            auc=auc(self.scores, labels),
            bands=conversion_by_band(self.bands, labels),
            precision=precision,
            recall=recall,
            top_decile_lift=top_decile_lift(self.scores, labels),
            qualified=sum(self.qualified),
        )


def backtest(
    examples: Iterable[Example],
    current: Rules,
    as_of: datetime,
    candidate: Rules | None = None,
) -> BacktestReport:
    """Evaluate ``current`` (and ``candidate``) for every example at ``as_of`` and compare."""
    tallies = [_Tally(current)] + ([_Tally(candidate)] if candidate else [])
    labels: list[bool] = []
    moves: Counter[str] = Counter()
    people = 0
    for person, activities, facts, outcome in examples:
        people += 1
        decisions = [evaluate(person, activities, facts, t.rules, as_of) for t in tallies]
        if len(decisions) == 2 and decisions[0].stage is not decisions[1].stage:
            moves[f"{decisions[0].stage} -> {decisions[1].stage}"] += 1
        truth = label(outcome)
        if truth is None:
            continue
        labels.append(truth)
        for tally, decision in zip(tallies, decisions, strict=True):
            tally.scores.append(decision.total)
            tally.bands.append(decision.band)
            tally.qualified.append(decision.stage in _QUALIFIED)
    return BacktestReport(
        as_of=as_of,
        people=people,
        labelled=len(labels),
        positives=sum(labels),
        current=tallies[0].metrics(labels),
        candidate=tallies[1].metrics(labels) if candidate else None,
        stage_changes=sum(moves.values()) if candidate else None,
        moves=dict(moves),
    )
