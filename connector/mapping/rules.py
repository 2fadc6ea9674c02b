"""Sync rules and transforms: the two closed vocabularies a mapping file chooses from.

Sync rules decide which system a field is read from and written to::

    rule               reads     writes to Salesforce      writes to HubSpot       on conflict
    two_way            SF + HS   yes                       yes                     latest wins
    prefer_salesforce  SF + HS   only where SF is blank    yes                     SF unless blank
    prefer_hubspot     SF + HS   yes                       only where HS is blank  HS unless blank
    salesforce_only    SF        never                     yes                     SF
    hubspot_only       HS        yes                       never                   HS
    none               nothing   never                     never                   (not synced)

"Blank" means null or the empty string. Under ``two_way`` a cleared value propagates like any
other change; under ``prefer_*`` a cleared preferred value lets the other system's value win.
Under ``prefer_*`` and ``*_only`` a blank empties the canonical value only when a user cleared
it: a record that merely lacks the value (one crmsync created, where a ``*_only`` field is never
written) does not erase what is known.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType
from typing import Final

from connector.errors import System
from connector.mapping.canonical import ValueType

__all__ = ["TRANSFORMS_FOR_TYPE", "SyncRule", "Transform"]


class SyncRule(StrEnum):
    """Which system a mapped field is read from and written to (see the module table)."""

    TWO_WAY = "two_way"
    PREFER_SALESFORCE = "prefer_salesforce"
    PREFER_HUBSPOT = "prefer_hubspot"
    SALESFORCE_ONLY = "salesforce_only"
    HUBSPOT_ONLY = "hubspot_only"
    NONE = "none"

    def reads(self, system: System) -> bool:
        """Is the field read from ``system`` into the canonical record?"""
        return _READS[self][system is System.HUBSPOT]

    def writes(self, system: System) -> bool:
        """May the connector write the field to ``system`` (perhaps only where it is blank)?"""
        return _WRITES[self][system is System.HUBSPOT]

    def writes_only_blank(self, system: System) -> bool:
        """Does the connector write to ``system`` only where the field there is blank?"""
        return (self is SyncRule.PREFER_SALESFORCE and system is System.SALESFORCE) or (
            self is SyncRule.PREFER_HUBSPOT and system is System.HUBSPOT
        )

    @property
    def preferred(self) -> System | None:
        """The system whose non-blank value wins a conflict; ``None`` for ``two_way``/``none``."""
        if self in (SyncRule.PREFER_SALESFORCE, SyncRule.SALESFORCE_ONLY):
            return System.SALESFORCE
        if self in (SyncRule.PREFER_HUBSPOT, SyncRule.HUBSPOT_ONLY):
            return System.HUBSPOT
        return None


# (salesforce, hubspot)
_READS: Final = {
    SyncRule.TWO_WAY: (True, True),
    SyncRule.PREFER_SALESFORCE: (True, True),
    SyncRule.PREFER_HUBSPOT: (True, True),
    SyncRule.SALESFORCE_ONLY: (True, False),
    SyncRule.HUBSPOT_ONLY: (False, True),
    SyncRule.NONE: (False, False),
}
_WRITES: Final = {
    SyncRule.TWO_WAY: (True, True),
    SyncRule.PREFER_SALESFORCE: (True, True),
    SyncRule.PREFER_HUBSPOT: (True, True),
    SyncRule.SALESFORCE_ONLY: (False, True),
    SyncRule.HUBSPOT_ONLY: (True, False),
    SyncRule.NONE: (False, False),
}


class Transform(StrEnum):
    """A named, pure value conversion; each works in both directions where that means something.

    ``trim``/``lowercase`` normalise text both ways. ``number``/``integer``/``boolean`` coerce
    what the CRM stores (``"12.0"``, ``"yes"``) to the canonical type and back. ``date``,
    ``datetime`` and ``epoch_ms`` say how the target stores a point in time. ``truncate`` cuts
    outbound text to ``max_length`` or the target's length, counted in UTF-16 code units as
    Salesforce counts them (an emoji counts two), never inside a character. ``map_values``
    translates through the mapping's value maps.
    """

    TRIM = "trim"
    LOWERCASE = "lowercase"
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    EPOCH_MS = "epoch_ms"
    TRUNCATE = "truncate"
    MAP_VALUES = "map_values"


_TEXT = frozenset({Transform.TRIM, Transform.LOWERCASE, Transform.TRUNCATE, Transform.MAP_VALUES})
_NUMERIC = frozenset({Transform.NUMBER, Transform.INTEGER})

TRANSFORMS_FOR_TYPE: Final = MappingProxyType(
    {
        ValueType.STRING: _TEXT,
        ValueType.INTEGER: _NUMERIC,
        ValueType.NUMBER: _NUMERIC,
        ValueType.BOOLEAN: frozenset({Transform.BOOLEAN}),
        ValueType.DATETIME: frozenset({Transform.DATE, Transform.DATETIME, Transform.EPOCH_MS}),
        ValueType.STAGE: frozenset({Transform.MAP_VALUES}),
    }
)
"""Which transforms make sense for each canonical value type."""
