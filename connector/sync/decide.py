"""One person, one run: merge the mapped fields, evaluate the rules, and say what to write.

Inputs come from the state store (the person, their records as observed and as last merged,
provenance of crmsync's own writes, stored activity); the output is the new canonical person,
the rules' decision, and a :class:`~connector.sync.plan.RecordPlan` per CRM record that needs a
change. Nothing here does I/O.

Fields fall in two groups:

* **merged** fields (names, title, company, BANT, ...) follow their mapping's sync rule through
  :func:`~connector.sync.merge.merge_field`;
* **decided** fields (``stage``, ``disqualified_reason``, the scores, ``person_id``) are the
  rules' output. What the CRMs hold there is read as evidence: a stage a user changed by hand
  is passed to the rules as a manual stage, a disqualified status as a disqualification.

On a person's first evaluation the current stage is the furthest stage either CRM shows, so a
first sync never drags anyone backwards; the rules then move them forward from there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from pydantic import ValidationError

from connector.crm.types import ObjectSchema
from connector.errors import System
from connector.funnel import (
    FUNNEL_ORDER,
    Criterion,
    FunnelStage,
    Person,
    SourceRef,
    Timeline,
    seniority_from_title,
)
from connector.mapping.canonical import ValueType
from connector.mapping.model import FieldMapping, MappingSet
from connector.mapping.values import UNCHANGED
from connector.rules import Decision, Facts, Rules, SystemStage, evaluate
from connector.state import JsonValue, Observed, ScoringActivity, StoredActivity
from connector.state.gone import GoneHow, GoneRecord
from connector.state.models import PersonRecord
from connector.sync.merge import (
    Change,
    JsonScalar,
    Observation,
    Seen,
    classify,
    is_blank,
    json_value,
    merge_field,
)
from connector.sync.plan import FieldChange, RecordPlan, WriteKind
from connector.sync.validate import Held, validate_record

__all__ = [
    "DECIDED_FIELDS",
    "CreatePolicy",
    "DeletePolicy",
    "PersonInputs",
    "PersonResult",
    "decide",
]

DECIDED_FIELDS: Final = frozenset(
    {
        "stage",
        "disqualified_reason",
        "score.total",
        "score.fit",
        "score.engagement",
        "score.reason",
        "person_id",
    }
)
# HubSpot only moves these forward; an earlier value needs a clear first (see the reference).
FORWARD_ONLY: Final = frozenset({(System.HUBSPOT, "lifecyclestage")})
NOT_PROVIDED = "[not provided]"
# Fields Salesforce requires to create a record, filled when the person has no value.
REQUIRED_ON_CREATE: Final = {"Lead": ("LastName", "Company"), "Contact": ("LastName",)}
_RANK: Final = {stage: index for index, stage in enumerate(FUNNEL_ORDER)}


@dataclass(frozen=True, slots=True)
class CreatePolicy:
    """When a person known to one CRM is created in the other (``None``: never)."""

    in_hubspot: FunnelStage | None = FunnelStage.LEAD  # from this stage up
    in_salesforce: FunnelStage | None = FunnelStage.PROSPECT
    salesforce_object: str = "Lead"

    def allows(self, system: System, stage: FunnelStage) -> bool:
        threshold = self.in_hubspot if system is System.HUBSPOT else self.in_salesforce
        if threshold is None or stage is FunnelStage.DISQUALIFIED:
            return False
        return _RANK[stage] >= _RANK[threshold]


@dataclass(frozen=True, slots=True)
class PersonInputs:
    record: PersonRecord
    observed: Sequence[Observed]
    # What crmsync last wrote to each (field, system) of this person: an equal value coming
    # back is its own echo (see ProvenanceStore.written_by_person).
    written: Mapping[tuple[str, System], JsonValue]
    activities: Sequence[StoredActivity | ScoringActivity]
    # Systems where the person has an active link, observed yet or not (a converted Lead's
    # Contact is linked before it is pulled): never create a record there.
    linked: frozenset[System] = frozenset()
    # The person's latest record per system that is gone (deleted, archived, merged away):
    # never re-created unless the delete policy says ``recreate``.
    gone: Mapping[System, GoneRecord] = field(default_factory=dict)
    # Systems where a create of this person waits on an admin's decision (a Salesforce
    # duplicate rule refused it): not planned again until then.
    blocked: frozenset[System] = frozenset()


class DeletePolicy(StrEnum):
    """What happens to a person's record in one CRM when its pair in the other is gone."""

    UNLINK = "unlink"  # keep it, stop syncing the pair, report
    PROPAGATE = "propagate"  # delete (archive) it too, through the plan
    RECREATE = "recreate"  # create the gone one again (opt-in)


