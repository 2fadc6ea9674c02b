"""A delete stays deleted: every path by which a record leaves a CRM, read back through the
official SDKs. A record deleted, archived or merged away in one CRM is never re-created by
crmsync (unless the delete policy says ``recreate``); what happens to its pair is the policy;
a restored record resumes syncing under its old identity; a late echo of a gone record
resurrects nobody."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from connector.crm.types import RawRecord
from connector.errors import System
from connector.funnel import SourceRef
from connector.mapping import load_mappings
from connector.sandbox.runner import Sandbox
from connector.settings import Settings
from connector.state import StateStore
from connector.state.gone import GoneHow
from connector.sync.decide import DeletePolicy
from connector.sync.engine import EngineOptions
from connector.sync.normalise import Normaliser
from connector.sync.pull import PullStats, store_records
from connector.sync.report import RunReport
from connector.sync.wiring import connected

from ._support import ROOT, Sdk, Users, next_second, reset
from .test_e2e import settings_for


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(seed=58, people=80) as started:
        yield started


def sync(settings: Settings, policy: DeletePolicy | None = None) -> RunReport:
    with connected(settings, options=EngineOptions(on_delete=policy)) as engine:
        return engine.sync()


@dataclass(frozen=True)
class Pair:
    person: str
    salesforce: tuple[str, str]  # (object type, Id)
    hubspot: str


def synced(sandbox: Sandbox, url: str, count: int = 1) -> tuple[Settings, Sdk, list[Pair]]:
    """A first sync from the seeded CRMs, and ``count`` people linked once in each."""
    reset(sandbox)
    settings = settings_for(sandbox, url)
    sync(settings)
    sdk = Sdk(sandbox)
    sf, hs = sdk.salesforce_people(), sdk.hubspot_people()
    pairs = [
        Pair(person, sf[person][0], hs[person][0])
        for person in sorted(set(sf) & set(hs))
        if len(sf[person]) == 1 and len(hs[person]) == 1
    ]
    assert len(pairs) >= count, "the seeded world has people in both CRMs"
    next_second()
    return settings, sdk, pairs[:count]


def test_a_deleted_lead_is_not_recreated_and_its_contact_is_kept(
    sandbox: Sandbox, state_url: str
) -> None:
    settings, sdk, (pair,) = synced(sandbox, state_url)
    sdk.delete_salesforce(*pair.salesforce)
    next_second()

    report = sync(settings)

    assert sdk.salesforce_people().get(pair.person) is None, (pair, report.to_json())
    assert sdk.hubspot_people()[pair.person] == [pair.hubspot]  # kept (policy: unlink)
    assert report.gone == {"salesforce.deleted": 1}
    assert report.not_recreated == {"salesforce": 1}
    next_second()
    again = sync(settings)
    assert again.written_total == 0
    assert pair.person not in sdk.salesforce_people()


def test_an_archived_contact_is_not_recreated_and_its_lead_is_kept(
    sandbox: Sandbox, sqlite_url: str
) -> None:
    settings, sdk, (pair,) = synced(sandbox, sqlite_url)
    sdk.archive_hubspot(pair.hubspot)
    next_second()

    report = sync(settings)

    assert pair.person not in sdk.hubspot_people()
    assert sdk.salesforce_people()[pair.person] == [pair.salesforce]
    assert report.gone == {"hubspot.archived": 1}
    assert report.not_recreated == {"hubspot": 1}
    next_second()
    assert sync(settings).written_total == 0


def test_a_lead_emptied_from_the_recycle_bin_before_a_run_saw_it_is_found_by_get_deleted(
    sandbox: Sandbox, sqlite_url: str
) -> None:
    settings, sdk, (pair,) = synced(sandbox, sqlite_url)
    sdk.delete_salesforce(*pair.salesforce)
    # Emptied, and past the day queryAll still shows it: only getDeleted names it now.
    assert sdk.recycle_bin(empty=[pair.salesforce[1]])["emptied"] == 1
    # getDeleted counts in whole minutes (a window ends at the current minute): a deletion
    # made this minute is the next run's. This one happened two minutes ago.
    log = sandbox.salesforce.store.table(pair.salesforce[0]).deleted_log
    log[:] = [(i, when - timedelta(minutes=2)) for i, when in log]
    next_second()

    report = sync(settings)

    assert report.gone == {"salesforce.purged": 1}
    assert pair.person not in sdk.salesforce_people()
    assert sdk.hubspot_people()[pair.person] == [pair.hubspot]
    next_second()
    assert sync(settings).written_total == 0


def test_a_contact_deleted_for_good_is_found_missing_when_written_and_never_recreated(
    sandbox: Sandbox, sqlite_url: str
) -> None:
    settings, sdk, (pair,) = synced(sandbox, sqlite_url)
    # A GDPR delete leaves no archived copy: crmsync learns it when it next writes.
    sdk.gdpr_delete_hubspot(pair.hubspot)
    Users(sandbox).salesforce(
        "PATCH", f"sobjects/{pair.salesforce[0]}/{pair.salesforce[1]}", {"Title": "Chief of Data"}
    )
    next_second()

    report = sync(settings)

    assert report.missing == {"hubspot.update": 1}
    assert report.rejected_total == 0  # not a dead letter: it is gone
    assert pair.person not in sdk.hubspot_people()
    next_second()
    second = sync(settings)  # decided again under the policy: not created again
    assert second.not_recreated == {"hubspot": 1}
    assert pair.person not in sdk.hubspot_people()
    next_second()
    assert sync(settings).written_total == 0


def test_a_lead_restored_from_the_recycle_bin_resumes_under_its_old_person(
    sandbox: Sandbox, sqlite_url: str
) -> None:
    settings, sdk, (pair,) = synced(sandbox, sqlite_url)
    sdk.delete_salesforce(*pair.salesforce)
    next_second()
    sync(settings)
    sdk.recycle_bin(undelete=[pair.salesforce[1]])
    next_second()

    report = sync(settings)
    assert report.restored == 1

    ref = SourceRef(
        system=System.SALESFORCE, object_type=pair.salesforce[0], record_id=pair.salesforce[1]
    )
    with StateStore.from_settings(settings) as store:
        link = store.links.active(ref)
        assert link is not None
        assert link.person_id == pair.person
        assert store.gone.get_many([ref]) == {}
    # Syncing again: a HubSpot edit reaches the restored Lead.
    Users(sandbox).edit_hubspot(pair.hubspot, {"jobtitle": "Head of Revenue"})
    next_second()
    last = sync(settings)
    title = sdk.salesforce_record(*pair.salesforce)["Title"]
    if title != "Head of Revenue":
        with StateStore.from_settings(settings) as store:
            seen = [
                (str(o.ref), o.modified_at, o.values.get("title"), o.deleted)
                for o in store.observations.for_people([pair.person])[pair.person]
            ]
        raise AssertionError((pair, title, last.to_json(), report.to_json(), seen))
    assert sdk.salesforce_people()[pair.person] == [pair.salesforce]


def test_a_restored_contact_resumes_under_its_old_person(sandbox: Sandbox, sqlite_url: str) -> None:
    settings, sdk, (pair,) = synced(sandbox, sqlite_url)
    sdk.archive_hubspot(pair.hubspot)
    next_second()
    sync(settings)
    sdk.restore_hubspot(pair.hubspot)
    next_second()

    report = sync(settings)

    assert report.restored == 1
    assert sdk.hubspot_people()[pair.person] == [pair.hubspot]  # the same contact, not a new one
    Users(sandbox).salesforce(
        "PATCH", f"sobjects/{pair.salesforce[0]}/{pair.salesforce[1]}", {"Title": "VP Growth"}
    )
    next_second()
    sync(settings)
    assert sdk.hubspot_contact(pair.hubspot, "jobtitle")["jobtitle"] == "VP Growth"


def test_propagate_plans_the_delete_first_then_archives_the_pair_and_leaves_a_tombstone(
    sandbox: Sandbox, sqlite_url: str
) -> None:
    settings, sdk, (pair,) = synced(sandbox, sqlite_url)
    sdk.delete_salesforce(*pair.salesforce)
    next_second()

    # A dry run shows the delete and does nothing.
    propagate = EngineOptions(on_delete=DeletePolicy.PROPAGATE)
    with connected(settings, options=propagate) as engine:
        plan, planned = engine.plan()
    deletes = [r for r in plan.records if r.kind.value == "delete"]
    if not deletes:
        with StateStore.from_settings(settings) as store:
            links = store.links.for_person(pair.person, include_history=True)
            raise AssertionError(
                (
                    pair,
                    planned.to_json(),
                    [(str(link.ref), link.active) for link in links],
                    store.gone.for_people([pair.person]),
                )
            )
    assert [(r.system, r.record_id, r.person_id) for r in deletes] == [
        (System.HUBSPOT, pair.hubspot, pair.person)
    ]
    assert "deleted in salesforce" in deletes[0].reason
    assert sdk.hubspot_people()[pair.person] == [pair.hubspot]

    report = sync(settings, DeletePolicy.PROPAGATE)
    assert report.written["hubspot.delete"] == 1
    assert pair.person not in sdk.hubspot_people()
    assert pair.person not in sdk.salesforce_people()

    next_second()
    sync(settings, DeletePolicy.PROPAGATE)  # the archive comes back: everything is gone
    with StateStore.from_settings(settings) as store:
        record = store.people.get(pair.person)
        assert record is not None
        assert record.tombstoned_at is not None
        assert record.person.model_dump(exclude_defaults=True) == {"id": pair.person}
        assert store.observations.for_people([pair.person]) == {}
        assert store.provenance.for_person(pair.person) == []
        assert store.transitions.for_person(pair.person) == []
        assert store.activities.for_scoring([pair.person]) == {}
        # forget still erases completely, by one of the record ids crmsync kept.
        erased = store.forget_person(pair.person)
        assert erased.people == 1
        assert store.people.get(pair.person) is None
        assert store.gone.for_people([pair.person]) == {}
    next_second()
    assert sync(settings, DeletePolicy.PROPAGATE).written_total == 0


def test_a_late_echo_of_a_gone_record_resurrects_nobody_and_a_newer_version_restores(
    sandbox: Sandbox, sqlite_url: str
) -> None:
    """A search index lagging behind an archive answers the contact as it was: that version
    is older than the archive and is dropped. A version newer than the archive is a restore."""
    settings, sdk, (pair,) = synced(sandbox, sqlite_url)
    sdk.archive_hubspot(pair.hubspot)
    next_second()
    sync(settings)
    ref = SourceRef(system=System.HUBSPOT, object_type="contacts", record_id=pair.hubspot)
    mappings = load_mappings(ROOT / "mappings")
    with StateStore.from_settings(settings) as store:
        (gone,) = store.gone.get_many([ref]).values()
        assert gone.how is GoneHow.ARCHIVED
        people = store.people.count()

        def version(moved: timedelta) -> RawRecord:
            """The contact as a search page answers it, stamped ``moved`` from its archive."""
            return RawRecord(
                system=System.HUBSPOT,
                object_type="contacts",
                id=pair.hubspot,
                modified_at=gone.gone_at + moved,
                fields={"email": "someone.new@example.org"},
            )

        normaliser = Normaliser(mappings)
        stats = PullStats()
        store_records(normaliser, store, [version(-timedelta(seconds=30))], stats)
        assert stats.echoes == 1
        assert store.people.count() == people
        assert store.links.active(ref) is None

        stats = PullStats()
        store_records(normaliser, store, [version(timedelta(seconds=30))], stats)
        assert stats.restored == 1
        link = store.links.active(ref)
        assert link is not None
        assert link.person_id == pair.person
        assert store.people.count() == people
