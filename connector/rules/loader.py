"""Load, validate and precompile ``config/rules.yaml``.

Schema problems (unknown keys, wrong types, out-of-range thresholds, unordered bands, unknown
fields or lists) and cross-entry problems (duplicate rule ids) are collected together, each with
file, line and column, and raised once as :class:`~connector.errors.RulesError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from connector.errors import Problem, RulesError
from connector.funnel import ActivityKind, Direction, Outcome, Seniority
from connector.rules._compile import Compiled, compile_rules
from connector.rules.model import (
    BantPolicy,
    ClosedLost,
    ManualStage,
    ProspectCriterion,
    RulesFile,
)
from connector.yamlfile import YamlDocument, did_you_mean, load_yaml, problems_from_validation

__all__ = ["Rules", "load_rules"]

Loc = tuple[int | str, ...]


@dataclass(frozen=True)
class Rules:
    """A validated, precompiled rules file, ready for :func:`connector.rules.evaluate`."""

    source: RulesFile
    path: Path | None = None
    sha256: str = ""  # of the file's bytes as read: a plan records it (sync/plan_seal.py)
    compiled: Compiled = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "compiled", compile_rules(self.source))

    @property
    def version(self) -> str:
        return self.source.version


def _subject(data: Any) -> Callable[[Loc], str]:
    """Name entries by rule id rather than list index: ``fit.rules.senior_title.points``."""

    def name(loc: Loc) -> str:
        parts: list[str] = []
        node = data
        for part in loc:
            if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
                rule_id = node.get("id") if isinstance(node, dict) else None
                parts.append(rule_id if isinstance(rule_id, str) and rule_id else str(part))
                continue
            parts.append("in" if part == "in_" else str(part))
            node = node.get(part) if isinstance(node, dict) else None
        return ".".join(parts)

    return name


# Enum-valued keys: a near miss gets "did you mean" instead of the whole list of values.
_CHOICES: dict[str, tuple[str, ...]] = {
    "kind": tuple(item.value for item in ActivityKind),
    "direction": tuple(item.value for item in Direction),
    "outcome": tuple(item.value for item in Outcome),
    "criteria": tuple(item.value for item in ProspectCriterion),
    "authority_seniority": tuple(item.value for item in Seniority),
    "mode": ("half_life", "linear", "window", "none"),
    "closed_lost": tuple(item.value for item in ClosedLost),
    "manual_stage": tuple(item.value for item in ManualStage),
    "bant_without_two_way": tuple(item.value for item in BantPolicy),
}


def _value_at(data: Any, loc: Loc) -> Any:
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return None
    return node


def _improve(problem: Problem, document: YamlDocument, data: Any) -> Problem:
    """Sharper hints for the two mistakes admins make most (typos in values, bare versions)."""
    if problem.field == "version" and "valid string" in problem.message:
        return replace(problem, hint='quote it, e.g. version: "2026.11-1"')
    if not problem.message.startswith("Input should be"):
        return problem
    loc = tuple(int(part) if part.isdigit() else part for part in problem.field.split("."))
    key = next((part for part in reversed(loc) if isinstance(part, str)), "")
    choices = _CHOICES.get(key)
    raw = _value_at(data, _document_path(data, loc))
    if choices is None or not isinstance(raw, str):
        return problem
    hint = did_you_mean(raw, choices) or "one of: " + ", ".join(choices)
    return replace(problem, message=f"unknown {key} value {raw!r}", hint=hint)


def _document_path(data: Any, named: Loc) -> Loc:
    """Map a subject path (rule ids in place of indexes) back to document positions."""
    node = data
    path: list[int | str] = []
    for part in named:
        if isinstance(node, list):
            index = next(
                (
                    position
                    for position, item in enumerate(node)
                    if part == position or (isinstance(item, dict) and item.get("id") == part)
                ),
                None,
            )
            if index is None:
                break
            path.append(index)
            node = node[index]
        elif isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        else:
            break
    return tuple(path)


def _id_locations(data: Any) -> Iterator[tuple[str, Loc]]:
    """Every rule and group id in the document with its location (tolerant of bad shapes)."""

    def items(node: Any, loc: Loc) -> Iterator[tuple[Any, Loc]]:
        if isinstance(node, list):
            for index, item in enumerate(node):
                if isinstance(item, dict):
                    yield item, (*loc, index)

    fit = data.get("fit") if isinstance(data, dict) else None
    if isinstance(fit, dict):
        for item, loc in items(fit.get("rules"), ("fit", "rules")):
            if isinstance(item.get("id"), str):
                yield item["id"], (*loc, "id")
    engagement = data.get("engagement") if isinstance(data, dict) else None
    if isinstance(engagement, dict):
        for group, gloc in items(engagement.get("groups"), ("engagement", "groups")):
            if isinstance(group.get("id"), str):
                yield group["id"], (*gloc, "id")
            for item, loc in items(group.get("rules"), (*gloc, "rules")):
                if isinstance(item.get("id"), str):
                    yield item["id"], (*loc, "id")


def _duplicate_ids(document: YamlDocument, data: Any) -> list[Problem]:
    seen: dict[str, int | None] = {}
    problems: list[Problem] = []
    for rule_id, loc in _id_locations(data):
        line, column = document.position(loc)
        if rule_id in seen:
            problems.append(
                Problem(
                    where=document.name,
                    line=line,
                    column=column,
                    field=_subject(data)(loc),
                    message=f"duplicate id {rule_id!r} (first used on line {seen[rule_id]})",
                    hint="rule and group ids must be unique across fit and engagement",
                )
            )
        else:
            seen[rule_id] = line
    return problems


def _list_names(data: Any) -> list[str]:
    lists = data.get("lists") if isinstance(data, dict) else None
    return [str(name) for name in lists] if isinstance(lists, dict) else []


def load_rules(path: Path) -> Rules:
    """Read and validate a rules file; raise :class:`RulesError` listing every problem."""
    document = load_yaml(path, RulesError)
    data = document.plain()
    if not isinstance(data, dict):
        raise RulesError(
            [Problem(where=document.name, line=1, message="expected a mapping at the top level")]
        )
    problems: list[Problem] = []
    parsed: RulesFile | None = None
    try:
        parsed = RulesFile.model_validate(data, context={"lists": _list_names(data)})
    except ValidationError as exc:
        problems.extend(
            _improve(problem, document, data)
            for problem in problems_from_validation(
                document, exc, RulesFile, subject=_subject(data)
            )
        )
    problems.extend(_duplicate_ids(document, data))
    if problems or parsed is None:
        problems.sort(key=lambda problem: (problem.line or 0, problem.column or 0))
        raise RulesError(problems)
    return Rules(source=parsed, path=path, sha256=document.sha256)
