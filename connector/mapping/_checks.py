"""Offline checks that need more than one entry: names, transforms, value maps, duplicates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from connector.errors import Problem, System
from connector.funnel import FunnelStage
from connector.mapping._names import (
    check_hubspot_name,
    check_salesforce_name,
    read_only_reason,
)
from connector.mapping._raw import RawField, RawValueMap
from connector.mapping.canonical import CANONICAL_FIELDS, ValueType
from connector.mapping.catalogue import HUBSPOT_OBJECT
from connector.mapping.rules import TRANSFORMS_FOR_TYPE, Transform
from connector.yamlfile import YamlDocument, did_you_mean

__all__ = ["FieldEntry", "MapEntry", "check", "salesforce_targets"]

_STAGES = tuple(stage.value for stage in FunnelStage)
_TYPE_CHANGING = frozenset(
    {
        Transform.NUMBER,
        Transform.INTEGER,
        Transform.BOOLEAN,
        Transform.DATE,
        Transform.DATETIME,
        Transform.EPOCH_MS,
    }
)


@dataclass(frozen=True, slots=True)
class FieldEntry:
    document: YamlDocument
    name: str
    raw: RawField

    @property
    def canonical(self) -> str:
        return self.raw.field or self.name


@dataclass(frozen=True, slots=True)
class MapEntry:
    document: YamlDocument
    name: str
    raw: RawValueMap


def _at(
    document: YamlDocument, loc: tuple[int | str, ...], subject: str, message: str, hint: str = ""
) -> Problem:
    line, column = document.position(loc)
    return Problem(document.name, message, subject, line, column, hint)


def _where(document: YamlDocument, loc: tuple[int | str, ...]) -> str:
    line, _ = document.position(loc)
    return f"{document.name}:{line}" if line else document.name


def salesforce_targets(raw: RawField) -> dict[str, str]:
    """``{"Lead": field, "Contact": field}`` for the objects the entry names."""
    if raw.salesforce is None:
        return {}
    pairs = (("Lead", raw.salesforce.lead), ("Contact", raw.salesforce.contact))
    return {obj: name for obj, name in pairs if name is not None}


class _Checker:
    def __init__(self, fields: Sequence[FieldEntry], maps: Sequence[MapEntry]) -> None:
        self.fields = fields
        self.maps: dict[str, MapEntry] = {}
        self.problems: list[Problem] = []
        for entry in maps:
            loc = ("value_maps", entry.name)
            first = self.maps.get(entry.name)
            if first is not None:
                self.problems.append(
                    _at(
                        entry.document,
                        loc,
                        f"value map {entry.name!r}",
                        "value map defined twice",
                        f"first defined at {_where(first.document, loc)}; rename or remove one",
                    )
                )
                continue
            self.maps[entry.name] = entry

    def run(self) -> list[Problem]:
        seen: dict[str, FieldEntry] = {}
        stage_maps: dict[str, FieldEntry] = {}
        for entry in self.fields:
            loc = ("fields", entry.name)
            first = seen.get(entry.name)
            if first is not None:
                self._add(
                    entry,
                    loc,
                    "mapping defined twice",
                    f"first defined at {_where(first.document, loc)}; rename or remove one",
                )
                continue
            seen[entry.name] = entry
            self._check_field(entry, stage_maps)
        for name, entry in stage_maps.items():
            if name in self.maps:
                self._check_stage_map(self.maps[name], entry)
        self._check_duplicate_targets([entry for entry in seen.values()])
        return self.problems

    def _add(
        self, entry: FieldEntry, loc: tuple[int | str, ...], message: str, hint: str = ""
    ) -> None:
        self.problems.append(_at(entry.document, loc, f"mapping {entry.name!r}", message, hint))

    def _check_field(self, entry: FieldEntry, stage_maps: dict[str, FieldEntry]) -> None:
        raw, base = entry.raw, ("fields", entry.name)
        canonical = CANONICAL_FIELDS.get(entry.canonical)
        if canonical is None:
            loc = (*base, "field") if raw.field else base
            hint = did_you_mean(entry.canonical, CANONICAL_FIELDS) or (
                "canonical fields: " + ", ".join(CANONICAL_FIELDS)
            )
            if raw.field is None:
                hint += "; to map a canonical field again, name the entry freely and set field:"
            self._add(entry, loc, f"unknown canonical field {entry.canonical!r}", hint)
        sf_targets = salesforce_targets(raw)
        if not sf_targets and raw.hubspot is None:
            self._add(
                entry,
                base,
                "maps to nothing",
                "give salesforce: {lead: ..., contact: ...} and/or hubspot: ...",
            )
        self._check_names(entry, sf_targets)
        self._check_rule(entry, sf_targets)
        if canonical is not None:
            self._check_transforms(entry, canonical.type, sf_targets, stage_maps)

    def _check_names(self, entry: FieldEntry, sf_targets: dict[str, str]) -> None:
        base = ("fields", entry.name)
        writes_sf = entry.raw.sync.writes(System.SALESFORCE)
        for obj, name in sf_targets.items():
            loc = (*base, "salesforce", obj.lower())
            wrong = check_salesforce_name(obj, name)
            if wrong is not None:
                self._add(entry, loc, *wrong)
            elif writes_sf and (sf_reason := read_only_reason("salesforce", obj, name)):
                self._add(
                    entry,
                    loc,
                    f"{sf_reason}, but sync {entry.raw.sync} writes to it",
                    _ro_hint(System.SALESFORCE),
                )
        hubspot = entry.raw.hubspot
        if hubspot is not None:
            hs_loc: tuple[int | str, ...] = (*base, "hubspot")
            wrong = check_hubspot_name(hubspot)
            if wrong is not None:
                self._add(entry, hs_loc, *wrong)
            elif entry.raw.sync.writes(System.HUBSPOT) and (
                reason := read_only_reason("hubspot", HUBSPOT_OBJECT, hubspot)
            ):
                self._add(
                    entry,
                    hs_loc,
                    f"{reason}, but sync {entry.raw.sync} writes to it",
                    _ro_hint(System.HUBSPOT),
                )

    def _check_rule(self, entry: FieldEntry, sf_targets: dict[str, str]) -> None:
        rule = entry.raw.sync
        preferred = rule.preferred
        missing = (preferred is System.SALESFORCE and not sf_targets) or (
            preferred is System.HUBSPOT and entry.raw.hubspot is None
        )
        if preferred is not None and missing:
            label = "Salesforce" if preferred is System.SALESFORCE else "HubSpot"
            self._add(
                entry,
                ("fields", entry.name, "sync"),
                f"sync {rule} takes its value from {label}, but no {label} field is mapped",
                f"map the {label} field, or choose another sync rule",
            )

    def _check_transforms(
        self,
        entry: FieldEntry,
        kind: ValueType,
        sf_targets: dict[str, str],
        stage_maps: dict[str, FieldEntry],
    ) -> None:
        raw, base = entry.raw, ("fields", entry.name)
        allowed = TRANSFORMS_FOR_TYPE[kind]
        for index, transform in enumerate(raw.transform):
            loc = (*base, "transform", index)
            if transform not in allowed:
                self._add(
                    entry,
                    loc,
                    f"transform {transform} does not apply to {entry.canonical!r} ({kind} field)",
                    f"transforms for {kind} fields: " + ", ".join(sorted(allowed)),
                )
            elif transform in raw.transform[:index]:
                self._add(entry, loc, f"transform {transform} is listed twice", "list it once")
        changing = [t for t in raw.transform if t in _TYPE_CHANGING]
        if len(set(changing)) > 1:
            self._add(
                entry,
                (*base, "transform"),
                "conflicting transforms " + " and ".join(changing),
                "a target stores one kind of value; keep one of them",
            )
        if raw.max_length is not None and Transform.TRUNCATE not in raw.transform:
            self._add(
                entry,
                (*base, "max_length"),
                "max_length only applies with transform truncate",
                "add truncate to transform, or remove max_length",
            )
        self._check_values(entry, kind, sf_targets, stage_maps)

    def _check_values(
        self,
        entry: FieldEntry,
        kind: ValueType,
        sf_targets: dict[str, str],
        stage_maps: dict[str, FieldEntry],
    ) -> None:
        raw, base = entry.raw, ("fields", entry.name)
        mapped = Transform.MAP_VALUES in raw.transform
        if kind is ValueType.STAGE and not mapped:
            self._add(
                entry,
                (*base, "transform"),
                "a funnel stage field needs transform map_values",
                "add transform: map_values and values: {salesforce: ..., hubspot: ...}",
            )
        if raw.values is not None and not mapped:
            self._add(
                entry,
                (*base, "values"),
                "values: is set but transform has no map_values",
                "add map_values to transform",
            )
        if not mapped:
            return
        present = {System.SALESFORCE: bool(sf_targets), System.HUBSPOT: raw.hubspot is not None}
        for system, has_target in present.items():
            name = getattr(raw.values, system.value, None) if raw.values else None
            loc: tuple[int | str, ...]
            if name is not None:
                loc = (*base, "values", system.value)
            elif raw.values is not None:
                loc = (*base, "values")
            else:
                loc = (*base, "transform")
            if has_target and name is None:
                self._add(
                    entry,
                    loc,
                    f"map_values needs a value map for {system.value}",
                    f"add values: {{{system.value}: <value map name>}}",
                )
            elif name is not None and not has_target:
                self._add(
                    entry,
                    loc,
                    f"values.{system.value} is set but no {system.value} field is mapped",
                    f"remove values.{system.value}",
                )
            elif name is not None and name not in self.maps:
                hint = did_you_mean(name, self.maps) or "define it under value_maps:"
                self._add(entry, loc, f"unknown value map {name!r}", hint)
            elif name is not None and kind is ValueType.STAGE:
                stage_maps.setdefault(name, entry)

    def _check_stage_map(self, entry: MapEntry, user: FieldEntry) -> None:
        raw, base = entry.raw, ("value_maps", entry.name)
        subject = f"value map {entry.name!r}"
        document = entry.document
        for key in raw.outbound:
            if key not in _STAGES:
                hint = did_you_mean(key, _STAGES) or "funnel stages: " + ", ".join(_STAGES)
                self.problems.append(
                    _at(
                        document,
                        (*base, "outbound", key),
                        subject,
                        f"{key!r} is not a funnel stage",
                        hint,
                    )
                )
        missing = [stage for stage in _STAGES if stage not in raw.outbound]
        if missing:
            self.problems.append(
                _at(
                    document,
                    (*base, "outbound"),
                    subject,
                    "no outbound value for stage "
                    + ", ".join(missing)
                    + f" (used by mapping {user.name!r})",
                    "each stage needs a value to write (null leaves the field unchanged)",
                )
            )
        for value, meaning in raw.inbound.items():
            if meaning is not None and meaning not in _STAGES:
                hint = did_you_mean(meaning, _STAGES) or "funnel stages: " + ", ".join(_STAGES)
                self.problems.append(
                    _at(
                        document,
                        (*base, "inbound", value),
                        subject,
                        f"{meaning!r} is not a funnel stage",
                        hint,
                    )
                )
        written: dict[str, list[str]] = {}
        for stage, written_value in raw.outbound.items():
            if written_value is not None:
                written.setdefault(written_value, []).append(stage)
        for value, stages in written.items():
            if len(stages) > 1 and value not in raw.inbound:
                self.problems.append(
                    _at(
                        document,
                        (*base, "outbound", stages[1]),
                        subject,
                        f"{value!r} is written for "
                        + " and ".join(stages)
                        + ", so reading it back is ambiguous",
                        f"say which stage it means when read: inbound: {{{value!r}: {stages[0]}}}",
                    )
                )

    def _check_duplicate_targets(self, entries: list[FieldEntry]) -> None:
        writers: dict[tuple[str, str, str], FieldEntry] = {}
        for entry in entries:
            raw = entry.raw
            targets: list[tuple[System, str, str, tuple[int | str, ...]]] = []
            if raw.sync.writes(System.SALESFORCE):
                for obj, name in salesforce_targets(raw).items():
                    targets.append(
                        (System.SALESFORCE, obj, name.casefold(), ("salesforce", obj.lower()))
                    )
            if raw.sync.writes(System.HUBSPOT) and raw.hubspot is not None:
                targets.append((System.HUBSPOT, HUBSPOT_OBJECT, raw.hubspot, ("hubspot",)))
            for system, obj, name, rest in targets:
                key = (system.value, obj, name)
                first = writers.get(key)
                if first is None:
                    writers[key] = entry
                    continue
                shown = (
                    first.raw.hubspot
                    if system is System.HUBSPOT
                    else salesforce_targets(first.raw)[obj]
                )
                self._add(
                    entry,
                    ("fields", entry.name, *rest),
                    f"mappings {first.name!r} and {entry.name!r} both write "
                    f"{system.value}/{obj}/{shown}",
                    f"{first.name!r} is at {_where(first.document, ('fields', first.name))}; map "
                    f"another field, or give one a sync rule that does not write {system.value}",
                )


def _ro_hint(system: System) -> str:
    # The *_only rule named after the system reads from it and never writes to it.
    only = "salesforce_only" if system is System.SALESFORCE else "hubspot_only"
    return f"map a writable field, or use sync: {only} (or none) so crmsync never writes it"


def check(fields: Sequence[FieldEntry], maps: Sequence[MapEntry]) -> list[Problem]:
    """Every cross-entry problem in the parsed files, in file order."""
    return _Checker(fields, maps).run()
