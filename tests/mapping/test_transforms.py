"""Transforms are pure and, where they lose nothing, invert each other across both systems."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.funnel import FunnelStage
from connector.mapping import CanonicalValue, ConversionError, ValueMap, ValueType
from connector.mapping.rules import Transform as T
from connector.mapping.transforms import (
    encode_hubspot,
    encode_salesforce,
    inbound,
    outbound,
    truncate,
    utf16_length,
)
from connector.mapping.values import UNCHANGED

MOMENTS = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
).map(lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000))
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1)


def _round_trip_hubspot(value: CanonicalValue, kind: ValueType, transforms: list[T]) -> object:
    converted = outbound(value, transforms, name="f")
    assert converted is not UNCHANGED
    wire = encode_hubspot(converted)
    assert isinstance(wire, str)
    return inbound(wire, kind, transforms, name="f")


def _round_trip_salesforce(value: CanonicalValue, kind: ValueType, transforms: list[T]) -> object:
    converted = outbound(value, transforms, name="f")
    assert converted is not UNCHANGED
    sent = encode_salesforce(converted)
    assert sent is None or isinstance(sent, str | int | float | bool)
    return inbound(sent, kind, transforms, name="f")


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_numbers_survive_both_systems(value: float) -> None:
    assert _round_trip_hubspot(value, ValueType.NUMBER, [T.NUMBER]) == value
    assert _round_trip_salesforce(value, ValueType.NUMBER, [T.NUMBER]) == value


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_integers_survive_both_systems(value: int) -> None:
    assert _round_trip_hubspot(value, ValueType.INTEGER, [T.INTEGER]) == value
    assert _round_trip_salesforce(value, ValueType.INTEGER, []) == value


@given(st.booleans())
def test_booleans_survive_both_systems(value: bool) -> None:
    assert _round_trip_hubspot(value, ValueType.BOOLEAN, [T.BOOLEAN]) is value
    assert _round_trip_salesforce(value, ValueType.BOOLEAN, [T.BOOLEAN]) is value


@given(MOMENTS)
def test_datetimes_survive_both_systems_at_millisecond_precision(value: datetime) -> None:
    for transforms in ([], [T.DATETIME], [T.EPOCH_MS]):
        assert _round_trip_hubspot(value, ValueType.DATETIME, transforms) == value
        assert _round_trip_salesforce(value, ValueType.DATETIME, transforms) == value


@given(MOMENTS)
def test_date_keeps_the_utc_day_as_midnight(value: datetime) -> None:
    midnight = datetime.combine(value.date(), time(), tzinfo=UTC)
    assert _round_trip_hubspot(value, ValueType.DATETIME, [T.DATE]) == midnight
    assert _round_trip_salesforce(value, ValueType.DATETIME, [T.DATE]) == midnight


@given(TEXT)
def test_trimmed_lowercase_text_is_a_fixed_point(value: str) -> None:
    normal = value.strip().lower()
    assert _round_trip_hubspot(normal, ValueType.STRING, [T.TRIM, T.LOWERCASE]) == normal
    assert _round_trip_salesforce(normal, ValueType.STRING, [T.TRIM, T.LOWERCASE]) == normal


def test_hubspot_wire_format_follows_the_reference() -> None:
    assert encode_hubspot(True) == "true"
    assert encode_hubspot(None) == ""
    assert encode_hubspot(42.0) == "42"
    assert encode_hubspot(42.5) == "42.5"
    assert encode_hubspot(date(2024, 1, 2)) == "1704153600000"  # midnight UTC, epoch ms
    assert encode_hubspot(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)) == "1704164645000"


def test_salesforce_values_are_json_scalars_with_iso_dates() -> None:
    assert encode_salesforce(date(2024, 1, 2)) == "2024-01-02"
    assert (
        encode_salesforce(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2024-01-02T03:04:05.000Z"
    )
    assert encode_salesforce(12.5) == 12.5


def test_inbound_accepts_the_date_spellings_the_apis_use() -> None:
    expected = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    for raw in ("2024-01-02T03:04:05.000+0000", "2024-01-02T03:04:05Z", "1704164645000"):
        assert inbound(raw, ValueType.DATETIME, [], name="f") == expected
    day = datetime(2024, 1, 2, tzinfo=UTC)
    for raw in ("2024-01-02", "1704153600000"):
        assert inbound(raw, ValueType.DATETIME, [T.DATE], name="f") == day


# Any text a user can type or paste, hostile included: control characters and NUL, emoji and
# other astral characters, combining marks, zero-width and Unicode spaces. (Lone surrogates are
# left out: they cannot travel as UTF-8 JSON.)
NOT_SURROGATES: tuple[Literal["Cs"]] = ("Cs",)
ANY_TEXT = st.text(st.characters(blacklist_categories=NOT_SURROGATES), max_size=300)
# The shipped text chains (mappings/*.yaml), at Salesforce's lengths and HubSpot's (no limit).
TEXT_CHAINS = st.sampled_from(
    [[T.TRIM, T.TRUNCATE], [T.TRIM, T.LOWERCASE], [T.TRIM], [T.TRUNCATE], []]
)
LIMITS = st.sampled_from([None, 1, 2, 3, 40, 80, 128, 255])


def _step(
    value: CanonicalValue, system: str, transforms: list[T], limit: int | None
) -> CanonicalValue:
    """Write ``value`` to a system and read back what it then holds, as the sync does."""
    converted = outbound(value, transforms, name="f", limit=limit)
    assert converted is not UNCHANGED
    raw = encode_salesforce(converted) if system == "salesforce" else encode_hubspot(converted)
    return inbound(raw, ValueType.STRING, transforms, name="f")


@given(ANY_TEXT, TEXT_CHAINS, LIMITS, st.sampled_from(["salesforce", "hubspot"]))
def test_text_written_and_read_back_is_a_fixed_point_after_one_step(
    text: str, transforms: list[T], limit: int | None, system: str
) -> None:
    # What a CRM holds after one write, written again, reads back the same: the run after a
    # write finds nothing to write (the invariant a second sync rests on).
    once = inbound(text, ValueType.STRING, transforms, name="f")  # as read from a CRM
    written = _step(once, system, transforms, limit)
    assert _step(written, system, transforms, limit) == written
    if isinstance(written, str) and limit is not None and T.TRUNCATE in transforms:
        assert utf16_length(written) <= limit


@given(ANY_TEXT, st.integers(min_value=0, max_value=400))
def test_truncate_counts_utf16_code_units_and_keeps_characters_whole(text: str, limit: int) -> None:
    cut = truncate(text, limit)
    assert text.startswith(cut)
    assert utf16_length(cut) <= limit
    if cut != text:  # as long as it can be: the next character would not fit
        assert utf16_length(text[: len(cut) + 1]) > limit


def test_truncate_counts_an_emoji_as_two() -> None:
    assert utf16_length("😀") == 2
    assert truncate("😀" * 200, 128) == "😀" * 64
    assert truncate("a😀", 2) == "a"  # never half an emoji
    assert outbound("  " + "😀" * 70, [T.TRIM, T.TRUNCATE], name="f", limit=40) == "😀" * 20
    assert truncate("Cafe\u0301", 4) == "Cafe"  # a combining mark is a character of its own
    assert truncate("A\x00B", 2) == "A\x00"


def test_truncate_cuts_to_the_smaller_limit_and_blank_stays_blank() -> None:
    assert outbound("abcdef", [T.TRUNCATE], name="f", limit=3) == "abc"
    assert outbound("  ", [T.TRIM], name="f") is None
    assert inbound("", ValueType.STRING, [T.TRIM], name="f") is None


def test_boolean_reads_common_spellings_and_refuses_others_without_echoing_the_value() -> None:
    for raw, meaning in (("Yes", True), ("0", False), ("true", True), ("off", False)):
        assert inbound(raw, ValueType.BOOLEAN, [T.BOOLEAN], name="budget") is meaning
    with pytest.raises(ConversionError) as caught:
        inbound("secret@example.com", ValueType.BOOLEAN, [T.BOOLEAN], name="budget")
    assert "secret" not in str(caught.value)
    assert "budget" in str(caught.value)


def test_stage_value_maps_are_closed_and_may_skip_a_stage() -> None:
    values = ValueMap(
        "status",
        {
            "lead": "New",
            "prospect": "Working",
            "opportunity": "Working",
            "customer": None,
            "disqualified": "Lost",
        },
        {"New": "lead", "Working": "prospect", "Lost": "disqualified", "Archived": None},
        closed=True,
    )
    transforms = [T.MAP_VALUES]
    assert outbound(FunnelStage.CUSTOMER, transforms, name="f", value_map=values) is UNCHANGED
    assert outbound(FunnelStage.OPPORTUNITY, transforms, name="f", value_map=values) == "Working"
    assert inbound("working", ValueType.STAGE, transforms, name="f", value_map=values) is (
        FunnelStage.PROSPECT
    )
    assert inbound("Archived", ValueType.STAGE, transforms, name="f", value_map=values) is None
    with pytest.raises(ConversionError, match="'Nurturing'"):
        inbound("Nurturing", ValueType.STAGE, transforms, name="f", value_map=values)


def test_open_value_maps_pass_unlisted_values_through() -> None:
    values = ValueMap("industry", {"software": "Technology"}, {"Technology": "software"})
    assert outbound("software", [T.MAP_VALUES], name="f", value_map=values) == "Technology"
    assert outbound("farming", [T.MAP_VALUES], name="f", value_map=values) == "farming"
    assert inbound("Banking", ValueType.STRING, [T.MAP_VALUES], name="f", value_map=values) == (
        "Banking"
    )
