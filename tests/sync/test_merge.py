from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.errors import System
from connector.mapping.rules import SyncRule
from connector.sync.merge import Change, Observation, Seen, merge_field

SF, HS = System.SALESFORCE, System.HUBSPOT
T0 = datetime(2026, 5, 1, 12, tzinfo=UTC)


def obs(value: object, minutes: int = 0) -> Observation:
    return Observation(value, T0 + timedelta(minutes=minutes))  # type: ignore[arg-type]


def test_first_sight_two_way_equal_values_write_nothing() -> None:
    merged = merge_field(SyncRule.TWO_WAY, {SF: obs("CTO"), HS: obs("CTO", 5)}, {})
    assert merged.value == "CTO"
    assert merged.writes == {}


def test_first_sight_a_blank_never_beats_a_value() -> None:
    merged = merge_field(SyncRule.TWO_WAY, {SF: obs("CTO"), HS: obs(None, 5)}, {})
    assert merged.value == "CTO"
    assert merged.writes == {HS: "CTO"}


def test_two_way_latest_edit_wins_and_ties_go_to_salesforce() -> None:
    memory = {SF: Seen("old", True), HS: Seen("old", True)}
    later_hubspot = merge_field(SyncRule.TWO_WAY, {SF: obs("a", 1), HS: obs("b", 2)}, memory, "old")
    assert (later_hubspot.value, later_hubspot.writes) == ("b", {SF: "b"})
    tie = merge_field(SyncRule.TWO_WAY, {SF: obs("a", 1), HS: obs("b", 1)}, memory, "old")
    assert (tie.value, tie.writes) == ("a", {HS: "a"})


def test_our_own_write_coming_back_is_an_echo_not_an_edit() -> None:
    # We wrote "VP" to HubSpot after Salesforce changed; HubSpot's record is now newer.
    memory = {SF: Seen("VP", True), HS: Seen("Director", True, "VP", True)}
    merged = merge_field(SyncRule.TWO_WAY, {SF: obs("VP", 0), HS: obs("VP", 9)}, memory, "VP")
    assert merged.changes[HS] is Change.ECHO
    assert merged.writes == {}


def test_echo_does_not_override_a_real_edit_elsewhere() -> None:
    memory = {SF: Seen("VP", True), HS: Seen("Director", True, "VP", True)}
    merged = merge_field(SyncRule.TWO_WAY, {SF: obs("CEO", 0), HS: obs("VP", 9)}, memory, "VP")
    assert merged.changes == {SF: Change.EDITED, HS: Change.ECHO}
    assert (merged.value, merged.writes) == ("CEO", {HS: "CEO"})


def test_deliberate_clearing_propagates_under_two_way_only() -> None:
    memory = {SF: Seen("x", True), HS: Seen("x", True)}
    cleared = merge_field(SyncRule.TWO_WAY, {SF: obs(None, 3), HS: obs("x")}, memory, "x")
    assert cleared.writes == {HS: None}
    preferred = merge_field(
        SyncRule.PREFER_SALESFORCE, {SF: obs(None, 3), HS: obs("x")}, memory, "x"
    )
    assert preferred.value == "x"  # HubSpot fills Salesforce's blank
    assert preferred.writes == {SF: "x"}


@pytest.mark.parametrize(
    ("rule", "sf", "hs", "value", "writes"),
    [
        (SyncRule.PREFER_SALESFORCE, "a", "b", "a", {HS: "a"}),
        (SyncRule.PREFER_SALESFORCE, None, "b", "b", {SF: "b"}),
        (SyncRule.PREFER_HUBSPOT, "a", "b", "b", {SF: "b"}),
        (SyncRule.PREFER_HUBSPOT, "a", "", "a", {HS: "a"}),
        (SyncRule.SALESFORCE_ONLY, "a", "b", "a", {HS: "a"}),
        (SyncRule.SALESFORCE_ONLY, None, "b", None, {}),  # a blank source never wipes
        (SyncRule.HUBSPOT_ONLY, "a", "b", "b", {SF: "b"}),
        (SyncRule.NONE, "a", "b", None, {}),
    ],
)
def test_rule_table(
    rule: SyncRule, sf: str | None, hs: str | None, value: str | None, writes: dict[System, str]
) -> None:
    merged = merge_field(rule, {SF: obs(sf), HS: obs(hs, 1)}, {})
    assert merged.value == value
    assert merged.writes == writes