# Departures that delete the human's record (a merge or a conversion keeps them elsewhere).
_DELETIONS: Final = frozenset({GoneHow.DELETED, GoneHow.PURGED, GoneHow.ARCHIVED, GoneHow.MISSING})


@dataclass
class PersonResult:
    person: Person
    decision: Decision
    records: list[RecordPlan] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)
    primary: dict[System, Observed] = field(default_factory=dict)
    shown: dict[System, FunnelStage] = field(default_factory=dict)  # each CRM's stage now
    held: list[Held] = field(default_factory=list)
    """Planned values the CRM would refuse, taken out of ``records`` (see sync/validate.py)."""
    not_recreated: list[GoneRecord] = field(default_factory=list)
    """Records gone from one CRM that the policy kept crmsync from creating again."""
    tombstone: bool = False
    """Every record of the person is gone: keep them as a tombstone (ids only)."""
    blocked: frozenset[System] = frozenset()
    """Systems where a create of the person waited on a decision (from the inputs)."""


def _primary(observed: Sequence[Observed]) -> dict[System, Observed]:
    """The record crmsync reads and writes per system: a Contact wins over a Lead."""
    chosen: dict[System, Observed] = {}
    for item in sorted(observed, key=lambda o: (o.ref.object_type == "Lead", o.ref.record_id)):
        if not item.deleted:
            chosen.setdefault(item.ref.system, item)
    return chosen


def from_json(value: JsonScalar, kind: ValueType) -> Any:
    """A stored JSON value back in the canonical type the mapping converts from."""
    if value is None:
        return None
    if kind is ValueType.DATETIME and isinstance(value, str):
        return datetime.fromisoformat(value)
    if kind is ValueType.STAGE and isinstance(value, str):
        return FunnelStage(value)
    if kind is ValueType.NUMBER and isinstance(value, int | float):
        return float(value)
    return value


def _memory(
    item: Observed, mapping: FieldMapping, written: Mapping[tuple[str, System], JsonValue]
) -> Seen:
    merged = item.merged
    key = (mapping.name, item.ref.system)
    return Seen(
        seen_value=json_value(merged.get(mapping.name)) if merged else None,
        seen=merged is not None and mapping.name in merged,
        written_value=json_value(written.get(key)),
        written=key in written,
    )


