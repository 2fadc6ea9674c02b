"""Plans: exactly what a sync would write, per system, object, record and field, and why.

A plan is data. ``crmsync plan --out plan.json`` writes one; ``crmsync apply plan.json`` executes
it later, refusing records that changed in the CRM since the plan was made (the record's
modification time is part of each entry). ``crmsync sync`` makes a plan and applies it in one run.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connector.errors import ConfigError, Problem, System, display_path
from connector.funnel import FunnelStage, UtcDatetime

__all__ = [
    "FieldChange",
    "Plan",
    "PlanFormatError",
    "RecordPlan",
    "WriteKind",
    "group_changes",
    "read_plan",
    "stale",
]

PLAN_FORMAT: Literal[1] = 1
JsonScalar = str | int | float | bool | None
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


class Plan(BaseModel):
    """A whole run's writes, in the order they will be applied."""

    model_config = _FROZEN

    format: Literal[1] = PLAN_FORMAT
    created_at: UtcDatetime
    run_id: str
    rules_version: str
    mappings_digest: str = Field(description="Changes when the mappings change.")
    records: tuple[RecordPlan, ...] = ()
    notes: tuple[str, ...] = ()

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
        """Write the plan as JSON; it holds personal data, so the file is owner-only."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(self.model_dump_json(indent=2), encoding="utf-8")
        tmp.chmod(0o600)
        tmp.replace(path)


class PlanFormatError(ConfigError):
    title = "plan file error"


def read_plan(path: Path) -> Plan:
    """Read a plan written by ``crmsync plan --out``; every problem is reported."""
    where = display_path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanFormatError([Problem(where=where, message="file not found")]) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PlanFormatError([Problem(where=where, message=f"not a plan file: {exc}")]) from None
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        raise PlanFormatError(
            [
                Problem(
                    where=where,
                    field=".".join(str(part) for part in detail["loc"]),
                    message=str(detail["msg"]),
                    hint="make a new plan with `crmsync plan --out FILE`",
                )
                for detail in exc.errors(include_input=False, include_url=False)
            ]
        ) from None


def stale(record: RecordPlan, current_modified_at: datetime | None) -> bool:
    """Has the record changed in the CRM since the plan was made?"""
    if record.kind is WriteKind.CREATE or record.modified_at is None:
        return False
    return current_modified_at is None or current_modified_at > record.modified_at


def group_changes(records: Iterable[RecordPlan]) -> Counter[str]:
    """How many writes each canonical field gets (for reports)."""
    return Counter(change.mapping for record in records for change in record.changes)
