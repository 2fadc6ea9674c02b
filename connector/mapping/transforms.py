"""Pure value conversions: canonical value ↔ Salesforce JSON value ↔ HubSpot wire string.

Outbound, a canonical value runs through the mapping's transforms in file order, then is encoded
for the system: Salesforce takes JSON scalars (dates ``YYYY-MM-DD``, datetimes ISO 8601 UTC);
HubSpot takes strings only (booleans ``"true"``/``"false"``, dates and datetimes as epoch
milliseconds, a date being midnight UTC; ``""`` clears a property). Inbound is the reverse:
decode, transforms in reverse order, then coercion to the canonical field's type. Blank (``None``
or ``""``) stays blank throughout.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Literal

from connector.funnel import FunnelStage
from connector.mapping.canonical import CanonicalValue, ValueType
from connector.mapping.rules import Transform
from connector.mapping.values import UNCHANGED, ConversionError, Unchanged, ValueMap

__all__ = [
    "HubSpotValue",
    "SalesforceValue",
    "TargetValue",
    "decode",
    "encode_hubspot",
    "encode_salesforce",
    "inbound",
    "outbound",
    "target_kind",
    "truncate",
    "utf16_length",
]

SalesforceValue = str | int | float | bool | None
"""A field value as Salesforce's REST API sends and accepts it (a JSON scalar)."""
HubSpotValue = str
"""A property value as HubSpot sends and accepts it: always a string; ``""`` is blank."""
TargetValue = str | int | float | bool | date | datetime | None
"""A value between the transforms and the system encoding."""

_TRUE = frozenset({"true", "yes", "1", "on", "y", "t"})
_FALSE = frozenset({"false", "no", "0", "off", "n", "f"})
_KIND_OF: dict[Transform, ValueType | Literal["date"]] = {
    Transform.DATE: "date",
    Transform.DATETIME: ValueType.DATETIME,
    Transform.EPOCH_MS: ValueType.INTEGER,
    Transform.INTEGER: ValueType.INTEGER,
    Transform.NUMBER: ValueType.NUMBER,
    Transform.BOOLEAN: ValueType.BOOLEAN,
    Transform.MAP_VALUES: ValueType.STRING,
}


def target_kind(
    canonical: ValueType, transforms: Sequence[Transform]
) -> ValueType | Literal["date"]:
    """What the target stores after the transforms: the last type-changing transform decides."""
    for transform in reversed(transforms):
        if transform in _KIND_OF:
            return _KIND_OF[transform]
    return ValueType.STRING if canonical is ValueType.STAGE else canonical


def _fail(name: str, expected: str) -> ConversionError:
    return ConversionError(f"mapping {name!r}: value is not {expected}")