def _build_person(
    record: PersonRecord,
    merged: dict[str, JsonScalar],
    stage: FunnelStage,
    reason: str | None,
    sources: tuple[SourceRef, ...],
    issues: list[str],
) -> Person:
    stored = record.person
    values: dict[str, Any] = {
        name: merged.get(name, getattr(stored, name))
        for name in ("email", "first_name", "last_name", "title", "phone", "country", "owner")
    }
    company = {
        name: merged.get(f"company.{name}", getattr(stored.company, name))
        for name in ("name", "domain", "industry", "employee_count", "annual_revenue")
    }
    bant = {
        name: Criterion(met=bool(merged[f"qualification.{name}"]))
        for name in ("budget", "authority", "need", "timeline")
        if merged.get(f"qualification.{name}") is not None
    }
    data: dict[str, Any] = {
        "id": stored.id,
        **values,
        "seniority": seniority_from_title(values.get("title")),
        "company": company,
        "qualification": bant,
        "stage": stage,
        # A pin holds the stage it was set on; a first run starting elsewhere has none.
        "stage_pinned": stored.stage_pinned and stage is stored.stage,
        "disqualified_reason": reason if stage is FunnelStage.DISQUALIFIED else None,
        "disqualified_at": _disqualified_at(stored, stage),
        "sources": sources,
        "other_emails": stored.other_emails,
    }
    for _ in range(len(data)):
        try:
            return Person.model_validate(data)
        except ValidationError as exc:
            # Keep the person; drop what the canonical model refuses (reported, not written).
            for detail in exc.errors(include_input=False):
                top = str(detail["loc"][0]) if detail["loc"] else ""
                if top == "company" and len(detail["loc"]) > 1:
                    data["company"] = {**data["company"], str(detail["loc"][1]): None}
                elif top in data and top not in ("id", "stage"):
                    data[top] = None if top != "qualification" else {}
                issues.append(f"{'.'.join(str(p) for p in detail['loc'])}: {detail['msg']}")
    return Person(
        id=stored.id,
        stage=stage,
        stage_pinned=data["stage_pinned"],
        disqualified_reason=data["disqualified_reason"],
        disqualified_at=data["disqualified_at"],
    )


def _disqualified_at(stored: Person, stage: FunnelStage) -> datetime | None:
    """Since when the person has been disqualified, if they still are (None: not known yet)."""
    if stage is FunnelStage.DISQUALIFIED and stored.stage is FunnelStage.DISQUALIFIED:
        return stored.disqualified_at
    return None


def _activities(items: Sequence[StoredActivity | ScoringActivity]) -> tuple[Timeline, Facts]:
    timed: list[tuple[str, str, str, datetime]] = []
    open_deal = won = lost = False
    for item in items:
        if item.category == "deal":
            open_deal |= item.outcome == "open"
            won |= item.outcome == "won"
            lost |= item.outcome == "lost"
        elif item.occurred_at is not None:
            timed.append((item.kind, item.direction, item.outcome, item.occurred_at))
    activities = Timeline.from_values(timed)
    return activities, Facts(open_deal=open_deal, closed_won=won, closed_lost=lost and not won)


def _stage_evidence(
    mappings: MappingSet,
    primary: dict[System, Observed],
    written: Mapping[tuple[str, System], JsonValue],
    first_time: bool,
) -> tuple[list[SystemStage], FunnelStage | None, str | None]:
    """The stage each CRM shows (manual when a user changed it), the furthest one shown,
    and a disqualification a CRM states."""
    shown: dict[System, tuple[FunnelStage, bool]] = {}
    reason_mapping = next(iter(mappings.for_field("disqualified_reason")), None)
    disqualified_by: str | None = None
    for mapping in mappings.for_field("stage"):
        for system, item in primary.items():
            if not mapping.reads_from(system) or mapping.name not in item.values:
                continue
            value = item.values[mapping.name]
            if not isinstance(value, str):
                continue  # the value map says this value tells nothing about the stage
            stage = FunnelStage(value)
            memory = _memory(item, mapping, written)
            change = classify(Observation(value, item.modified_at), memory)
            manual = change is Change.EDITED and not first_time and memory.seen
            if manual or system not in shown:
                shown[system] = (stage, manual or shown.get(system, (stage, False))[1])
            # What a CRM shows is a fact every time, not only when it changes: the same CRM
            # state must lead to the same decision, or a re-evaluation would flip it.
            if stage is FunnelStage.DISQUALIFIED and disqualified_by is None:
                stated = item.values.get(reason_mapping.name) if reason_mapping else None
                disqualified_by = (
                    str(stated) if not is_blank(stated) else f"disqualified in {system.value}"
                )
    stages = [SystemStage(system=s, stage=stage, manual=m) for s, (stage, m) in shown.items()]
    ordered = [stage for stage, _ in shown.values() if stage in _RANK]
    furthest = max(ordered, key=_RANK.__getitem__) if ordered else None
    return stages, furthest, disqualified_by


