"""HubSpot's search trails its writes (the emulator lags it as a portal does): the incremental
pull stays complete, a run right after a sync does not mistake the index's old versions for
edits, and an archived contact a lagging index still answers is not brought back. Read back
through the official SDKs."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from connector.sandbox.runner import Sandbox
from connector.settings import Settings
from connector.sync.report import RunReport
from connector.sync.wiring import connected

from ._support import Sdk, Users, next_second, reset, stamps
from .test_e2e import settings_for

LAG_MS = 2_000


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(seed=83, people=60, search_lag_ms=LAG_MS) as started:
        yield started


def sync(settings: Settings) -> RunReport:
    with connected(settings) as engine:
        return engine.sync()


def wait_out_the_lag() -> None:
    time.sleep(LAG_MS / 1000 + 0.2)


def _pair(sdk: Sdk) -> tuple[str, tuple[str, str], str]:
    sf, hs = sdk.salesforce_people(), sdk.hubspot_people()
    person = sorted(p for p in set(sf) & set(hs) if len(sf[p]) == 1 and len(hs[p]) == 1)[0]
    return person, sf[person][0], hs[person][0]


def test_a_run_right_after_a_sync_writes_nothing_while_search_shows_old_versions(
    sandbox: Sandbox, sqlite_url: str
) -> None:
    """Contacts edited in HubSpot, then written by crmsync: for the lag after the write, search
    answers them as the user left them, inside the next run's lookback. That version is older
    than the one crmsync wrote: it is stale, not a user putting the old values back."""
    reset(sandbox)
    settings = settings_for(sandbox, sqlite_url)
    sync(settings)
    wait_out_the_lag()
    sdk = Sdk(sandbox)
    sf, hs = sdk.salesforce_people(), sdk.hubspot_people()
    people = sorted(p for p in set(sf) & set(hs) if len(sf[p]) == 1 and len(hs[p]) == 1)[:5]
    users = Users(sandbox)
    next_second()
    for number, person in enumerate(people):
        # A HubSpot edit (searchable after the lag), and a Salesforce one crmsync will copy
        # over to the same contact.
        users.edit_hubspot(hs[person][0], {"phone": f"+44 20 7946 00{number:02d}"})
        object_type, record_id = sf[person][0]
        users.salesforce("PATCH", f"sobjects/{object_type}/{record_id}", {"Title": f"VP {number}"})
    wait_out_the_lag()
    next_second()
    first = sync(settings)
    assert first.written["hubspot.update"] >= len(people)
    next_second()
    before = stamps(sandbox)
    second = sync(settings)  # search still answers those contacts as the users left them
    assert second.written_total == 0, second.to_json()
    assert stamps(sandbox) == before
    for number, person in enumerate(people):
        assert sdk.hubspot_contact(hs[person][0], "jobtitle")["jobtitle"] == f"VP {number}"
    wait_out_the_lag()
    next_second()
    assert sync(settings).written_total == 0


def test_an_edit_searchable_only_after_a_run_is_synced_by_the_next(
    sandbox: Sandbox, sqlite_url: str
) -> None:
    reset(sandbox)
    settings = settings_for(sandbox, sqlite_url)
    sync(settings)
    wait_out_the_lag()
    sdk = Sdk(sandbox)
    _, salesforce, hubspot = _pair(sdk)
    next_second()
    Users(sandbox).edit_hubspot(hubspot, {"jobtitle": "Chief Revenue Officer"})
    next_second()
    # The edit is older than this run's end, but not searchable yet: this run cannot see it.
    sync(settings)
    assert sdk.salesforce_record(*salesforce)["Title"] != "Chief Revenue Officer"
    wait_out_the_lag()
    next_second()
    # Now searchable, inside the next run's lookback: synced, once.
    later = sync(settings)
    assert sdk.salesforce_record(*salesforce)["Title"] == "Chief Revenue Officer"
    assert later.written["salesforce.update"] >= 1
    wait_out_the_lag()
    next_second()
    assert sync(settings).written_total == 0


def test_an_archived_contact_a_lagging_index_still_answers_is_not_brought_back(
    sandbox: Sandbox, sqlite_url: str
) -> None:
    reset(sandbox)
    settings = settings_for(sandbox, sqlite_url)
    sync(settings)
    wait_out_the_lag()
    sdk = Sdk(sandbox)
    person, salesforce, hubspot = _pair(sdk)
    next_second()
    sdk.archive_hubspot(hubspot)
    next_second()
    first = sync(settings)  # search still answers the contact, live; the archive list knows
    assert first.gone == {"hubspot.archived": 1}
    for _ in range(2):
        next_second()
        sync(settings)
        wait_out_the_lag()
    assert person not in sdk.hubspot_people()
    assert sdk.salesforce_people()[person] == [salesforce]
