"""Duplicate rules (off by default): DUPLICATES_DETECTED per record, through simple-salesforce."""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from connector.sandbox.faults import FaultPlan
from connector.sandbox.salesforce.duplicates import MESSAGE
from tests.sandbox.salesforce.conftest import SalesforceApi, Served, error_body

ALLOW_SAVE = {"Sforce-Duplicate-Rule-Header": "allowSave=true; includeRecordDetails=false"}


def _email_of(served: Served, sobject: str) -> tuple[str, str]:
    row = next(
        row
        for row in served.emulator.store.table(sobject).rows.values()
        if row.get("Email") and not row["IsDeleted"] and not row.get("IsConverted")
    )
    return row["Id"], row["Email"]


def _lead(email: str, last_name: str = "Okafor") -> dict[str, Any]:
    return {"attributes": {"type": "Lead"}, "LastName": last_name, "Company": "Acme",
            "Email": email}  # fmt: skip


def test_rules_are_off_by_default(sf: SalesforceApi, served: Served) -> None:
    _, email = _email_of(served, "Lead")
    assert sf.Lead.create({"LastName": "Twin", "Company": "Acme", "Email": email})["success"]


def test_a_collection_refuses_only_the_duplicates(sf: SalesforceApi, served: Served) -> None:
    served.emulator.set_faults(FaultPlan(duplicate_rules=("Lead",)))
    _, lead_email = _email_of(served, "Lead")
    _, contact_email = _email_of(served, "Contact")
    results = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "allOrNone": False,
            "records": [
                _lead(lead_email.upper()),
                _lead(contact_email),
                _lead("new.person@example.org"),
                _lead("new.person@example.org", "Again"),
            ],
        },
    )
    refused = {"statusCode": "DUPLICATES_DETECTED", "message": MESSAGE, "fields": []}
    assert results[0] == {"success": False, "errors": [refused]}
    assert results[1] == {"success": False, "errors": [refused]}
    assert results[2]["success"] is True
    assert results[3] == {"success": False, "errors": [refused]}  # matches the one just made
    saved = [row for row in served.emulator.store.table("Lead").rows.values()
             if row.get("Email") == "new.person@example.org"]  # fmt: skip
    assert len(saved) == 1


def test_a_single_create_names_the_rule_and_the_matches(sf: SalesforceApi, served: Served) -> None:
    served.emulator.set_faults(FaultPlan(duplicate_rules=("Lead",)))
    lead_id, email = _email_of(served, "Lead")
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Lead.create({"LastName": "Twin", "Company": "Acme", "Email": email})
    [body] = error_body(raised.value)
    assert body["errorCode"] == "DUPLICATES_DETECTED"
    assert body["message"] == MESSAGE
    result = body["duplicateResut"]
    assert result["duplicateRule"] == "Standard_Lead_Duplicate_Rule"
    assert result["duplicateRuleEntityType"] == "Lead"
    lead_match = next(m for m in result["matchResults"] if m["entityType"] == "Lead")
    assert lead_match["rule"] == "Standard_Lead_Match_Rule_v1_0"
    assert [r["record"]["Id"] for r in lead_match["matchRecords"]] == [lead_id]
    assert lead_match["matchRecords"][0]["record"]["attributes"]["url"].startswith(
        "/services/data/v66.0/sobjects/Lead/"
    )


def test_allow_save_header_and_per_object_switch(sf: SalesforceApi, served: Served) -> None:
    served.emulator.set_faults(FaultPlan(duplicate_rules=("Lead",)))
    _, email = _email_of(served, "Lead")
    created = sf.Lead.create({"LastName": "Twin", "Company": "Acme", "Email": email},
                             headers=ALLOW_SAVE)  # fmt: skip
    assert created["success"] is True
    _, contact_email = _email_of(served, "Contact")
    assert sf.Contact.create({"LastName": "Twin", "Email": contact_email})["success"]
    served.emulator.set_faults(FaultPlan(duplicate_rules=("Contact",)))
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Contact.create({"LastName": "Triplet", "Email": contact_email})
    assert error_body(raised.value)[0]["errorCode"] == "DUPLICATES_DETECTED"
    upserted = sf.restful(
        "composite/sobjects/Contact/Crmsync_Person_Id__c",
        method="PATCH",
        json={
            "records": [
                {
                    "attributes": {"type": "Contact"},
                    "Crmsync_Person_Id__c": "p-9",
                    "LastName": "Quad",
                    "Email": contact_email,
                }
            ]
        },
    )
    assert upserted[0]["errors"][0]["statusCode"] == "DUPLICATES_DETECTED"
    assert upserted[0]["created"] is False
