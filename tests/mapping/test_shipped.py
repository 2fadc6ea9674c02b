"""The mapping files crmsync ships validate clean and carry the reference defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.errors import System
from connector.funnel import FunnelStage
from connector.mapping import CANONICAL_FIELDS, UNCHANGED, MappingSet, SyncRule, load_mappings
from connector.mapping.catalogue import CONNECTOR_HUBSPOT_PROPERTIES, CONNECTOR_SALESFORCE_FIELDS
from connector.mapping.live import validate_live
from connector.mapping.snapshot import load_schema_snapshot

ROOT = Path(__file__).parents[2]
SHIPPED = ROOT / "mappings"
SCHEMA = Path(__file__).parent / "schemas" / "standard.json"
S = FunnelStage


@pytest.fixture(scope="module")
def shipped() -> MappingSet:
    return load_mappings(SHIPPED)


def test_shipped_mappings_validate_offline_and_against_a_standard_schema(
    shipped: MappingSet,
) -> None:
    assert len(shipped) >= 15
    salesforce, hubspot = load_schema_snapshot(SCHEMA)
    assert validate_live(shipped, salesforce, hubspot) == []


def test_every_mapping_names_a_canonical_field_and_every_stage_map_is_complete(
    shipped: MappingSet,
) -> None:
    for mapping in shipped:
        assert mapping.canonical is CANONICAL_FIELDS[mapping.canonical.name]
    for mapping in shipped.for_field("stage"):
        for value_map in mapping.value_maps.values():
            assert value_map.closed
            assert set(value_map.outbound) == {stage.value for stage in S}


@pytest.mark.parametrize(
    ("stage", "status", "lead_status", "lifecycle"),
    [
        (S.LEAD, "Open - Not Contacted", "NEW", "lead"),
        (S.PROSPECT, "Working - Contacted", "CONNECTED", "salesqualifiedlead"),
        (S.OPPORTUNITY, "Working - Contacted", "OPEN_DEAL", "opportunity"),
        (S.CUSTOMER, UNCHANGED, UNCHANGED, "customer"),
        (S.DISQUALIFIED, "Closed - Not Converted", "UNQUALIFIED", UNCHANGED),
    ],
)
def test_outbound_funnel_defaults_follow_the_reference(
    shipped: MappingSet,
    stage: FunnelStage,
    status: object,
    lead_status: object,
    lifecycle: object,
) -> None:
    assert shipped.get("lead_status").to_salesforce(stage) == status
    assert shipped.get("lead_status").to_hubspot(stage) == lead_status
    assert shipped.get("lifecycle_stage").to_hubspot(stage) == lifecycle
    assert shipped.get("stage").to_salesforce(stage) == stage.value.capitalize()
    assert shipped.get("stage").to_hubspot(stage) == stage.value


@pytest.mark.parametrize(
    ("value", "stage"),
    [
        ("subscriber", S.LEAD),
        ("lead", S.LEAD),
        ("marketingqualifiedlead", S.LEAD),
        ("salesqualifiedlead", S.PROSPECT),
        ("opportunity", S.OPPORTUNITY),
        ("customer", S.CUSTOMER),
        ("evangelist", S.CUSTOMER),
        ("other", None),
        ("", None),
    ],
)
def test_inbound_lifecycle_stage_is_many_to_one(
    shipped: MappingSet, value: str, stage: FunnelStage | None
) -> None:
    assert shipped.get("lifecycle_stage").from_hubspot(value) == stage


def test_inbound_lead_status_reads_every_default_value(shipped: MappingSet) -> None:
    mapping = shipped.get("lead_status")
    assert mapping.from_salesforce("Closed - Not Converted") is S.DISQUALIFIED
    assert mapping.from_salesforce("Working - Contacted") is S.PROSPECT
    assert mapping.from_salesforce("Closed - Converted") is S.OPPORTUNITY
    assert mapping.from_hubspot("UNQUALIFIED") is S.DISQUALIFIED
    for value in (
        "NEW",
        "OPEN",
        "IN_PROGRESS",
        "OPEN_DEAL",
        "ATTEMPTED_TO_CONTACT",
        "CONNECTED",
        "BAD_TIMING",
    ):
        assert isinstance(mapping.from_hubspot(value), FunnelStage)


def test_score_and_id_fields_use_the_connector_custom_fields(shipped: MappingSet) -> None:
    expected = {
        "score.total": ("Lead_Score__c", "crmsync_lead_score"),
        "score.fit": ("Fit_Score__c", "crmsync_fit_score"),
        "score.engagement": ("Engagement_Score__c", "crmsync_engagement_score"),
        "score.reason": ("Score_Reason__c", "crmsync_score_reason"),
        "stage": ("Funnel_Stage__c", "crmsync_funnel_stage"),
        "person_id": ("Crmsync_Person_Id__c", "crmsync_person_id"),
    }
    for name, (salesforce, hubspot) in expected.items():
        mapping = shipped.get(name)
        assert mapping.salesforce == {"Lead": salesforce, "Contact": salesforce}
        assert mapping.hubspot == hubspot
    sf_custom = {field.name for field in CONNECTOR_SALESFORCE_FIELDS}
    hs_custom = {prop.name for prop in CONNECTOR_HUBSPOT_PROPERTIES}
    assert {sf for sf, _ in expected.values()} <= sf_custom
    assert {hs for _, hs in expected.values()} <= hs_custom


def test_engine_accessors_list_what_to_read_and_write(shipped: MappingSet) -> None:
    lead_reads = shipped.fields_to_read(System.SALESFORCE, "Lead")
    assert "Status" in lead_reads
    assert "NumberOfEmployees" in lead_reads
    contact_writes = {name for _, name in shipped.writes(System.SALESFORCE, "Contact")}
    assert "Status" not in contact_writes
    assert "Funnel_Stage__c" in contact_writes
    hubspot_writes = {name for _, name in shipped.writes(System.HUBSPOT, "contacts")}
    assert {"lifecyclestage", "hs_lead_status", "crmsync_lead_score"} <= hubspot_writes
    employees = shipped.get("company.employee_count")
    assert employees.sync is SyncRule.SALESFORCE_ONLY
    assert not employees.writes_to(System.SALESFORCE)
    assert employees.reads_from(System.SALESFORCE)