def _decided_values(person: Person, decision: Decision) -> dict[str, JsonScalar]:
    return {
        "person_id": person.id,
        "stage": decision.stage.value,
        "disqualified_reason": decision.disqualified_reason,
        # Whole numbers: score fields are integers in most orgs (Salesforce Number(3,0)), and a
        # value the CRM rounds on save would never match its echo.
        "score.total": round(decision.total),
        "score.fit": round(decision.fit),
        "score.engagement": round(decision.engagement),
        "score.reason": decision.explanation,
    }


_CONVERSIONS_KEPT: Final = 4096  # per mapping; unique values (ids, reasons) churn past it


def _as_written(
    mapping: FieldMapping, system: System, value: JsonScalar, length: int | None
) -> tuple[JsonScalar, JsonScalar] | None:
    """The raw value to send, and the canonical value the CRM will hold once it is written
    (after truncation, value maps and formatting); ``None`` when nothing is to be written.

    Memoised per mapping: most values written (stages, scores, flags) repeat across people.
    """
    key = (system, type(value), value, length)  # typed: True, 1 and 1.0 are equal keys
    memo = mapping.conversions
    if key in memo:
        found: tuple[JsonScalar, JsonScalar] | None = memo[key]
        return found
    if len(memo) >= _CONVERSIONS_KEPT:
        memo.clear()
    memo[key] = found = _convert_for_writing(mapping, system, value, length)
    return found


def _convert_for_writing(
    mapping: FieldMapping, system: System, value: JsonScalar, length: int | None
) -> tuple[JsonScalar, JsonScalar] | None:
    canonical = from_json(value, mapping.canonical.type)
    if system is System.SALESFORCE:
        raw = mapping.to_salesforce(canonical, target_length=length)
        if raw is UNCHANGED:
            return None
        return raw, json_value(mapping.from_salesforce(raw))
    text = mapping.to_hubspot(canonical, target_length=length)
    if text is UNCHANGED:
        return None
    return text, json_value(mapping.from_hubspot(text))


def _length(
    schemas: Mapping[tuple[System, str], ObjectSchema], system: System, obj: str, name: str
) -> int | None:
    schema = schemas.get((system, obj))
    described = schema.field(name) if schema is not None else None
    return described.length if described is not None else None


