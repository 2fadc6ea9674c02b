"""The validated, immutable field mapping the sync engine works from.

``load_mappings`` builds a :class:`MappingSet`; nothing else constructs one from files. Every
:class:`FieldMapping` knows its targets per system/object, its sync rule, and converts values
both ways with pure functions (:mod:`connector.mapping.transforms`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from connector.errors import System
from connector.mapping.canonical import CanonicalField, CanonicalValue
from connector.mapping.catalogue import HUBSPOT_OBJECT
from connector.mapping.rules import SyncRule, Transform
from connector.mapping.transforms import (
    HubSpotValue,
    SalesforceValue,
    encode_hubspot,
    encode_salesforce,
    inbound,
    outbound,
)
from connector.mapping.values import UNCHANGED, Origin, Unchanged, ValueMap

__all__ = ["FieldMapping", "MappingSet", "Origin", "Target"]


@dataclass(frozen=True, slots=True)
class Target:
    """One CRM field: ``salesforce/Lead/Status`` or ``hubspot/contacts/hs_lead_status``."""

    system: System
    object_type: str
    field: str

    def __str__(self) -> str:
        return f"{self.system.value}/{self.object_type}/{self.field}"


@dataclass(frozen=True, slots=True)
class FieldMapping:
    """How one canonical field is kept in step with its Salesforce and HubSpot fields."""

    name: str
    canonical: CanonicalField
    sync: SyncRule
    transforms: tuple[Transform, ...]
    salesforce: Mapping[str, str]  # "Lead"/"Contact" -> field API name
    hubspot: str | None
    value_maps: Mapping[System, ValueMap]
    max_length: int | None
    description: str
    origin: Origin
    target_origins: Mapping[str, Origin] = field(default_factory=dict, compare=False)
    """Where each target was written, by object type (``Lead``, ``Contact``, ``contacts``)."""
    conversions: dict[tuple[Any, ...], Any] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    """Memo for callers converting the same values over and over (a stage, a score): the
    conversions are pure, so their results can be kept (see ``sync.decide._as_written``)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "salesforce", MappingProxyType(dict(self.salesforce)))
        object.__setattr__(self, "value_maps", MappingProxyType(dict(self.value_maps)))
        object.__setattr__(self, "target_origins", MappingProxyType(dict(self.target_origins)))

    def origin_of(self, target: Target) -> Origin:
        """Where ``target`` was written in the file (the mapping's own line if unknown)."""
        return self.target_origins.get(target.object_type, self.origin)

    def targets(self) -> tuple[Target, ...]:
        """Every CRM field this mapping connects to, Salesforce objects first."""
        found = [Target(System.SALESFORCE, obj, name) for obj, name in self.salesforce.items()]
        if self.hubspot is not None:
            found.append(Target(System.HUBSPOT, HUBSPOT_OBJECT, self.hubspot))
        return tuple(found)

    def target(self, system: System, object_type: str) -> str | None:
        """The field on ``system``/``object_type`` (``Lead``, ``Contact``, ``contacts``), if any."""
        if system is System.HUBSPOT:
            return self.hubspot if object_type == HUBSPOT_OBJECT else None
        return self.salesforce.get(object_type)

    def reads_from(self, system: System) -> bool:
        return self.sync.reads(system) and self._has(system)

    def writes_to(self, system: System) -> bool:
        return self.sync.writes(system) and self._has(system)

    def _has(self, system: System) -> bool:
        return bool(self.salesforce) if system is System.SALESFORCE else self.hubspot is not None

    def _limit(self, target_length: int | None) -> int | None:
        if Transform.TRUNCATE not in self.transforms:
            return None
        limits = [n for n in (self.max_length, target_length) if n is not None]
        return min(limits) if limits else None

    def to_salesforce(
        self, value: CanonicalValue, *, target_length: int | None = None
    ) -> SalesforceValue | Literal[Unchanged.UNCHANGED]:
        """The JSON value to write to Salesforce, or :data:`UNCHANGED` to write nothing."""
        result = outbound(
            value,
            self.transforms,
            name=self.name,
            value_map=self.value_maps.get(System.SALESFORCE),
            limit=self._limit(target_length),
        )
        return UNCHANGED if result is UNCHANGED else encode_salesforce(result)

    def from_salesforce(self, raw: SalesforceValue) -> CanonicalValue:
        """The canonical value a Salesforce field value means."""
        return inbound(
            raw,
            self.canonical.type,
            self.transforms,
            name=self.name,
            value_map=self.value_maps.get(System.SALESFORCE),
        )

    def to_hubspot(
        self, value: CanonicalValue, *, target_length: int | None = None
    ) -> HubSpotValue | Literal[Unchanged.UNCHANGED]:
        """The string to write to HubSpot (``""`` clears), or :data:`UNCHANGED`."""
        result = outbound(
            value,
            self.transforms,
            name=self.name,
            value_map=self.value_maps.get(System.HUBSPOT),
            limit=self._limit(target_length),
        )
        return UNCHANGED if result is UNCHANGED else encode_hubspot(result)

    def from_hubspot(self, raw: HubSpotValue | None) -> CanonicalValue:
        """The canonical value a HubSpot property value (a string) means."""
        return inbound(
            raw,
            self.canonical.type,
            self.transforms,
            name=self.name,
            value_map=self.value_maps.get(System.HUBSPOT),
        )


