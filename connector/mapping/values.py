"""Value maps: how a canonical value (e.g. a funnel stage) is spelt in one CRM field.

Outbound is one value per canonical value (what crmsync writes); ``None`` there means "leave the
field as it is for this stage". Inbound may be many-to-one (every value crmsync may read; ``None``
there means "this value says nothing about the canonical value"); it is the reversed outbound map
plus the file's explicit ``inbound`` entries, which win.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Final, Literal

__all__ = ["UNCHANGED", "ConversionError", "Origin", "Unchanged", "ValueMap"]


@dataclass(frozen=True, slots=True)
class Origin:
    """Where something was defined in a mapping file, for messages."""

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        return ":".join(str(part) for part in (self.file, self.line, self.column) if part)


class Unchanged(Enum):
    """Marker returned by outbound conversion when the target must not be written."""

    UNCHANGED = "unchanged"


UNCHANGED: Final = Unchanged.UNCHANGED


class ConversionError(ValueError):
    """A value could not be converted. The message names the mapping, never the value itself
    (CRM values are personal data), except for picklist vocabulary, which is not."""


@dataclass(frozen=True, slots=True)
class ValueMap:
    """A named two-way value translation.

    ``closed`` maps (for funnel stages) refuse values they do not list; open maps pass unlisted
    values through unchanged.
    """

    name: str
    outbound: Mapping[str, str | None]
    inbound: Mapping[str, str | None]
    closed: bool = False
    origins: Mapping[str, Origin] = field(default_factory=dict, compare=False)
    """Where each outbound entry was written (by canonical value), for messages."""
    _folded: Mapping[str, str | None] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "outbound", MappingProxyType(dict(self.outbound)))
        object.__setattr__(self, "inbound", MappingProxyType(dict(self.inbound)))
        object.__setattr__(self, "origins", MappingProxyType(dict(self.origins)))
        folded = {key.casefold(): value for key, value in self.inbound.items()}
        object.__setattr__(self, "_folded", MappingProxyType(folded))

    def to_target(self, canonical: str) -> str | Literal[Unchanged.UNCHANGED]:
        """The value to write for ``canonical``, or :data:`UNCHANGED` to write nothing."""
        if canonical in self.outbound:
            value = self.outbound[canonical]
            return UNCHANGED if value is None else value
        if self.closed:
            raise ConversionError(f"value map {self.name!r} has no entry for {canonical!r}")
        return canonical

    def from_target(self, value: str) -> str | None:
        """The canonical value a target value means (exact match first, then ignoring case);
        ``None`` when the map says the value tells nothing (``inbound: {other: null}``)."""
        if value in self.inbound:
            return self.inbound[value]
        if value.casefold() in self._folded:
            return self._folded[value.casefold()]
        if self.closed:
            raise ConversionError(
                f"value map {self.name!r} does not say what {value!r} means; add it under inbound"
            )
        return value

    def target_values(self) -> tuple[str, ...]:
        """Every target value the map writes or reads, in file order, without repeats."""
        written = [value for value in self.outbound.values() if value is not None]
        return tuple(dict.fromkeys([*written, *self.inbound]))