def decide(
    inputs: PersonInputs,
    mappings: MappingSet,
    rules: Rules,
    as_of: datetime,
    *,
    create: CreatePolicy = CreatePolicy(),
    schemas: Mapping[tuple[System, str], ObjectSchema] | None = None,
    now: datetime | None = None,
    on_delete: DeletePolicy = DeletePolicy.UNLINK,
) -> PersonResult:
    """Merge, evaluate and plan the writes for one person. ``now`` (default ``as_of``) is
    when the run found them: the start of a disqualification first seen in it."""
    schemas = schemas or {}
    now = now or as_of
    stored = inputs.record.person
    primary = _primary(inputs.observed)
    first_time = stored.score is None

    # 1. Merge every field that is not the rules' output.
    merged: dict[str, JsonScalar] = {}
    desired: dict[tuple[System, str], tuple[JsonScalar, str]] = {}
    for mapping in mappings:
        name = mapping.canonical.name
        if name in DECIDED_FIELDS:
            continue
        observed = {
            system: Observation(json_value(item.values[mapping.name]), item.modified_at)
            for system, item in primary.items()
            if mapping.name in item.values
        }
        memory = {
            system: _memory(item, mapping, inputs.written) for system, item in primary.items()
        }
        previous = json_value(mapping.canonical.read(stored))
        outcome = merge_field(mapping.sync, observed, memory, previous)
        merged.setdefault(name, outcome.value)
        for system, value in outcome.writes.items():
            desired[(system, mapping.name)] = (value, outcome.reason)

    # 2. Evidence from the CRMs' own stage fields, then the rules.
    stages, furthest, disqualified_by = _stage_evidence(
        mappings, primary, inputs.written, first_time
    )
    current = stored.stage
    reason = stored.disqualified_reason
    if first_time and furthest is not None:
        current, reason = furthest, None
    if first_time and disqualified_by and furthest is None:
        current, reason = FunnelStage.DISQUALIFIED, disqualified_by
    issues: list[str] = []
    sources = tuple(item.ref for item in inputs.observed if not item.deleted)
    person = _build_person(inputs.record, merged, current, reason, sources, issues)
    activities, deal_facts = _activities(inputs.activities)
    facts = deal_facts.model_copy(
        update={
            "stages": tuple(stages),
            "disqualified_reason": disqualified_by,
            "disqualified_at": person.disqualified_at,
        }
    )
    decision = evaluate(person, activities, facts, rules, as_of)
    disqualified = decision.stage is FunnelStage.DISQUALIFIED
    person = person.model_copy(
        update={
            "stage": decision.stage,
            "stage_pinned": decision.pinned,
            "disqualified_reason": decision.disqualified_reason,
            # Found disqualified now (by the rules or in a CRM): engagement from now on counts.
            "disqualified_at": (person.disqualified_at or now) if disqualified else None,
            "score": decision.score,
            "updated_at": as_of,
        }
    )
    decided = _decided_values(person, decision)

    # 3. The writes: per primary record, every mapping whose value differs from the decision
    #    or the merge; per missing system, a create if the policy says so.
    result = PersonResult(
        blocked=inputs.blocked,
        person=person,
        decision=decision,
        issues=issues,
        primary=primary,
        shown={entry.system: entry.stage for entry in stages},
    )
    # The reason explains the last move. When neither the stage nor a score moved, a new
    # wording alone (a hand-set stage is "set by hand" once, then held by the rules) is not
    # worth a write of its own: it would make the run after this one write again. It still
    # goes out with any other change to the record (a retried stage write, a new title).
    settled = _settled(stored, decision)
    reasons = {mapping.name for mapping in mappings.for_field("score.reason")}
    result.tombstone = not primary and not inputs.linked and bool(inputs.gone)
    for system in (System.SALESFORCE, System.HUBSPOT):
        item = primary.get(system)
        if item is None:
            gone = inputs.gone.get(system)
            if not primary or system in inputs.linked:
                continue
            if gone is not None and (
                on_delete is not DeletePolicy.RECREATE or gone.how is GoneHow.NOT_CREATED
            ):
                result.not_recreated.append(gone)  # deleted there: never created again
                continue
            if system in inputs.blocked:
                continue  # a duplicate rule refused it: an admin decides
            if create.allows(system, decision.stage):
                plan = _create(system, person, merged, decided, mappings, create, schemas)
                if plan is not None:
                    result.records.append(plan)
            continue
        other = System.HUBSPOT if system is System.SALESFORCE else System.SALESFORCE
        left = inputs.gone.get(other)
        if (
            on_delete is DeletePolicy.PROPAGATE
            and other not in primary
            and other not in inputs.linked
            and left is not None
            and left.how in _DELETIONS
            and not left.by_crmsync
        ):
            # Deleted in the other CRM: delete this record too (shown by a dry run first).
            result.records.append(
                RecordPlan(
                    system=system,
                    object_type=item.ref.object_type,
                    record_id=item.ref.record_id,
                    person_id=person.id,
                    kind=WriteKind.DELETE,
                    modified_at=item.modified_at,
                    changes=(),
                    reason=f"{left.how.value} in {other.value} ({left.ref.record_id})",
                )
            )
            continue
        changes: list[FieldChange] = []
        clear_first: list[str] = []
        for mapping, target in mappings.writes(system, item.ref.object_type):
            name = mapping.canonical.name
            current_value = json_value(item.values.get(mapping.name))
            if name in DECIDED_FIELDS:
                want, why = decided[name], "decided by the rules"
            elif (system, mapping.name) in desired:
                want, why = desired[(system, mapping.name)]
            else:
                continue
            if want == current_value or (is_blank(want) and is_blank(current_value)):
                continue  # the record holds it already: nothing to convert or write
            length = _length(schemas, system, item.ref.object_type, target)
            written = _as_written(mapping, system, want, length)
            if written is None:
                continue
            raw, held = written
            if held == current_value or (is_blank(held) and is_blank(current_value)):
                continue
            if (system, target) in FORWARD_ONLY and not _surely_forward(current_value, want):
                clear_first.append(target)
            changes.append(
                FieldChange(
                    field=target,
                    mapping=mapping.name,
                    old=current_value,
                    new=raw,
                    value=held,
                    reason=why,
                )
            )
        if settled and all(change.mapping in reasons for change in changes):
            changes = []
        if changes:
            result.records.append(
                RecordPlan(
                    system=system,
                    object_type=item.ref.object_type,
                    record_id=item.ref.record_id,
                    person_id=person.id,
                    modified_at=item.modified_at,
                    changes=tuple(changes),
                    clear_first=tuple(clear_first),
                    stage_from=stored.stage if not first_time else None,
                    stage_to=decision.stage,
                )
            )
    if schemas:
        # Every value goes out only if the CRM can take it; a bad one costs its field alone.
        checked: list[RecordPlan] = []
        for record in result.records:
            kept, refused = validate_record(record, schemas, mappings)
            result.held.extend(refused)
            if kept is not None:
                checked.append(kept)
        result.records = checked
    return result