@dataclass(frozen=True)
class MappingSet:
    """Every field mapping from ``mappings/*.yaml``, validated; iterate it in file order."""

    version: int
    files: tuple[str, ...]
    mappings: tuple[FieldMapping, ...]
    value_maps: Mapping[str, ValueMap] = field(default_factory=dict)
    # Each of ``files``' SHA-256, of the bytes read: a plan records them (see sync/plan_seal.py).
    sha256: Mapping[str, str] = field(default_factory=dict)
    # The set is immutable: lookups asked once per person and record are computed once.
    _lookups: dict[tuple[Any, ...], Any] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "value_maps", MappingProxyType(dict(self.value_maps)))
        object.__setattr__(self, "sha256", MappingProxyType(dict(self.sha256)))

    def __iter__(self) -> Iterator[FieldMapping]:
        return iter(self.mappings)

    def __len__(self) -> int:
        return len(self.mappings)

    def get(self, name: str) -> FieldMapping:
        """The mapping called ``name`` (raises ``KeyError``)."""
        for mapping in self.mappings:
            if mapping.name == name:
                return mapping
        raise KeyError(name)

    def _lookup(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        if key not in self._lookups:
            self._lookups[key] = compute()
        return self._lookups[key]

    def for_field(self, canonical: str) -> tuple[FieldMapping, ...]:
        """Every mapping of one canonical field (``stage`` usually has several)."""
        found: tuple[FieldMapping, ...] = self._lookup(
            ("for_field", canonical),
            lambda: tuple(m for m in self.mappings if m.canonical.name == canonical),
        )
        return found

    def for_object(self, system: System, object_type: str) -> tuple[FieldMapping, ...]:
        """Mappings with a field on ``system``/``object_type``."""
        return tuple(m for m in self.mappings if m.target(system, object_type) is not None)

    def fields_to_read(self, system: System, object_type: str) -> tuple[str, ...]:
        """Field names to request when pulling ``object_type`` (mappings that read from it)."""
        names = [
            name
            for m in self.mappings
            if m.reads_from(system) and (name := m.target(system, object_type)) is not None
        ]
        return tuple(dict.fromkeys(names))

    def writes(self, system: System, object_type: str) -> tuple[tuple[FieldMapping, str], ...]:
        """(mapping, field) pairs the connector may write on ``system``/``object_type``."""
        found: tuple[tuple[FieldMapping, str], ...] = self._lookup(
            ("writes", system, object_type),
            lambda: tuple(
                (m, name)
                for m in self.mappings
                if m.writes_to(system) and (name := m.target(system, object_type)) is not None
            ),
        )
        return found
