"""The corpus of broken mapping files: each one produces its own precise message.

Every case names the file, the line and column the admin must look at, what is wrong, and the
hint that says how to fix it. The last cases are only visible against the live schema (here a
snapshot of describe / properties output in ``schemas/standard.json``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.errors import MappingError, Problem, display_path
from connector.mapping import load_mappings
from connector.mapping.live import validate_live
from connector.mapping.snapshot import load_schema_snapshot

BROKEN = Path(__file__).parent / "broken"
SCHEMA = Path(__file__).parent / "schemas" / "standard.json"

# file -> [(line, column, mapping or entry, message fragment, hint fragment)]
OFFLINE: dict[str, list[tuple[int, int, str, str, str]]] = {
    "01_bad_yaml.yaml": [
        (5, 12, "", "not valid YAML: while parsing a flow mapping", "indentation")
    ],
    "02_duplicate_key.yaml": [(7, 5, "", "duplicate key", "")],
    "03_missing_version.yaml": [
        (2, 1, "version", "required key 'version' is missing", "version: 1")
    ],
    "04_unsupported_version.yaml": [(1, 1, "version", "unsupported version 2", "version: 1")],
    "05_unknown_key.yaml": [
        (3, 3, "mapping 'email'", "required key 'sync' is missing", "two_way, prefer_salesforce"),
        (5, 5, "mapping 'email'", "unknown key 'snyc'", "did you mean 'sync'?"),
    ],
    "06_unknown_canonical_field.yaml": [
        (3, 3, "mapping 'emial'", "unknown canonical field 'emial'", "did you mean 'email'?")
    ],
    "07_unknown_sync_rule.yaml": [
        (5, 5, "mapping 'email'", "unknown sync rule 'two-way'", "did you mean 'two_way'?")
    ],
    "08_unknown_transform.yaml": [
        (6, 23, "mapping 'email'", "unknown transform 'lowercas'", "did you mean 'lowercase'?")
    ],
    "09_wrong_type.yaml": [
        (8, 5, "mapping 'title'", "max_length must be a whole number, not 'forty'", "")
    ],
    "10_transform_not_for_type.yaml": [
        (
            7,
            25,
            "mapping 'score.total'",
            "transform lowercase does not apply to 'score.total' (number field)",
            "transforms for number fields: integer, number",
        )
    ],
    "11_missing_stage.yaml": [
        (
            11,
            5,
            "value map 'lifecycle'",
            "no outbound value for stage customer, disqualified",
            "null leaves the field unchanged",
        )
    ],
    "12_not_a_stage.yaml": [
        (10, 5, "value map 'stages'", "no outbound value for stage opportunity", ""),
        (13, 7, "value map 'stages'", "'opportunty' is not a funnel stage", "'opportunity'?"),
    ],
    "13_ambiguous_inbound.yaml": [
        (
            14,
            7,
            "value map 'lead_status'",
            "'Working - Contacted' is written for prospect and opportunity",
            "inbound: {'Working - Contacted': prospect}",
        )
    ],
    "14_unknown_value_map.yaml": [
        (
            8,
            14,
            "mapping 'lifecycle_stage'",
            "unknown value map 'lifecycle_stges'",
            "did you mean 'lifecycle_stages'?",
        )
    ],
    "15_duplicate_target.yaml": [
        (
            9,
            5,
            "mapping 'work_email'",
            "mappings 'email' and 'work_email' both write hubspot/contacts/email",
            "15_duplicate_target.yaml:3",
        )
    ],
    "16_read_only_target.yaml": [
        (
            5,
            5,
            "mapping 'score.total'",
            "HubSpot calculates 'hubspotscore'; it is read-only, but sync two_way writes to it",
            "sync: hubspot_only",
        )
    ],
    "17_salesforce_typo.yaml": [
        (4, 18, "mapping 'email'", "Lead has no standard field 'Emial'", "did you mean 'Email'?")
    ],
    "18_hubspot_label.yaml": [
        (5, 5, "mapping 'title'", "'Job Title' is a label, not a HubSpot internal", "lowercase")
    ],
    "19_contact_has_no_company.yaml": [
        (
            4,
            33,
            "mapping 'company.name'",
            "'Company' is a standard Lead field, not a Contact field",
            "company data lives on the Account",
        )
    ],
    "20_stage_without_value_map.yaml": [
        (3, 3, "mapping 'stage'", "a funnel stage field needs transform map_values", "values:")
    ],
    "21_prefer_without_source.yaml": [
        (
            5,
            5,
            "mapping 'phone'",
            "sync prefer_hubspot takes its value from HubSpot, but no HubSpot field is mapped",
            "choose another sync rule",
        )
    ],
}

LIVE: dict[str, list[tuple[int, int, str, str, str]]] = {
    "22_picklist_value_not_in_org.yaml": [
        (
            14,
            7,
            "mapping 'lead_status'",
            "salesforce/Lead/Status: value map 'salesforce_lead_status' writes 'Qualified' for "
            "'prospect', which is not an active option",
            "active options: 'Open - Not Contacted', 'Working - Contacted'",
        ),
        (
            24,
            7,
            "mapping 'lead_status'",
            "hubspot/contacts/hs_lead_status: value map 'hubspot_lead_status' writes "
            "'DISQUALIFIED' for 'disqualified', which is not an active option (restricted",
            "did you mean 'UNQUALIFIED'?",
        ),
    ],
    "23_read_only_hubspot_property.yaml": [
        (
            5,
            5,
            "mapping 'score.total'",
            "hubspot/contacts/lead_score_rollup: read-only, but sync two_way writes to it",
            "sync: hubspot_only",
        )
    ],
    "24_type_mismatch.yaml": [
        (
            5,
            5,
            "mapping 'company.employee_count'",
            "hubspot/contacts/numemployees: cannot hold 'company.employee_count' (integer "
            "values): it is an enumeration field",
            "matching type",
        )
    ],
    "25_too_long_for_target.yaml": [
        (
            4,
            18,
            "mapping 'title'",
            "salesforce/Lead/Title: holds 128 characters, 'title' may have 131072",
            "add transform truncate",
        ),
        (
            4,
            31,
            "mapping 'title'",
            "salesforce/Contact/Title: holds 128 characters",
            "add transform truncate",
        ),
    ],
    "26_read_only_salesforce_formula.yaml": [
        (
            4,
            18,
            "mapping 'score.engagement'",
            "salesforce/Lead/Days_In_Stage__c: read-only, but sync two_way writes to it",
            "sync: salesforce_only",
        )
    ],
}


def _assert_problems(
    path: Path,
    problems: tuple[Problem, ...] | list[Problem],
    expected: list[tuple[int, int, str, str, str]],
) -> None:
    assert len(problems) == len(expected), "\n".join(str(p) for p in problems)
    for problem, (line, column, field, message, hint) in zip(problems, expected, strict=True):
        assert problem.where == display_path(path)
        assert (problem.line, problem.column) == (line, column), str(problem)
        assert problem.field == field, str(problem)
        assert message in problem.message, str(problem)
        assert hint in problem.hint, str(problem)
        assert str(problem).startswith(f"{display_path(path)}:{line}:{column}: ")


def test_the_corpus_has_at_least_fifteen_files_and_every_one_is_covered() -> None:
    files = sorted(path.name for path in BROKEN.glob("*.yaml"))
    assert len(files) >= 15
    assert files == sorted([*OFFLINE, *LIVE])


@pytest.mark.parametrize("name", sorted(OFFLINE))
def test_offline_problem_is_reported_precisely(name: str) -> None:
    path = BROKEN / name
    with pytest.raises(MappingError) as caught:
        load_mappings(path)
    _assert_problems(path, caught.value.problems, OFFLINE[name])


@pytest.mark.parametrize("name", sorted(LIVE))
def test_live_problem_is_reported_precisely(name: str) -> None:
    path = BROKEN / name
    mappings = load_mappings(path)  # offline the file is fine: only the live schema shows it
    salesforce, hubspot = load_schema_snapshot(SCHEMA)
    _assert_problems(path, validate_live(mappings, salesforce, hubspot), LIVE[name])


def test_problems_in_several_files_are_all_reported_at_once(tmp_path: Path) -> None:
    for name in (
        "06_unknown_canonical_field.yaml",
        "07_unknown_sync_rule.yaml",
        "01_bad_yaml.yaml",
    ):
        (tmp_path / name).write_text((BROKEN / name).read_text())
    with pytest.raises(MappingError) as caught:
        load_mappings(tmp_path)
    messages = [problem.message for problem in caught.value.problems]
    assert len(messages) == 3
    assert messages[0].startswith("not valid YAML")
    assert "unknown canonical field 'emial'" in messages[1]
    assert "unknown sync rule 'two-way'" in messages[2]
