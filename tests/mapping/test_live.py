"""Live validation against the adapters' schema types (connector.crm.types)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connector.crm.types import FieldSchema, ObjectSchema
from connector.errors import ConfigError, System
from connector.mapping import load_mappings
from connector.mapping.live import validate_live
from connector.mapping.snapshot import load_schema_snapshot

ROOT = Path(__file__).parents[2]
SCHEMA = Path(__file__).parent / "schemas" / "standard.json"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(text)
    return path


def _hubspot(*fields: FieldSchema) -> ObjectSchema:
    return ObjectSchema(
        system=System.HUBSPOT, object_type="contacts", fields={f.name: f for f in fields}
    )


LIFECYCLE = """\
version: 1
fields:
  lifecycle_stage:
    field: stage
    hubspot: lifecyclestage
    sync: two_way
    transform: map_values
    values: {hubspot: lifecycle}
  score.total:
    hubspot: crmsync_lead_score
    sync: two_way
value_maps:
  lifecycle:
    outbound:
      lead: lead
      prospect: salesqualifiedlead
      opportunity: opportunity
      customer: customer
      disqualified: null
"""


def test_a_portal_without_a_mapped_stage_and_a_read_only_score_is_caught(tmp_path: Path) -> None:
    mappings = load_mappings(_write(tmp_path, LIFECYCLE))
    portal = _hubspot(
        # This portal removed "salesqualifiedlead" from its lifecycle stages.
        FieldSchema(
            name="lifecyclestage",
            type="enumeration",
            updateable=True,
            createable=True,
            picklist_values=("subscriber", "lead", "opportunity", "customer"),
            restricted_picklist=True,
        ),
        FieldSchema(name="crmsync_lead_score", type="number", updateable=False, createable=False),
    )
    problems = validate_live(mappings, None, portal)
    assert [(p.line, p.field) for p in problems] == [
        (16, "mapping 'lifecycle_stage'"),
        (10, "mapping 'score.total'"),
    ]
    assert "writes 'salesqualifiedlead' for 'prospect', which is not an active option" in (
        problems[0].message
    )
    assert problems[1].message == (
        "hubspot/contacts/crmsync_lead_score: read-only, but sync two_way writes to it"
    )


def test_a_read_only_target_is_fine_when_the_rule_never_writes_it(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "version: 1\nfields:\n  score.total:\n    hubspot: crmsync_lead_score\n"
        "    sync: hubspot_only\n",
    )
    portal = _hubspot(
        FieldSchema(name="crmsync_lead_score", type="number", updateable=False, createable=False)
    )
    assert validate_live(load_mappings(path), None, portal) == []


def test_missing_fields_get_a_did_you_mean_from_the_live_schema(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "version: 1\nfields:\n  score.total:\n    salesforce: {lead: Lead_Scor__c}\n"
        "    sync: two_way\n",
    )
    salesforce, _ = load_schema_snapshot(SCHEMA)
    [problem] = validate_live(load_mappings(path), salesforce, None)
    assert problem.message == "salesforce/Lead/Lead_Scor__c: no such field"
    assert problem.hint == "did you mean 'Lead_Score__c'?"
    assert (problem.line, problem.column) == (4, 18)


def test_free_text_into_a_restricted_picklist_is_flagged(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "version: 1\nfields:\n  company.industry:\n    hubspot: industry\n    sync: two_way\n",
    )
    portal = _hubspot(
        FieldSchema(
            name="industry",
            type="enumeration",
            updateable=True,
            createable=True,
            picklist_values=("SOFTWARE", "BANKING"),
            restricted_picklist=True,
        )
    )
    [problem] = validate_live(load_mappings(path), None, portal)
    assert "free text written to a restricted picklist (2 options)" in problem.message
    assert "map_values" in problem.hint


def test_inactive_salesforce_picklist_values_do_not_count(tmp_path: Path) -> None:
    text = (
        (ROOT / "mappings" / "funnel.yaml")
        .read_text()
        .replace("prospect: Working - Contacted", "prospect: Nurturing")
    )
    (tmp_path / "funnel.yaml").write_text(text)
    salesforce, hubspot = load_schema_snapshot(SCHEMA)
    problems = validate_live(load_mappings(tmp_path), salesforce, hubspot)
    assert len(problems) == 1
    assert "'Nurturing' for 'prospect', which is not an active option" in problems[0].message


def test_snapshot_accepts_normalised_object_schemas(tmp_path: Path) -> None:
    schema = _hubspot(FieldSchema(name="email", type="string", updateable=True, createable=True))
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps({"hubspot": {"contacts": schema.model_dump(mode="json")}}))
    salesforce, hubspot = load_schema_snapshot(path)
    assert salesforce == ()
    assert hubspot == schema


def test_an_unusable_snapshot_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json"
    path.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="not a usable schema snapshot"):
        load_schema_snapshot(path)


def test_a_missing_connector_field_says_how_to_create_it(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "version: 1\nfields:\n  person_id:\n    hubspot: crmsync_person_id\n    sync: two_way\n",
    )
    [problem] = validate_live(load_mappings(path), None, _hubspot())
    assert problem.message == "hubspot/contacts/crmsync_person_id: no such field"
    assert (
        problem.hint == "create it: string 'crmsync_person_id' labelled 'crmsync person id', unique"
    )
