"""Query evaluation and write semantics on the store, without HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from connector.sandbox.faults import FaultInjector, FaultPlan
from connector.sandbox.salesforce.convert import convert_lead
from connector.sandbox.salesforce.engine import SoqlError, compile_query
from connector.sandbox.salesforce.seeding import seed_store
from connector.sandbox.salesforce.store import SalesforceStore
from connector.sandbox.salesforce.writes import SfError, ValidationRule, Writer
from connector.sandbox.seed import generate

STAMP = datetime(2026, 1, 5, 10, 11, 12, tzinfo=UTC)


@pytest.fixture
def store() -> SalesforceStore:
    store = SalesforceStore()
    seed_store(store, generate(seed=3, people=0))
    for index, (email, employees, industry) in enumerate(
        [
            ("ada@acme.com", 10, "Technology"),
            ("BEN@acme.com", None, "Banking"),
            ("100%_sure@x.io", 500, None),
            ("dora@y.io", 50, "technology"),
        ]
    ):
        values: dict[str, Any] = {
            "LastName": f"L{index}",
            "Company": "Acme",
            "Email": email,
            "Industry": industry,
        }
        if employees is not None:
            values["NumberOfEmployees"] = employees
        store.put("Lead", values, stamp=STAMP, created=STAMP)
    return store


def _emails(store: SalesforceStore, soql: str, *, deleted: bool = False) -> list[str]:
    compiled = compile_query(soql, store)
    return [row["Email"] for row in compiled.run(include_deleted=deleted)]


def test_string_comparisons_are_case_insensitive(store: SalesforceStore) -> None:
    assert _emails(store, "SELECT Email FROM Lead WHERE Email = 'ben@ACME.com'") == ["BEN@acme.com"]
    assert len(_emails(store, "SELECT Email FROM Lead WHERE Industry IN ('TECHNOLOGY')")) == 2
    assert _emails(store, "SELECT Email FROM Lead WHERE Email LIKE 'a%'") == ["ada@acme.com"]


def test_like_escaped_wildcards_match_literally(store: SalesforceStore) -> None:
    assert _emails(store, r"SELECT Email FROM Lead WHERE Email LIKE '100\%\_%'") == [
        "100%_sure@x.io"
    ]
    assert _emails(store, r"SELECT Email FROM Lead WHERE Email LIKE '_00\%%'") == ["100%_sure@x.io"]
    assert _emails(store, r"SELECT Email FROM Lead WHERE Email LIKE 'ada\_%'") == []


def test_nulls_sort_first_by_default_and_last_on_request(store: SalesforceStore) -> None:
    ascending = _emails(store, "SELECT Email FROM Lead ORDER BY NumberOfEmployees")
    assert ascending[0] == "BEN@acme.com"
    descending = _emails(store, "SELECT Email FROM Lead ORDER BY NumberOfEmployees DESC NULLS LAST")
    assert descending == ["100%_sure@x.io", "dora@y.io", "ada@acme.com", "BEN@acme.com"]
    assert _emails(store, "SELECT Email FROM Lead ORDER BY Email LIMIT 2 OFFSET 1") == [
        "ada@acme.com",
        "BEN@acme.com",
    ]


def test_null_and_negation_semantics(store: SalesforceStore) -> None:
    assert _emails(store, "SELECT Email FROM Lead WHERE NumberOfEmployees = null") == [
        "BEN@acme.com"
    ]
    assert len(_emails(store, "SELECT Email FROM Lead WHERE NumberOfEmployees != null")) == 3
    assert len(_emails(store, "SELECT Email FROM Lead WHERE NOT (NumberOfEmployees > 20)")) == 2
    assert (
        len(_emails(store, "SELECT Email FROM Lead WHERE Industry NOT IN ('Banking', null)")) == 2
    )


def test_datetime_filters_compare_to_the_second(store: SalesforceStore) -> None:
    assert (
        len(_emails(store, "SELECT Email FROM Lead WHERE SystemModstamp = 2026-01-05T10:11:12Z"))
        == 4
    )
    assert (
        _emails(store, "SELECT Email FROM Lead WHERE SystemModstamp > 2026-01-05T12:11:12+02:00")
        == []
    )
    assert (
        len(_emails(store, "SELECT Email FROM Lead WHERE CreatedDate >= 2026-01-05T10:11:12.999Z"))
        == 4
    )


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT Id FROM Nope", "INVALID_TYPE"),
        ("SELECT Id, Bogus FROM Lead", "INVALID_FIELD"),
        ("SELECT Id FROM Lead WHERE NumberOfEmployees = '5'", "INVALID_FIELD"),
        ("SELECT Id FROM Lead WHERE IsConverted = 'false'", "INVALID_FIELD"),
        ("SELECT Id FROM Lead WHERE ConvertedDate = 2026-01-01T00:00:00Z", "INVALID_FIELD"),
        ("SELECT Id FROM Lead WHERE NumberOfEmployees LIKE '5%'", "INVALID_FIELD"),
        ("SELECT Id, Owner.Bogus FROM Lead", "INVALID_FIELD"),
        ("SELECT Id, id FROM Lead", "MALFORMED_QUERY"),
        ("SELECT Id FROM Lead WHERE", "MALFORMED_QUERY"),
    ],
)
def test_refused_queries_carry_salesforce_codes(
    store: SalesforceStore, soql: str, code: str
) -> None:
    with pytest.raises(SoqlError) as raised:
        compile_query(soql, store)
    assert raised.value.error_code == code


def test_projection_nests_parent_fields_and_uses_salesforce_formats(store: SalesforceStore) -> None:
    compiled = compile_query(
        "select id, email, owner.name, systemmodstamp from lead limit 1", store
    )
    record = compiled.project(compiled.run(include_deleted=False)[0], "66.0")
    assert list(record) == ["attributes", "Id", "Email", "Owner", "SystemModstamp"]
    assert record["Owner"]["Name"] == "Crmsync Integration"
    assert record["Owner"]["attributes"]["type"] == "User"
    assert record["SystemModstamp"] == "2026-01-05T10:11:12.000+0000"


def test_writes_bump_modstamps_to_now_and_refuse_bad_values(store: SalesforceStore) -> None:
    writer = Writer(store, rule=ValidationRule())
    lead = next(iter(store.table("Lead").rows))
    before = datetime.now(UTC).replace(microsecond=0)
    stamps = [
        writer.apply(writer.prepare_update("Lead", lead, {}))["SystemModstamp"] for _ in range(200)
    ]
    after = datetime.now(UTC)
    assert stamps == sorted(stamps)  # never decreasing; records may share a stamp
    assert stamps[0] > STAMP
    # A burst of writes never runs ahead of the real clock (readers cap at run start).
    assert before <= stamps[0] <= stamps[-1] <= after
    refusals: dict[str, dict[str, Any]] = {
        "STRING_TOO_LONG": {"LastName": "x" * 81},
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": {"Status": "Maybe"},
        "REQUIRED_FIELD_MISSING": {"LastName": None},
        "INVALID_FIELD_FOR_INSERT_UPDATE": {"IsConverted": True},
        "INVALID_FIELD": {"Nope__c": 1},
        "FIELD_CUSTOM_VALIDATION_EXCEPTION": {"Lead_Score__c": -1},
        "NUMBER_OUTSIDE_VALID_RANGE": {"Lead_Score__c": 1000},
        "INVALID_TYPE_ON_FIELD_IN_RECORD": {"HasOptedOutOfEmail": "yes"},
        "INVALID_EMAIL_ADDRESS": {"Email": "not-an-address"},
    }
    for code, body in refusals.items():
        with pytest.raises(SfError) as raised:
            writer.prepare_update("Lead", lead, body)
        assert raised.value.status_code == code, body
    assert writer.prepare_update("Lead", lead, {"Lead_Score__c": 100}).values == {
        "Lead_Score__c": 100.0
    }


def test_text_lengths_count_utf16_code_units_as_salesforce_does(store: SalesforceStore) -> None:
    # Title holds 128: 64 emoji are 128 UTF-16 code units, 65 are 130 (Help article 005166849).
    writer = Writer(store)
    lead = next(iter(store.table("Lead").rows))
    assert writer.prepare_update("Lead", lead, {"Title": "😀" * 64}).values == {"Title": "😀" * 64}
    with pytest.raises(SfError) as raised:
        writer.prepare_update("Lead", lead, {"Title": "😀" * 65})
    assert raised.value.status_code == "STRING_TOO_LONG"


def test_decimals_are_stored_as_sent_not_rounded_to_the_field_scale(
    store: SalesforceStore,
) -> None:
    # AnnualRevenue is Currency(18, 0); the API keeps 12.345 (Knowledge Article 000212661).
    writer = Writer(store)
    lead = next(iter(store.table("Lead").rows))
    change = writer.prepare_update("Lead", lead, {"AnnualRevenue": 12.345, "Lead_Score__c": 2.5})
    assert change.values == {"AnnualRevenue": 12.345, "Lead_Score__c": 2.5}


def test_an_empty_string_saves_as_null(store: SalesforceStore) -> None:
    writer = Writer(store)
    lead = next(iter(store.table("Lead").rows))
    assert writer.prepare_update("Lead", lead, {"Title": ""}).values == {"Title": None}
    with pytest.raises(SfError) as raised:
        writer.prepare_update("Lead", lead, {"LastName": ""})
    assert raised.value.status_code == "REQUIRED_FIELD_MISSING"


def test_create_requires_fields_and_external_ids_are_unique(store: SalesforceStore) -> None:
    writer = Writer(store)
    with pytest.raises(SfError) as missing:
        writer.prepare_create("Lead", {"LastName": "Only"})
    assert missing.value.fields == ("Company",)
    body = {"LastName": "A", "Company": "B", "Crmsync_Person_Id__c": "P-1"}
    row = writer.apply(writer.prepare_create("Lead", body))
    assert row["Status"] == "Open - Not Contacted"
    assert row["Id"].startswith("00Q")
    with pytest.raises(SfError) as duplicate:
        writer.prepare_create("Lead", body)
    assert duplicate.value.status_code == "DUPLICATE_VALUE"
    change, created = writer.prepare_upsert("Lead", "crmsync_person_id__c", "p-1", {"Title": "CEO"})
    assert created is False
    assert change.record_id == row["Id"]


def test_deleted_and_converted_rows_refuse_updates(store: SalesforceStore) -> None:
    writer = Writer(store)
    first, second = list(store.table("Lead").rows)[:2]
    writer.delete("Lead", first)
    with pytest.raises(SfError) as deleted:
        writer.prepare_update("Lead", first, {"Title": "x"})
    assert (deleted.value.status_code, deleted.value.http_status) == ("ENTITY_IS_DELETED", 404)
    conversion = convert_lead(store, second, create_opportunity=True)
    lead = store.table("Lead").rows[second]
    assert lead["IsConverted"]
    assert lead["Status"] == "Closed - Converted"
    assert lead["ConvertedContactId"] == conversion.contact_id
    assert store.table("Contact").rows[conversion.contact_id]["AccountId"] == conversion.account_id
    opportunity = store.table("Opportunity").rows[conversion.opportunity_id or ""]
    assert opportunity["StageName"] == "Prospecting"
    assert not opportunity["IsClosed"]
    with pytest.raises(SfError) as converted:
        writer.prepare_update("Lead", second, {"Title": "x"})
    assert converted.value.status_code == "CANNOT_UPDATE_CONVERTED_LEAD"


def test_lock_faults_are_per_record_and_seeded(store: SalesforceStore) -> None:
    def pattern() -> list[str]:
        writer = Writer(store, FaultInjector(FaultPlan(lock_error_rate=0.5), seed=11))
        lead = next(iter(store.table("Lead").rows))
        outcomes = []
        for _ in range(20):
            try:
                writer.prepare_update("Lead", lead, {"Title": "x"})
            except SfError as error:
                outcomes.append(error.status_code)
            else:
                outcomes.append("ok")
        return outcomes

    first = pattern()
    assert first == pattern()
    assert set(first) == {"ok", "UNABLE_TO_LOCK_ROW"}