def _to_bool(value: object, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _fail(name, "a boolean (true/false, yes/no, 1/0)")


def _to_float(value: object, name: str) -> float:
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        raise _fail(name, "a finite number")
    return number


def _to_int(value: object, name: str) -> int:
    return round(_to_float(value, name))


def _epoch_ms(moment: datetime) -> int:
    return round(moment.astimezone(UTC).timestamp() * 1000)


def _to_datetime(value: object, name: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(), tzinfo=UTC)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        moment = datetime.fromtimestamp(value / 1000, tz=UTC)
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        moment = datetime.fromtimestamp(int(value.strip()) / 1000, tz=UTC)
    elif isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        # Salesforce writes offsets without a colon (+0000); fromisoformat wants +00:00.
        if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit() and "T" in text:
            text = f"{text[:-2]}:{text[-2:]}"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise _fail(name, "a date-time (ISO 8601 or epoch milliseconds)") from None
    else:
        raise _fail(name, "a date-time")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # CRM date-times without an offset are UTC
    return moment.astimezone(UTC)


def _to_date(value: object, name: str) -> date:
    if isinstance(value, datetime):
        return value.astimezone(UTC).date()
    if isinstance(value, date):
        return value
    return _to_datetime(value, name).date()


def decode(raw: object, kind: ValueType | Literal["date"], name: str) -> TargetValue:
    """Parse a raw CRM value (JSON scalar or HubSpot string) into the kind the target stores."""
    if raw is None or (isinstance(raw, str) and raw == ""):
        return None
    if kind == "date":
        return _to_date(raw, name)
    if kind is ValueType.DATETIME:
        return _to_datetime(raw, name)
    if kind is ValueType.INTEGER:
        return _to_int(raw, name)
    if kind is ValueType.NUMBER:
        return _to_float(raw, name)
    if kind is ValueType.BOOLEAN:
        return _to_bool(raw, name)
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


def utf16_length(text: str) -> int:
    """How long ``text`` is in UTF-16 code units: a character outside the Basic Multilingual
    Plane (most emoji, 𝔘) counts two.

    Salesforce runs on Java strings, whose length is in UTF-16 code units. Salesforce Help
    article 005166849 ("Surrogate Pair Characters Are Treated as Two Characters") says formula
    functions and the Apex String class count a surrogate pair as two characters. Counting the
    same way is never longer than what a field holds, whichever count a CRM applies.
    """
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def truncate(text: str, limit: int) -> str:
    """The longest prefix of ``text`` at most ``limit`` UTF-16 code units long; a character is
    kept whole or not at all (a surrogate pair is never split)."""
    if len(text) <= limit // 2 or utf16_length(text) <= limit:
        return text
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return text[:index]
    return text


def _step_out(
    step: Transform, value: TargetValue, value_map: ValueMap | None, limit: int | None, name: str
) -> TargetValue | Unchanged:
    if value is None:
        return None
    if step is Transform.MAP_VALUES:
        if value_map is None:
            raise ConversionError(f"mapping {name!r}: map_values needs a value map")
        return value_map.to_target(str(value))
    if step is Transform.TRIM:
        return str(value).strip() or None
    if step is Transform.LOWERCASE:
        return str(value).lower()
    if step is Transform.TRUNCATE:
        return truncate(str(value), limit) if limit is not None else str(value)
    if step is Transform.NUMBER:
        return _to_float(value, name)
    if step is Transform.INTEGER:
        return _to_int(value, name)
    if step is Transform.BOOLEAN:
        return _to_bool(value, name)
    if step is Transform.DATE:
        return _to_date(value, name)
    if step is Transform.DATETIME:
        return _to_datetime(value, name)
    return _epoch_ms(_to_datetime(value, name))  # Transform.EPOCH_MS


def outbound(
    value: CanonicalValue,
    transforms: Sequence[Transform],
    *,
    name: str,
    value_map: ValueMap | None = None,
    limit: int | None = None,
) -> TargetValue | Unchanged:
    """Run a canonical value through ``transforms`` in order; :data:`UNCHANGED` means skip."""
    current: TargetValue = value.value if isinstance(value, FunnelStage) else value
    for step in transforms:
        result = _step_out(step, current, value_map, limit, name)
        if result is UNCHANGED:
            return UNCHANGED
        current = result
    return current


def _step_in(
    step: Transform, value: TargetValue, value_map: ValueMap | None, name: str
) -> TargetValue:
    if value is None:
        return None
    if step is Transform.MAP_VALUES:
        if value_map is None:
            raise ConversionError(f"mapping {name!r}: map_values needs a value map")
        return value_map.from_target(str(value))
    if step is Transform.TRIM:
        return str(value).strip() or None
    if step is Transform.LOWERCASE:
        return str(value).lower()
    if step in (Transform.DATE, Transform.DATETIME, Transform.EPOCH_MS):
        return _to_datetime(value, name)
    return value  # truncate cannot be undone; number/integer/boolean were decoded already


def _coerce(value: TargetValue, canonical: ValueType, name: str) -> CanonicalValue:
    if value is None:
        return None
    if canonical is ValueType.STAGE:
        try:
            return FunnelStage(str(value))
        except ValueError:
            raise ConversionError(
                f"mapping {name!r}: {str(value)!r} is not a funnel stage; check its value map"
            ) from None
    if canonical is ValueType.STRING:
        return value if isinstance(value, str) else str(decode(value, ValueType.STRING, name))
    if canonical is ValueType.INTEGER:
        return _to_int(value, name)
    if canonical is ValueType.NUMBER:
        return _to_float(value, name)
    if canonical is ValueType.BOOLEAN:
        return _to_bool(value, name)
    return _to_datetime(value, name)


def inbound(
    raw: object,
    canonical: ValueType,
    transforms: Sequence[Transform],
    *,
    name: str,
    value_map: ValueMap | None = None,
) -> CanonicalValue:
    """Turn a raw CRM value into the canonical value: decode, undo transforms, coerce."""
    current = decode(raw, target_kind(canonical, transforms), name)
    for step in reversed(transforms):
        current = _step_in(step, current, value_map, name)
    return _coerce(current, canonical, name)


def encode_salesforce(value: TargetValue) -> SalesforceValue:
    """A transformed value as Salesforce's REST API accepts it."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    if isinstance(value, date):
        return value.isoformat()
    return value


def encode_hubspot(value: TargetValue) -> HubSpotValue:
    """A transformed value as HubSpot's API accepts it: always a string, ``""`` for blank."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return str(_epoch_ms(value))
    if isinstance(value, date):
        # HubSpot date properties hold midnight UTC of the day, in epoch milliseconds.
        return str(_epoch_ms(datetime.combine(value, time(), tzinfo=UTC)))
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)
