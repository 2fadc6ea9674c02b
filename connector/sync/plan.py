"""Plans: exactly what a sync would write, per system, object, record and field, and why.

A plan is data. ``crmsync plan --out plan.json`` writes one; ``crmsync apply plan.json`` executes
it later, refusing records that changed in the CRM since the plan was made (the record's
modification time is part of each entry). ``crmsync sync`` makes a plan and applies it in one run.

A plan file is untrusted input when it comes back: a person may have edited it, or it may be
any file at all. :func:`read_plan` bounds its size, refuses JSON no plan holds (non-finite or
huge numbers, deep nesting) and reports every problem without a traceback; the plan's seal
(:mod:`connector.sync.plan_seal`) then says whether it is exactly the plan crmsync made, under
the mappings, rules and state store in use now.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from connector.errors import ConfigError, Problem, System, display_path
from connector.funnel import FunnelStage, UtcDatetime

__all__ = [
    "MAX_PLAN_BYTES",
    "PLAN_FORMAT",
    "DefinitionFile",
    "DefinitionKind",
    "FieldChange",
    "Plan",
    "PlanFormatError",
    "RecordPlan",
    "WriteKind",
    "group_changes",
    "read_plan",
    "stale",
]

# Format 2 carries the seal (definitions, state store, digest). Format 1 plans cannot be
# checked, so they are refused rather than applied on trust.
PLAN_FORMAT: Literal[2] = 2
# About 2 KB a record: some 90,000 records. A plan is for review; a bigger change is a sync.
MAX_PLAN_BYTES = 200 * 1024 * 1024
_MAX_PROBLEMS = 20  # a broken file may hold millions of problems; the first few say enough
_MAX_INT = 2**63 - 1  # no CRM number is larger
_REPLAN = "make a new plan with `crmsync plan --out FILE`"
JsonScalar = str | int | float | bool | None
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
_FROZEN = ConfigDict(frozen=True, extra="forbid")


class WriteKind(StrEnum):
    UPDATE = "update"  # PATCH an existing record
    CREATE = "create"  # upsert on the connector's person id (never duplicates on retry)
    DELETE = "delete"  # its pair was deleted in the other CRM (delete policy "propagate")


class FieldChange(BaseModel):
    """One field of one record: its value now, the value to write, and why."""

    model_config = _FROZEN

    field: str  # the CRM's field or property name
    mapping: str  # the field mapping that carries it
    old: JsonScalar  # the canonical value the record holds now
    new: JsonScalar  # the raw value to write, as the CRM's API takes it
    value: JsonScalar  # the canonical value written (what comes back as an echo)
    reason: str


class RecordPlan(BaseModel):
    """Every change planned for one CRM record."""

    model_config = _FROZEN

    system: System
    object_type: str
    record_id: str  # for creates: the person id used as external id
    person_id: str
    kind: WriteKind = WriteKind.UPDATE
    modified_at: UtcDatetime | None = None  # the record's modification time when planned
    changes: tuple[FieldChange, ...]
    clear_first: tuple[str, ...] = ()  # fields HubSpot only lets move forward
    stage_from: FunnelStage | None = None
    stage_to: FunnelStage | None = None
    reason: str = ""  # why the record as a whole is written (a delete)

    def values(self) -> dict[str, JsonScalar]:
        return {change.field: change.new for change in self.changes}


class DefinitionKind(StrEnum):
    MAPPINGS = "mappings"
    RULES = "rules"


class DefinitionFile(BaseModel):
    """One mappings or rules file a plan was made with, and the SHA-256 of its bytes."""

    model_config = _FROZEN

    kind: DefinitionKind
    name: str  # the file's name, not its directory: a plan may be applied from elsewhere
    sha256: Sha256


class Plan(BaseModel):
    """A whole run's writes, in the order they will be applied.

    ``definitions``, ``state_store`` and ``digest`` are the seal, filled in by
    :func:`connector.sync.plan_seal.seal_plan`; a plan without them is never applied.
    """

    model_config = _FROZEN

    format: Literal[2] = PLAN_FORMAT
    created_at: UtcDatetime
    run_id: str
    rules_version: str
    definitions: tuple[DefinitionFile, ...] = ()
    state_store: str = Field(default="", description="Fingerprint of the signing store's key.")
    records: tuple[RecordPlan, ...] = ()
    notes: tuple[str, ...] = ()
    digest: str = Field(default="", description="HMAC-SHA256 of everything else, canonical.")

    def by_target(self) -> Iterator[tuple[tuple[System, str, WriteKind], list[RecordPlan]]]:
        """Records grouped by (system, object type, kind), each group in plan order."""
        groups: dict[tuple[System, str, WriteKind], list[RecordPlan]] = {}
        for record in self.records:
            groups.setdefault((record.system, record.object_type, record.kind), []).append(record)
        yield from groups.items()

    def summary(self) -> dict[str, int]:
        """Counts a table or a report shows: records and field writes per system and kind."""
        return Plan.count(self.records)

    @staticmethod
    def count(records: Iterable[RecordPlan]) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for record in records:
            prefix = f"{record.system.value}.{record.kind.value}"
            counts[f"{prefix}.records"] += 1
            counts[f"{prefix}.fields"] += len(record.changes)
            if record.stage_to is not None and record.stage_to != record.stage_from:
                counts[f"{record.system.value}.stage_changes"] += 1
        return dict(sorted(counts.items()))

    def write(self, path: Path) -> None:
        """Write the plan as JSON; it holds personal data, so the file is owner-only.

        A plan larger than ``apply`` reads is refused here, before a file exists to try.
        """
        data = self.model_dump_json(indent=2).encode("utf-8")
        if len(data) > MAX_PLAN_BYTES:
            raise PlanFormatError(
                [
                    Problem(
                        where=display_path(path),
                        message=(
                            f"the plan is {_megabytes(len(data))} ({len(self.records)} records), "
                            f"more than `crmsync apply` reads ({_megabytes(MAX_PLAN_BYTES)})"
                        ),
                        hint="review it with `crmsync sync --dry-run`, then run `crmsync sync`",
                    )
                ]
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        # Created owner-only, so the personal data is never readable by others, even briefly.
        descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        tmp.chmod(0o600)  # an older tmp file left behind keeps its mode through O_CREAT
        tmp.replace(path)


class PlanFormatError(ConfigError):
    """A plan file that cannot be applied: unreadable, malformed, or failing its seal."""

    title = "plan file error"


class _Refused(ValueError):
    """JSON that parses but that no plan holds (raised from the decoder's hooks)."""


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):,.0f} MB"


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"not a finite number: {text[:24]}")
    return value


