"""A bad value never costs the whole record. A mapping whose value map writes a Lead Status
the org does not have (an inactive option, a typo, a picklist an admin trimmed) used to make
Salesforce refuse the whole Lead, stage and scores included. Now the value is held back for
that field alone, the record's other fields are written in the same run, and the held value
waits for a change of the mapping or the schema instead of failing again every 15 minutes.
Read back through the official SDK."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.sandbox.runner import Sandbox
from connector.settings import Settings
from connector.state import StateStore
from connector.sync.report import RunReport
from connector.sync.wiring import connected

from ._support import ROOT, Sdk, next_second, reset
from .test_e2e import settings_for

BAD = "Working - Engaged"  # not an option of the sandbox org's restricted Lead Status


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(seed=71, people=60) as started:
        yield started


def _settings(sandbox: Sandbox, url: str, mappings: Path) -> Settings:
    base = settings_for(sandbox, url)
    return base.model_copy(update={"mappings_dir": mappings})


def sync(settings: Settings) -> RunReport:
    with connected(settings) as engine:
        return engine.sync()


def test_an_invalid_status_is_held_back_alone_and_waits_for_the_mapping_to_change(
    sandbox: Sandbox, sqlite_url: str, tmp_path: Path
) -> None:
    reset(sandbox)
    mappings = tmp_path / "mappings"
    shutil.copytree(ROOT / "mappings", mappings)
    funnel = mappings / "funnel.yaml"
    good = funnel.read_text(encoding="utf-8")
    funnel.write_text(
        good.replace("      prospect: Working - Contacted", f"      prospect: {BAD}"),
        encoding="utf-8",
    )
    settings = _settings(sandbox, sqlite_url, mappings)

    first = sync(settings)

    assert first.held["salesforce.INVALID_PICKLIST_VALUE"] > 0, first.to_json()
    assert first.rejected_total == 0  # nothing reached Salesforce to be refused
    example = first.held_examples[0]
    assert example["field"] == "Status"
    assert "Working - Contacted" in example["allowed"]  # the allowed values, for the admin
    assert "funnel.yaml:" in example["reason"]  # the mapping line that produced it
    with StateStore.from_settings(settings) as store:
        letters = [d for d in store.dead_letters.list() if d.code == "INVALID_PICKLIST_VALUE"]
    assert len(letters) == sum(first.held.values())
    assert all(letter.waiting for letter in letters)
    assert {letter.fields for letter in letters} == {("Status",)}
    sdk = Sdk(sandbox)
    # Existing Leads (a create's letter is named by its person id, as the create was).
    held = {d.ref.record_id for d in letters if d.ref.record_id.startswith("00Q")}
    assert held
    for lead_id in held:
        lead = sdk.salesforce_record("Lead", lead_id)
        # The record's other fields were written in the same run.
        assert lead["Funnel_Stage__c"] == "Prospect"
        assert lead["Lead_Score__c"] is not None
        assert lead["Status"] != BAD

    # Nothing changed: the held values are not sent again (not due on a timer); a person
    # planned again (their records' echo came back) holds the same value back, at no cost.
    next_second()
    again = sync(settings)
    assert again.written_total == 0
    assert again.rejected_total == 0
    with StateStore.from_settings(settings) as store:
        still = [d for d in store.dead_letters.list() if d.code == "INVALID_PICKLIST_VALUE"]
    # (A create's letter moved to the Lead it created, now that the Lead exists.)
    before = {(d.id, d.attempts) for d in letters if d.ref.record_id in held}
    assert before <= {(d.id, d.attempts) for d in still}
    assert len(still) == len(letters)

    # The admin fixes the mapping: the held values go out on the next run and settle.
    funnel.write_text(good, encoding="utf-8")
    next_second()
    fixed = sync(settings)
    assert sum(fixed.held.values()) == 0
    assert fixed.written["salesforce.update"] >= len(held)
    for lead_id in held:
        assert sdk.salesforce_record("Lead", lead_id)["Status"] == "Working - Contacted"
    with StateStore.from_settings(settings) as store:
        assert [d for d in store.dead_letters.list() if d.code == "INVALID_PICKLIST_VALUE"] == []
    next_second()
    assert sync(settings).written_total == 0