def test_prefer_salesforce_never_overwrites_a_filled_salesforce_value() -> None:
    memory = {SF: Seen("a", True), HS: Seen("a", True)}
    merged = merge_field(SyncRule.PREFER_SALESFORCE, {SF: obs("a"), HS: obs("z", 5)}, memory, "a")
    assert merged.writes == {HS: "a"}


def test_a_preferred_system_holding_our_truncated_copy_keeps_the_original() -> None:
    # HubSpot's 60-character phone filled Salesforce's blank 40-character Phone, cut to fit.
    # Salesforce now holds crmsync's own copy: HubSpot keeps its whole value, nothing is written.
    whole, cut = "+1 555 0100 " + "9" * 48, ("+1 555 0100 " + "9" * 48)[:40]
    memory = {SF: Seen(None, True, cut, True), HS: Seen(whole, True)}
    merged = merge_field(
        SyncRule.PREFER_SALESFORCE, {SF: obs(cut, 5), HS: obs(whole)}, memory, whole
    )
    assert merged.changes[SF] is Change.ECHO
    assert (merged.value, merged.writes) == (whole, {})
    # A user who then edits Salesforce's value is preferred again.
    edited = merge_field(
        SyncRule.PREFER_SALESFORCE, {SF: obs("+1 555 0199", 9), HS: obs(whole)}, memory, whole
    )
    assert (edited.value, edited.writes) == ("+1 555 0199", {HS: "+1 555 0199"})


def test_values_compare_in_json_form() -> None:
    memory = {SF: Seen(250, True), HS: Seen(250, True)}
    merged = merge_field(SyncRule.TWO_WAY, {SF: obs(250.0), HS: obs(250)}, memory, 250)
    assert merged.writes == {}


def test_only_one_system_has_a_record() -> None:
    merged = merge_field(SyncRule.TWO_WAY, {HS: obs("x")}, {})
    assert (merged.value, merged.writes) == ("x", {})


values = st.one_of(st.none(), st.sampled_from(["a", "b", "c", ""]), st.integers(0, 3))
rules = st.sampled_from(list(SyncRule))


@given(rules, values, values, st.integers(-5, 5), values, values)
def test_applying_the_writes_reaches_a_fixed_point(
    rule: SyncRule, sf: object, hs: object, skew: int, seen_sf: object, seen_hs: object
) -> None:
    """Converge, then a second merge with the systems as written writes nothing (no ping-pong)."""
    observed = {SF: obs(sf), HS: obs(hs, skew)}
    memory = {SF: Seen(seen_sf, True), HS: Seen(seen_hs, True)}  # type: ignore[arg-type]
    first = merge_field(rule, observed, memory, None)

    after: dict[System, Observation] = {}
    remembered: dict[System, Seen] = {}
    for system, current in observed.items():
        if system in first.writes:
            value = first.writes[system]
            after[system] = Observation(value, current.modified_at + timedelta(hours=1))
            remembered[system] = Seen(value, True, value, True)
        else:
            after[system] = current
            remembered[system] = Seen(current.value, True)
    second = merge_field(rule, after, remembered, first.value)
    assert second.writes == {}
    assert second.value == first.value or rule is SyncRule.NONE


def test_a_record_lacking_a_preferred_value_does_not_erase_it_a_user_clearing_it_does() -> None:
    """A Salesforce record crmsync re-created for someone (a ``salesforce_only`` field is
    never written there) is blank where the old record had 500 employees: that blank, first
    seen or seen again unchanged, keeps the 500. A user clearing the value clears it."""
    only = SyncRule.SALESFORCE_ONLY
    first_seen = merge_field(only, {SF: obs(None)}, {}, 500)
    again = merge_field(only, {SF: obs(None)}, {SF: Seen(None, True)}, 500)
    assert (first_seen.value, again.value) == (500, 500)
    assert first_seen.writes == again.writes == {}
    assert again.reason == "blank in salesforce; kept"
    cleared = merge_field(only, {SF: obs(None, 5)}, {SF: Seen(500, True)}, 500)
    assert cleared.value is None
    # prefer_salesforce: Salesforce blank all along, the user clears HubSpot's value.
    prefer = SyncRule.PREFER_SALESFORCE
    memory = {SF: Seen(None, True), HS: Seen("Acme", True)}
    hs_cleared = merge_field(prefer, {SF: obs(None), HS: obs(None, 5)}, memory, "Acme")
    assert hs_cleared.value is None
    unchanged = {SF: Seen(None, True), HS: Seen(None, True)}
    kept = merge_field(prefer, {SF: obs(None), HS: obs(None)}, unchanged, "Acme")
    assert kept.value == "Acme"
