"""Reading CRM records into canonical values, through the shipped mappings."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from connector.crm.types import RawRecord
from connector.errors import System
from connector.mapping import load_mappings
from connector.sync.normalise import Normaliser

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"
WHEN = datetime(2026, 12, 1, tzinfo=UTC)


def test_the_placeholder_for_a_required_salesforce_field_reads_as_blank() -> None:
    # crmsync creates a Lead for a HubSpot contact without a last name or company with
    # "[not provided]" there, because Salesforce requires both. Read back as a value, it was
    # copied into HubSpot's lastname and company on the next run (issue 18).
    normaliser = Normaliser(load_mappings(MAPPINGS))
    placeholder = "[not provided]"
    lead = RawRecord(
        system=System.SALESFORCE,
        object_type="Lead",
        id="00QDn0000000001AAA",
        modified_at=WHEN,
        fields={"LastName": placeholder, "Company": placeholder, "Title": placeholder},
    )
    values = normaliser.snapshot(lead).values
    assert values["last_name"] is None
    assert values["company.name"] is None
    assert values["title"] == placeholder  # not a required field: a user typed it
    contact = RawRecord(
        system=System.HUBSPOT,
        object_type="contacts",
        id="101",
        modified_at=WHEN,
        fields={"lastname": placeholder},
    )
    assert normaliser.snapshot(contact).values["last_name"] == placeholder
