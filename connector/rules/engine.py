"""Evaluate the rules for one person: scores, then the stage. Pure and deterministic.

``evaluate`` reads only its arguments: no clock, no I/O, no globals. Activities after
``as_of`` are ignored (they have not happened yet at that time), so replaying history at an
earlier ``as_of`` gives what the rules would have said then.

This is the hot path of every sync and backtest (the target is 50,000 people with 20
activities each per second on one core; see ``bench/bench_rules.py``): the rules are
precompiled into tables (:mod:`connector.rules._compile`), no pydantic model is built here,
and strings are formatted only where a person's case needs it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from connector.funnel import Activity, Person, Timeline
from connector.rules._compile import (
    DECAY_HALF_LIFE,
    DECAY_LINEAR,
    DECAY_WINDOW,
    Compiled,
    FitSpec,
)
from connector.rules._fields import Value
from connector.rules._stage import decide_stage
from connector.rules.decision import Decision
from connector.rules.facts import NO_FACTS, Facts
from connector.rules.loader import Rules

__all__ = ["evaluate"]

_MEMO_LIMIT = 4096


def _decayed(points: float, mode: int, k: float, age: float) -> float:
    if mode == DECAY_HALF_LIFE:
        return points * math.exp(-age * k)
    if mode == DECAY_LINEAR:
        return points * max(0.0, 1.0 - age * k)
    if mode == DECAY_WINDOW and age > k:
        return 0.0
    return points


def _engagement(
    compiled: Compiled, timeline: Timeline, as_of: float
) -> tuple[float, tuple[float, ...], bool]:
    """Engagement points, each rule's capped points (aligned with the specs), and two-way?"""
    table = compiled.activity_table
    sums = [0.0] * len(compiled.engagement)
    two_way = False
    exp = math.exp
    # One table look-up per activity, then arithmetic; kept flat on purpose (hot loop).
    for code, occurred in timeline.items:
        index, is_two_way, points, mode, k = table[code]
        age = as_of - occurred
        if age < 0.0:
            continue  # not happened yet at as_of
        if is_two_way:
            two_way = True
        if index < 0:
            continue
        if mode == DECAY_HALF_LIFE:
            points *= exp(-age * k)
        elif mode == DECAY_LINEAR:
            factor = 1.0 - age * k
            if factor <= 0.0:
                continue
            points *= factor
        elif mode == DECAY_WINDOW and age > k:
            continue
        sums[index] += points

    # Caps: each rule's total is limited in magnitude, then each group's (groups hold
    # consecutive rules). Plain loops: this runs once per person.
    caps = compiled.rule_caps
    total = 0.0
    for first, end, group_cap in compiled.groups:
        value = 0.0
        for index in range(first, end):
            raw = sums[index]
            if raw:
                cap = caps[index]
                if raw > cap:
                    sums[index] = raw = cap
                elif raw < -cap:
                    sums[index] = raw = -cap
                value += raw
        total += group_cap if value > group_cap else -group_cap if value < -group_cap else value
    capped = tuple(sums)
    return total, capped, two_way


def _since(compiled: Compiled, timeline: Timeline, as_of: float, since: float) -> float:
    """Positive decayed points from activities after ``since`` (recycling; rarely needed)."""
    total = 0.0
    for code, occurred in timeline.items:
        index, _, points, mode, k = compiled.activity_table[code]
        if index >= 0 and since < occurred <= as_of and points > 0.0:
            total += _decayed(points, mode, k, as_of - occurred)
    return total


def _band(bands: tuple[tuple[str, float, str], ...], value: float) -> tuple[str, str]:
    for name, minimum, label in bands:
        if value >= minimum:
            return name, label
    return bands[-1][0], bands[-1][2]  # unreachable: the last band's min is 0 (validated)


def _clamp(value: float) -> float:
    return 0.0 if value < 0.0 else 100.0 if value > 100.0 else value


def evaluate(
    person: Person,
    activities: Timeline | Sequence[Activity],
    facts: Facts | None,
    rules: Rules,
    as_of: datetime,
) -> Decision:
    """Score ``person`` and decide their stage from ``person.stage`` at time ``as_of``.

    ``person.stage`` (and ``person.disqualified_reason``) is where the person stands now;
    ``facts`` adds what the CRMs say (deals, status, manual stages); ``activities`` are every
    activity logged against the person in either CRM, as a :class:`Timeline` (what the sync
    engine and backtests build) or as :class:`Activity` models. ``as_of`` must be
    timezone-aware.
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (UTC)")
    timeline = activities if isinstance(activities, Timeline) else Timeline.of(activities)
    as_of_ts = as_of.timestamp()
    compiled = rules.compiled
    if facts is None:
        facts = NO_FACTS

    values: list[Value] = []
    for read in compiled.getters:  # a plain loop beats a comprehension's frame here
        values.append(read(person))
    fired: list[FitSpec] = []
    for slot, by_value in compiled.fit_index:
        value = values[slot]
        hits = by_value.get(value)
        if hits is None:
            # Not seen in this spelling yet: look up the folded text and remember the answer
            # (a bounded memo; the result depends only on the value, so purity holds).
            hits = by_value.get(value.casefold(), ()) if isinstance(value, str) else ()
            if len(by_value) < _MEMO_LIMIT:
                by_value[value] = hits
        if hits:
            fired += hits
    for spec in compiled.fit_tested:
        if spec.test(values):
            fired.append(spec)
    # `fired` is in a fixed but not file order; the sum does not care, the disqualification
    # reason is the first disqualifying rule in the file, and contributions sort themselves.
    fit_raw = compiled.fit_base
    disqualify: FitSpec | None = None
    for spec in fired:
        fit_raw += spec.points
        if spec.disqualify is not None and (
            disqualify is None or spec.position < disqualify.position
        ):
            disqualify = spec

    engagement_raw, engaged, two_way = _engagement(compiled, timeline, as_of_ts)
    fit = _clamp(fit_raw)
    engagement = _clamp(engagement_raw)
    total = _clamp(fit * compiled.fit_weight + engagement * compiled.engagement_weight)
    fit_band, fit_label = _band(compiled.fit_bands, fit)
    engagement_band, engagement_label = _band(compiled.engagement_bands, engagement)

    policy = compiled.stages
    since = 0.0
    if policy.recycle_engagement_min is not None and facts.disqualified_at is not None:
        since = _since(compiled, timeline, as_of_ts, facts.disqualified_at.timestamp())
    stage, previous, move, by_rule, reason, reasons, crossed, pinned = decide_stage(
        policy,
        person,
        facts,
        fit,
        total,
        two_way,
        disqualify.disqualify if disqualify is not None else None,
        since,
    )
    return Decision(
        stage=stage,
        previous_stage=previous,
        move=move,
        by_rule=by_rule,
        disqualified_reason=reason,
        fit=fit,
        engagement=engagement,
        total=total,
        band=fit_band + engagement_band,
        two_way=two_way,
        thresholds=(fit_label, engagement_label, *crossed),
        reasons=reasons,
        rules_version=compiled.version,
        fit_fired=tuple(fired),
        engagement_specs=compiled.engagement,
        engagement_points=engaged,
        pinned=pinned,
    )
