"""Turn a validated :class:`RulesFile` into plain tuples and closures the evaluator runs fast.

Everything that can be decided once per rules file is decided here: which fields to read, each
condition as a closure over pre-folded operands, and a table from every (kind, direction,
outcome) triple to the engagement rule it scores and whether it counts as two-way
communication. The evaluator then does dictionary look-ups and arithmetic only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from connector.funnel import ACTIVITY_TYPES, is_two_way
from connector.rules._conditions import Condition
from connector.rules._fields import DOMAIN_FIELDS, FIELDS, FieldType, Getter, Value, getter
from connector.rules._policy import StagePolicy, stage_policy
from connector.rules.model import Decay, RulesFile

__all__ = ["ActivityEntry", "Compiled", "EngagementSpec", "FitSpec", "compile_rules"]

Test = Callable[[list[Value]], bool]
ActivityEntry = tuple[int, bool, float, int, float]

DECAY_NONE, DECAY_HALF_LIFE, DECAY_LINEAR, DECAY_WINDOW = 0, 1, 2, 3
_SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class FitSpec:
    rule_id: str
    points: float
    test: Test
    reason: str
    disqualify: str | None
    position: int  # order in the file: contributions and "first disqualify" follow it


@dataclass(frozen=True, slots=True)
class EngagementSpec:
    rule_id: str
    points: float
    reason: str
    group: int
    cap: float  # math.inf when uncapped
    decay_mode: int
    decay_k: float  # per second: rate (half-life, linear) or window length (window)


@dataclass(frozen=True, slots=True)
class Compiled:
    version: str
    fit_base: float
    getters: tuple[Getter, ...]
    fit: tuple[FitSpec, ...]  # every fit rule, in file order
    # Single-condition rules on text fields with `equals`/`in`/`in_list` (non-domain) are
    # looked up by value, one dict probe per field instead of one test per rule:
    # (slot, {folded value: rules that fire}). The other rules run their tests.
    fit_index: tuple[tuple[int, dict[Value, tuple[FitSpec, ...]]], ...]
    fit_tested: tuple[FitSpec, ...]
    engagement: tuple[EngagementSpec, ...]
    rule_caps: tuple[float, ...]  # per engagement rule, aligned with `engagement`
    groups: tuple[tuple[int, int, float], ...]  # (first rule, end, cap): rules are contiguous
    # Indexed by activity type code (``ACTIVITY_TYPES``: a Timeline's codes): (engagement rule
    # index or -1, two-way?, points, decay mode, decay constant); one look-up gives the
    # evaluator everything it needs for an activity.
    activity_table: tuple[ActivityEntry, ...]
    fit_weight: float
    engagement_weight: float
    # (name, min, "fit band A (>= 60)"), highest first
    fit_bands: tuple[tuple[str, float, str], ...]
    engagement_bands: tuple[tuple[str, float, str], ...]
    stages: StagePolicy


def _fold_all(values: list[str] | str) -> frozenset[str]:
    items = [values] if isinstance(values, str) else values
    return frozenset(item.casefold() for item in items)


def _domain_match(domains: frozenset[str]) -> Callable[[Value], bool]:
    def match(value: Value) -> bool:
        if not isinstance(value, str):
            return False
        if value in domains:
            return True
        # a.b.example.com matches example.com: try each parent domain.
        rest = value
        while "." in rest:
            rest = rest.partition(".")[2]
            if rest in domains:
                return True
        return False

    return match


def _text(value: Value) -> str | None:
    """A text value folded for comparison; empty text counts as missing."""
    return value.casefold() if isinstance(value, str) and value else None


def _bounds(operator: str, operand: object) -> tuple[float, float]:
    if operator == "gte" and isinstance(operand, float | int):
        return float(operand), math.inf
    if operator == "lte" and isinstance(operand, float | int):
        return -math.inf, float(operand)
    if operator == "between" and isinstance(operand, tuple):
        return float(operand[0]), float(operand[1])
    raise ValueError(f"not a range operator: {operator}")  # the schema makes this unreachable


def _condition(condition: Condition, slot: int, lists: dict[str, list[str]]) -> Test:
    operator = condition.operator()
    operand = condition.operand()
    text = FIELDS[condition.field] is FieldType.TEXT
    if operator == "exists":
        wanted = bool(operand)
        if text:
            return lambda values: (_text(values[slot]) is not None) is wanted
        return lambda values: (values[slot] is not None) is wanted
    if operator == "equals":
        if isinstance(operand, str):
            folded = operand.casefold()
            return lambda values: _text(values[slot]) == folded
        return lambda values: values[slot] is not None and values[slot] == operand
    if operator in ("in_", "not_in", "in_list", "not_in_list"):
        source = lists[str(operand)] if operator.endswith("list") else operand
        members = _fold_all(source)  # type: ignore[arg-type]
        negate = operator.startswith("not")
        inside = (
            _domain_match(members) if condition.field in DOMAIN_FIELDS else members.__contains__
        )

        if condition.field in DOMAIN_FIELDS:
            # Domains are stored lower-case already (normalised e-mail, Company.domain).
            def domain(values: list[Value]) -> bool:
                value = values[slot]
                return bool(value) and inside(value) is not negate

            return domain

        def member(values: list[Value]) -> bool:
            value = _text(values[slot])
            return value is not None and inside(value) is not negate

        return member
    if operator == "contains":
        needles = tuple(_fold_all(operand))  # type: ignore[arg-type]

        def contains(values: list[Value]) -> bool:
            value = _text(values[slot])
            return value is not None and any(needle in value for needle in needles)

        return contains
    low, high = _bounds(operator, operand)

    def in_range(values: list[Value]) -> bool:
        value = values[slot]
        # Number fields hold int or float (bool is never a number field's value).
        return value is not None and low <= value <= high  # type: ignore[operator]

    return in_range


def _lookup_members(when: list[Condition], lists: dict[str, list[str]]) -> frozenset[str] | None:
    """The values a single equals/in/in_list text condition accepts, if it can be a look-up."""
    if len(when) != 1:
        return None
    condition = when[0]
    operator = condition.operator()
    operand = condition.operand()
    if operator == "equals" and isinstance(operand, str):
        return frozenset({operand.casefold()})
    if operator == "in_":
        return _fold_all(operand)  # type: ignore[arg-type]
    if (
        operator == "in_list"
        and condition.field not in DOMAIN_FIELDS
        and FIELDS[condition.field] is FieldType.TEXT
    ):
        return _fold_all(lists[str(operand)])
    return None


def _all(tests: list[Test]) -> Test:
    if len(tests) == 1:
        return tests[0]
    frozen = tuple(tests)
    return lambda values: all(test(values) for test in frozen)


def _decay(decay: Decay) -> tuple[int, float]:
    seconds = (decay.days or 0.0) * _SECONDS_PER_DAY
    if decay.mode == "half_life":
        return DECAY_HALF_LIFE, math.log(2) / seconds
    if decay.mode == "linear":
        return DECAY_LINEAR, 1.0 / seconds
    if decay.mode == "window":
        return DECAY_WINDOW, seconds
    return DECAY_NONE, 0.0


def _matches(values: list[object], value: object) -> bool:
    return not values or value in values


def compile_rules(rules: RulesFile) -> Compiled:
    """Precompile ``rules`` (already validated) into the evaluator's tables."""
    fields: list[str] = []
    fit: list[FitSpec] = []
    by_slot: dict[int, dict[Value, list[FitSpec]]] = {}
    tested: list[FitSpec] = []
    for position, rule in enumerate(rules.fit.rules):
        tests: list[Test] = []
        for condition in rule.when:
            if condition.field not in fields:
                fields.append(condition.field)
            tests.append(_condition(condition, fields.index(condition.field), rules.lists))
        spec = FitSpec(
            rule.id, rule.points, _all(tests), rule.reason or rule.id, rule.disqualify, position
        )
        fit.append(spec)
        members = _lookup_members(rule.when, rules.lists)
        if members is None:
            tested.append(spec)
            continue
        by_value = by_slot.setdefault(fields.index(rule.when[0].field), {})
        for member in members:
            by_value.setdefault(member, []).append(spec)

    engagement: list[EngagementSpec] = []
    groups: list[tuple[int, int, float]] = []
    for group_index, group in enumerate(rules.engagement.groups):
        mode, k = _decay(group.decay)
        first = len(engagement)
        for erule in group.rules:
            engagement.append(
                EngagementSpec(
                    erule.id,
                    erule.points,
                    erule.reason or erule.id,
                    group_index,
                    erule.cap if erule.cap is not None else math.inf,
                    mode,
                    k,
                )
            )
        groups.append((first, len(engagement), group.cap if group.cap is not None else math.inf))

    flat = [erule for group in rules.engagement.groups for erule in group.rules]
    table: list[ActivityEntry] = []
    for kind, direction, outcome in ACTIVITY_TYPES:
        # The first rule in file order that matches wins, so one activity scores once.
        index = next(
            (
                position
                for position, erule in enumerate(flat)
                if erule.kind is kind
                and _matches(list(erule.direction), direction)
                and _matches(list(erule.outcome), outcome)
            ),
            -1,
        )
        two_way = is_two_way(kind, direction, outcome)
        if index < 0:
            table.append((-1, two_way, 0.0, DECAY_NONE, 0.0))
        else:
            scored = engagement[index]
            table.append((index, two_way, scored.points, scored.decay_mode, scored.decay_k))

    return Compiled(
        version=rules.version,
        fit_base=rules.fit.base,
        getters=tuple(getter(name) for name in fields),
        fit=tuple(fit),
        fit_index=tuple(
            (slot, {value: tuple(specs) for value, specs in by_value.items()})
            for slot, by_value in by_slot.items()
        ),
        fit_tested=tuple(tested),
        engagement=tuple(engagement),
        rule_caps=tuple(spec.cap for spec in engagement),
        groups=tuple(groups),
        activity_table=tuple(table),
        fit_weight=rules.score.fit_weight,
        engagement_weight=rules.score.engagement_weight,
        fit_bands=tuple(
            (band.name, band.min, f"fit band {band.name} (>= {band.min:g})")
            for band in rules.bands.fit
        ),
        engagement_bands=tuple(
            (band.name, band.min, f"engagement band {band.name} (>= {band.min:g})")
            for band in rules.bands.engagement
        ),
        stages=stage_policy(rules.stages),
    )
