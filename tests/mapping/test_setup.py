"""``crmsync setup``: HubSpot properties created when missing; Salesforce fields listed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from connector.cli import main
from connector.crm.types import FieldSchema, ObjectSchema
from connector.errors import System
from connector.mapping import load_mappings
from connector.mapping.setup import plan_setup
from connector.sandbox.runner import Sandbox

ROOT = Path(__file__).resolve().parents[2]
OWN = (
    "crmsync_funnel_stage",
    "crmsync_lead_score",
    "crmsync_fit_score",
    "crmsync_engagement_score",
    "crmsync_score_reason",
    "crmsync_person_id",
)


def _schema(system: System, object_type: str, names: list[str]) -> ObjectSchema:
    return ObjectSchema(
        system=system,
        object_type=object_type,
        fields={
            n: FieldSchema(name=n, type="string", updateable=True, createable=True) for n in names
        },
    )


def test_plan_lists_what_each_crm_lacks() -> None:
    mappings = load_mappings(ROOT / "mappings")
    lead = _schema(System.SALESFORCE, "Lead", ["Lead_Score__c"])
    plan = plan_setup(mappings, {"Lead": lead}, _schema(System.HUBSPOT, "contacts", ["email"]))
    missing_sf = {(obj, needed.name) for obj, needed in plan.salesforce}
    assert ("Lead", "Funnel_Stage__c") in missing_sf
    assert ("Contact", "Crmsync_Person_Id__c") in missing_sf
    assert ("Lead", "Lead_Score__c") not in missing_sf
    assert {needed.name for needed in plan.hubspot} == set(OWN)
    assert any("restricted, values Lead, Prospect" in line for line in plan.salesforce_lines())


def test_setup_live_creates_the_missing_hubspot_properties(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in list(os.environ):
        if name.startswith("CRMSYNC_") and not name.startswith("CRMSYNC_TEST_"):
            monkeypatch.delenv(name)
    with Sandbox.start(seed=3, people=20) as sandbox:
        properties = sandbox.hubspot.store.table("contacts").properties
        for name in OWN:  # a portal where crmsync has never been set up
            del properties[name]
        env = {**sandbox.env(), "CRMSYNC_MAPPINGS_DIR": str(ROOT / "mappings")}
        env_file = tmp_path / "sandbox.env"
        env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        monkeypatch.chdir(tmp_path)

        assert main(["--env-file", str(env_file), "setup", "--live"]) == 0
        assert set(OWN) <= set(properties)
        assert properties["crmsync_person_id"].has_unique_value
        stage = properties["crmsync_funnel_stage"]
        assert [o.value for o in stage.options] == [
            "lead", "prospect", "opportunity", "customer", "disqualified"
        ]  # fmt: skip
        assert main(["--env-file", str(env_file), "setup", "--live"]) == 0  # nothing left to do
    out = capsys.readouterr().out
    assert out.count("created contact property") == len(OWN)
    assert "setup complete" in out
