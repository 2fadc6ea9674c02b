"""Live validation against the sandbox emulators, over real sockets, before any write.

The schema is fetched the way an adapter's ``describe`` would fetch it (Salesforce
``/sobjects/{type}/describe``, HubSpot ``/crm/v3/properties/contacts``) and normalised by
:mod:`connector.mapping.snapshot`; validation then runs without touching a record.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from connector.cli import main
from connector.crm.types import ObjectSchema
from connector.mapping import load_mappings
from connector.mapping.live import validate_live
from connector.mapping.snapshot import hubspot_schema, salesforce_schema
from connector.sandbox.runner import Sandbox

ROOT = Path(__file__).parents[2]

WRONG = """\
version: 1
fields:
  lead_status:
    field: stage
    salesforce: {lead: Status}
    sync: two_way
    transform: map_values
    values: {salesforce: lead_status}
  score.engagement:
    hubspot: num_conversion_events     # "Number of Form Submissions": HubSpot computes it
    sync: two_way
    transform: number
value_maps:
  lead_status:
    outbound:
      lead: Open - Not Contacted
      prospect: Qualified               # this org has no such Lead Status
      opportunity: Working - Contacted
      customer: null
      disqualified: Closed - Not Converted
"""


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(seed=11, people=10) as running:
        yield running


@pytest.fixture(scope="module")
def live_schema(sandbox: Sandbox) -> tuple[list[ObjectSchema], ObjectSchema]:
    credentials = sandbox.salesforce.credentials
    tls = ssl.create_default_context(cafile=str(sandbox.salesforce.ca_file))
    with httpx.Client(verify=tls, timeout=10) as client:
        token = client.post(
            f"{sandbox.salesforce.url}/services/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": credentials.client_id,
                "client_secret": credentials.client_secret,
            },
        ).json()["access_token"]
        salesforce = [
            salesforce_schema(
                name,
                client.get(
                    f"{sandbox.salesforce.url}/services/data/v66.0/sobjects/{name}/describe",
                    headers={"Authorization": f"Bearer {token}"},
                ).json(),
            )
            for name in ("Lead", "Contact")
        ]
    properties = httpx.get(
        f"{sandbox.hubspot.url}/crm/v3/properties/contacts",
        headers={"Authorization": f"Bearer {sandbox.hubspot.access_token}"},
        timeout=10,
    ).json()
    return salesforce, hubspot_schema(properties)


def test_the_shipped_mappings_fit_the_sandbox_org_and_portal(
    live_schema: tuple[list[ObjectSchema], ObjectSchema],
) -> None:
    salesforce, hubspot = live_schema
    assert validate_live(load_mappings(ROOT / "mappings"), salesforce, hubspot) == []


def test_a_missing_picklist_value_and_a_read_only_property_are_caught_before_any_write(
    tmp_path: Path, sandbox: Sandbox, live_schema: tuple[list[ObjectSchema], ObjectSchema]
) -> None:
    path = tmp_path / "wrong.yaml"
    path.write_text(WRONG)
    mappings = load_mappings(path)  # offline this file is fine
    salesforce, hubspot = live_schema
    hubspot_calls = sandbox.hubspot.emulator.stats.snapshot()
    salesforce_calls = sandbox.salesforce.emulator.stats.snapshot()

    problems = validate_live(mappings, salesforce, hubspot)

    assert [(p.line, p.column, p.field) for p in problems] == [
        (17, 7, "mapping 'lead_status'"),
        (10, 5, "mapping 'score.engagement'"),
    ]
    assert problems[0].message == (
        "salesforce/Lead/Status: value map 'lead_status' writes 'Qualified' for 'prospect', "
        "which is not an active option (restricted picklist: the CRM refuses it)"
    )
    assert problems[1].message == (
        "hubspot/contacts/num_conversion_events: read-only, but sync two_way writes to it"
    )
    # Validation is pure: not one more call reached either emulator.
    assert sandbox.hubspot.emulator.stats.snapshot() == hubspot_calls
    assert sandbox.salesforce.emulator.stats.snapshot() == salesforce_calls


def test_validate_live_describes_both_systems_through_the_adapters(
    tmp_path: Path, clean_env: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    env_file = sandbox.write_env_file(clean_env / "sandbox.env")
    root = ["--config", str(clean_env / "none.toml"), "--env-file", str(env_file)]
    shipped = str(ROOT / "mappings")
    assert main([*root, "mappings", "validate", "--live", "--dir", shipped]) == 0
    out = capsys.readouterr().out
    assert "ok (checked against Lead, Contact, contacts)" in out
    assert "not checked" not in out

    (tmp_path / "wrong.yaml").write_text(WRONG)
    assert main([*root, "mappings", "validate", "--live", "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "mapping error: 2 problems" in err
    assert "wrong.yaml:17:7: mapping 'lead_status': salesforce/Lead/Status" in err
    assert (
        "wrong.yaml:10:5: mapping 'score.engagement': hubspot/contacts/num_conversion_events"
        in (err)
    )
