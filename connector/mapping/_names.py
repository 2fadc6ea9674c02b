"""Offline checks of CRM field names against the catalogue: syntax, near misses, read-only."""

from __future__ import annotations

import re
from collections.abc import Iterable

from connector.mapping.catalogue import (
    CONNECTOR_HUBSPOT_PROPERTIES,
    CONNECTOR_SALESFORCE_FIELDS,
    STANDARD_HUBSPOT_PROPERTIES,
    STANDARD_SALESFORCE_FIELDS,
)

__all__ = ["check_hubspot_name", "check_salesforce_name", "near_miss", "read_only_reason"]

_SF_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_HS_NAME = re.compile(r"^[a-z0-9_]+$")
_SF_CONNECTOR = {field.name.casefold(): field.name for field in CONNECTOR_SALESFORCE_FIELDS}
_HS_KNOWN = frozenset(STANDARD_HUBSPOT_PROPERTIES) | {f.name for f in CONNECTOR_HUBSPOT_PROPERTIES}


def _distance(left: str, right: str) -> int:
    """Optimal string alignment distance (edits, counting a swap of neighbours as one)."""
    previous2: list[int] = []
    previous = list(range(len(right) + 1))
    for i, a in enumerate(left, 1):
        current = [i]
        for j, b in enumerate(right, 1):
            cost = 0 if a == b else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a == right[j - 2] and left[i - 2] == b:
                value = min(value, previous2[j - 2] + 1)
            current.append(value)
        previous2, previous = previous, current
    return previous[-1]


def near_miss(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate ``word`` is most likely a typo of (ignoring case), if any is close enough."""
    folded = word.casefold()
    allowed = 1 if len(word) < 10 else 2
    best: tuple[int, str] | None = None
    for candidate in candidates:
        distance = _distance(folded, candidate.casefold())
        if distance <= allowed and (best is None or distance < best[0]):
            best = (distance, candidate)
    return best[1] if best else None


def check_salesforce_name(object_type: str, name: str) -> tuple[str, str] | None:
    """(message, hint) if ``name`` cannot be a field of ``object_type``; ``None`` if it may be."""
    if " " in name.strip():
        return (
            f"{name!r} is not a Salesforce API name (API names have no spaces)",
            "use the field's API name from Setup > Object Manager, e.g. 'Lead_Score__c'",
        )
    if not _SF_NAME.fullmatch(name) or (name.endswith("_") and not name.endswith("__c")):
        return (
            f"{name!r} is not a Salesforce API name",
            "API names use letters, digits and underscores; custom fields end in '__c'",
        )
    standard = STANDARD_SALESFORCE_FIELDS[object_type]
    folded = {key.casefold() for key in standard}
    if name.casefold() in folded or name.casefold() in _SF_CONNECTOR:
        return None
    if name.casefold().endswith("__c"):
        return None  # an admin's own custom field: only the live check can tell
    guess = near_miss(name, [*standard, *_SF_CONNECTOR.values()])
    if guess is not None:
        return (f"{object_type} has no standard field {name!r}", f"did you mean {guess!r}?")
    other = "Contact" if object_type == "Lead" else "Lead"
    if name.casefold() in {key.casefold() for key in STANDARD_SALESFORCE_FIELDS[other]}:
        return (
            f"{name!r} is a standard {other} field, not a {object_type} field",
            f"remove it from {object_type.lower()}: or name a {object_type} field"
            + (" (company data lives on the Account)" if object_type == "Contact" else ""),
        )
    return None


def check_hubspot_name(name: str) -> tuple[str, str] | None:
    """(message, hint) if ``name`` cannot be a HubSpot contact property's internal name."""
    if " " in name.strip():
        return (
            f"{name!r} is a label, not a HubSpot internal property name",
            "use the internal name (lowercase, underscores), e.g. 'crmsync_lead_score'",
        )
    if not _HS_NAME.fullmatch(name):
        guess = name.lower() if name.lower() in _HS_KNOWN else near_miss(name, _HS_KNOWN)
        hint = f"did you mean {guess!r}?" if guess else "internal names are lowercase"
        return (f"{name!r} is not a HubSpot internal property name", hint)
    if name in _HS_KNOWN:
        return None
    guess = near_miss(name, _HS_KNOWN)
    if guess is not None:
        return (f"{name!r} is not a default HubSpot contact property", f"did you mean {guess!r}?")
    return None


def read_only_reason(system: str, object_type: str, name: str) -> str | None:
    """Why a catalogued field can never be written, or ``None`` if it may be writable."""
    if system == "hubspot":
        known = STANDARD_HUBSPOT_PROPERTIES.get(name)
        if known is not None and not known.writable:
            return f"HubSpot calculates {name!r}; it is read-only"
        return None
    by_case = {
        key.casefold(): field for key, field in STANDARD_SALESFORCE_FIELDS[object_type].items()
    }
    field = by_case.get(name.casefold())
    if field is not None and not field.writable:
        return f"{object_type}.{field.name} is set by Salesforce and is not updateable"
    return None