def _bounded(text: str) -> int:
    # By length first: int() of a long digit string is slow, and refused past 4,300 digits.
    if len(text) > 20 or abs(value := int(text)) > _MAX_INT:
        raise _Refused(f"number too large ({len(text.lstrip('-'))} digits)")
    return value


def _constant(name: str) -> float:
    raise _Refused(f"not a finite number: {name}")


def _load(path: Path, where: str) -> Any:
    """The JSON in ``path``, within the size bound; every failure as a PlanFormatError."""

    def refused(
        message: str, hint: str = _REPLAN, line: int | None = None, column: int | None = None
    ) -> PlanFormatError:
        problem = Problem(where=where, message=message, hint=hint, line=line, column=column)
        return PlanFormatError([problem])

    too_large = refused(
        f"larger than {_megabytes(MAX_PLAN_BYTES)}, the most a plan may be",
        hint="crmsync writes no plan this large; check that this is the plan file",
    )
    try:
        if path.stat().st_size > MAX_PLAN_BYTES:
            raise too_large
        with path.open("rb") as file:
            raw = file.read(MAX_PLAN_BYTES + 1)  # a file growing, or not a regular file
    except FileNotFoundError:
        raise refused("file not found", hint="give the file `crmsync plan --out` wrote") from None
    except OSError as exc:
        raise refused(f"cannot read file: {exc.strerror or exc}", hint="") from None
    if len(raw) > MAX_PLAN_BYTES:
        raise too_large
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise refused(f"not UTF-8 text (byte {exc.start}): not a plan file") from None
    try:
        return json.loads(text, parse_float=_finite, parse_int=_bounded, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise refused(f"not valid JSON: {exc.msg}", line=exc.lineno, column=exc.colno) from None
    except _Refused as exc:
        raise refused(str(exc)) from None
    except RecursionError:
        raise refused("nested too deeply: not a plan file") from None
    except ValueError as exc:  # anything else the decoder refuses
        raise refused(f"not valid JSON: {exc}") from None


def _check_format(data: Any, where: str) -> None:
    """Refuse what is not a plan of this format, saying why, before field-by-field checks."""

    def refused(message: str, hint: str = _REPLAN) -> PlanFormatError:
        return PlanFormatError([Problem(where=where, field="format", message=message, hint=hint)])

    if not isinstance(data, dict):
        raise PlanFormatError(
            [
                Problem(
                    where=where,
                    message=f"expected a JSON object (a plan), found {_kind(data)}",
                    hint=_REPLAN,
                )
            ]
        )
    version = data.get("format")
    if "format" not in data:
        raise refused("no plan format: not a plan file crmsync wrote")
    if type(version) is int and version < PLAN_FORMAT:
        raise refused(
            f"plan format {version}, written by an older crmsync: it carries no digest, so "
            "nothing can tell whether it was changed after it was made"
        )
    if type(version) is int and version > PLAN_FORMAT:
        raise refused(
            f"plan format {version} is from a newer crmsync (this one reads {PLAN_FORMAT})",
            hint=f"apply it with the crmsync that made it, or {_REPLAN}",
        )


def _kind(value: Any) -> str:
    names = {list: "a list", str: "a string", bool: "true or false", type(None): "null"}
    return names.get(type(value), "a number")


def read_plan(path: Path) -> Plan:
    """Read a plan written by ``crmsync plan --out``; every problem is reported.

    This checks the file's shape only. Whether it is the plan crmsync made, unchanged, is
    :func:`connector.sync.plan_seal.check_plan`'s question (``apply_plan`` asks it).
    """
    where = display_path(path)
    data = _load(path, where)
    _check_format(data, where)
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        details = exc.errors(include_input=False, include_url=False)
        problems = [
            Problem(
                where=where,
                field=".".join(str(part) for part in detail["loc"]),
                message=str(detail["msg"]),
                hint=_REPLAN,
            )
            for detail in details[:_MAX_PROBLEMS]
        ]
        if len(details) > _MAX_PROBLEMS:
            more = len(details) - _MAX_PROBLEMS
            problems.append(Problem(where=where, message=f"and {more:,} more problems"))
        raise PlanFormatError(problems) from None


def stale(record: RecordPlan, current_modified_at: datetime | None) -> bool:
    """Has the record changed in the CRM since the plan was made?"""
    if record.kind is WriteKind.CREATE or record.modified_at is None:
        return False
    return current_modified_at is None or current_modified_at > record.modified_at


def group_changes(records: Iterable[RecordPlan]) -> Counter[str]:
    """How many writes each canonical field gets (for reports)."""
    return Counter(change.mapping for record in records for change in record.changes)