def _settled(stored: Person, decision: Decision) -> bool:
    """Did this evaluation leave the stage and every written score as they were?"""
    before = stored.score
    if before is None or stored.stage is not decision.stage:
        return False
    return before.rules_version == decision.rules_version and (
        round(before.total),
        round(before.fit),
        round(before.engagement),
    ) == (round(decision.total), round(decision.fit), round(decision.engagement))


def _surely_forward(current: JsonScalar, wanted: JsonScalar) -> bool:
    """Is writing ``wanted`` over ``current`` known to move forward?

    A blank canonical value may hide a CRM value the value map ignores (HubSpot ``other``,
    ``evangelist``), which the CRM may order after the one we write: then only a clear first
    makes the write stick. Clearing costs one request per batch and is harmless.
    """
    try:
        before, after = FunnelStage(str(current)), FunnelStage(str(wanted))
    except ValueError:
        return False
    return before in _RANK and after in _RANK and _RANK[after] > _RANK[before]


def _create(
    system: System,
    person: Person,
    merged: dict[str, JsonScalar],
    decided: dict[str, JsonScalar],
    mappings: MappingSet,
    policy: CreatePolicy,
    schemas: Mapping[tuple[System, str], ObjectSchema],
) -> RecordPlan | None:
    object_type = policy.salesforce_object if system is System.SALESFORCE else "contacts"
    changes: list[FieldChange] = []
    for mapping, target in mappings.writes(system, object_type):
        name = mapping.canonical.name
        want = decided.get(name) if name in DECIDED_FIELDS else merged.get(name)
        if is_blank(want):
            continue
        written = _as_written(mapping, system, want, _length(schemas, system, object_type, target))
        if written is None:
            continue
        raw, held = written
        changes.append(
            FieldChange(
                field=target,
                mapping=mapping.name,
                old=None,
                new=raw,
                value=held,
                reason=f"{person.stage.value} person missing in {system.value}",
            )
        )
    if not any(change.mapping == "email" or change.field.lower() == "email" for change in changes):
        return None  # a record nobody can recognise would only make a duplicate later
    present = {change.field for change in changes}
    for required in REQUIRED_ON_CREATE.get(object_type, ()) if system is System.SALESFORCE else ():
        if required not in present:
            changes.append(
                FieldChange(
                    field=required,
                    mapping="",
                    old=None,
                    new=NOT_PROVIDED,
                    value=NOT_PROVIDED,
                    reason="required by Salesforce to create the record",
                )
            )
    return RecordPlan(
        system=system,
        object_type=object_type,
        record_id=person.id,
        person_id=person.id,
        kind=WriteKind.CREATE,
        changes=tuple(changes),
        stage_to=person.stage,
    )
