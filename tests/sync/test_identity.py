from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.errors import System
from connector.funnel import SourceRef
from connector.state import StateStore
from connector.sync.identity import IssueKind, RecordIdentity, resolve

SF, HS = System.SALESFORCE, System.HUBSPOT


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    with StateStore.open(f"sqlite:///{tmp_path}/state.db") as opened:
        yield opened


def ref(system: System, kind: str, record_id: str) -> SourceRef:
    return SourceRef(system=system, object_type=kind, record_id=record_id)


LEAD = ref(SF, "Lead", "00Q000000000001")
LEAD2 = ref(SF, "Lead", "00Q000000000002")
CONTACT = ref(SF, "Contact", "003000000000001")
CONTACT2 = ref(SF, "Contact", "003000000000002")
HUB = ref(HS, "contacts", "101")
HUB2 = ref(HS, "contacts", "102")


def test_stored_link_then_email_then_new(store: StateStore) -> None:
    first = resolve(store, [RecordIdentity(LEAD, "ada@example.com")])
    person = first.person_of[LEAD]
    assert person is not None
    assert first.created == 1
    again = resolve(store, [RecordIdentity(LEAD, "changed@example.com")])
    assert again.person_of[LEAD] == person  # the stored link wins over the new address
    matched = resolve(store, [RecordIdentity(HUB, "ada@example.com")])
    assert matched.person_of[HUB] == person
    assert matched.created == 0
    other = resolve(store, [RecordIdentity(HUB2, "bob@example.com")])
    assert other.person_of[HUB2] not in (None, person)


def test_two_records_of_one_type_with_one_email_are_reported_not_merged(
    store: StateStore,
) -> None:
    result = resolve(
        store,
        [RecordIdentity(CONTACT, "dup@example.com"), RecordIdentity(CONTACT2, "dup@example.com")],
    )
    assert result.person_of[CONTACT] is not None
    assert result.person_of[CONTACT2] is None
    (issue,) = result.issues
    assert issue.kind is IssueKind.AMBIGUOUS_EMAIL
    assert issue.ref == CONTACT2
    assert "dup@example.com" not in issue.detail  # personal data stays out of reports


def test_contact_joins_the_person_of_a_lead_with_the_same_email(store: StateStore) -> None:
    result = resolve(
        store,
        [RecordIdentity(LEAD, "c@example.com"), RecordIdentity(CONTACT, "c@example.com")],
    )
    assert result.person_of[LEAD] == result.person_of[CONTACT]


def test_conversion_moves_the_person_to_the_contact_keeping_history(store: StateStore) -> None:
    person = resolve(store, [RecordIdentity(LEAD, "l@example.com")]).person_of[LEAD]
    converted = resolve(
        store, [RecordIdentity(LEAD, "l@example.com", converted_contact_id=CONTACT.record_id)]
    )
    assert converted.person_of[CONTACT] == person
    assert converted.person_of[LEAD] is None  # writes go to the Contact now
    assert store.links.active(LEAD) is None
    assert next(link.person_id for link in store.links.history(LEAD)) == person
    assert store.links.active(CONTACT) is not None


def test_conversion_into_a_contact_already_known_merges_the_people(store: StateStore) -> None:
    lead_person = resolve(store, [RecordIdentity(LEAD, "x@example.com")]).person_of[LEAD]
    contact_person = resolve(store, [RecordIdentity(CONTACT, "y@example.com")]).person_of[CONTACT]
    assert lead_person != contact_person
    result = resolve(
        store, [RecordIdentity(LEAD, "x@example.com", converted_contact_id=CONTACT.record_id)]
    )
    assert result.person_of[CONTACT] == lead_person  # the older person keeps its history
    assert any(issue.kind is IssueKind.MERGED_PEOPLE for issue in result.issues)
    absorbed = store.people.get(str(contact_person))
    assert absorbed is not None
    assert absorbed.merged_into == lead_person


def test_hubspot_merge_follows_merged_ids(store: StateStore) -> None:
    first = resolve(store, [RecordIdentity(HUB, "h1@example.com")]).person_of[HUB]
    survivor = ref(HS, "contacts", "900")
    result = resolve(store, [RecordIdentity(survivor, "h9@example.com", merged_ids=("101",))])
    assert result.person_of[survivor] == first
    assert store.links.active(HUB) is None


def test_salesforce_merge_hands_the_person_to_the_master(store: StateStore) -> None:
    winner = resolve(store, [RecordIdentity(LEAD, "w@example.com")]).person_of[LEAD]
    loser = resolve(store, [RecordIdentity(LEAD2, "v@example.com")]).person_of[LEAD2]
    hub = resolve(store, [RecordIdentity(HUB, "v@example.com")]).person_of[HUB]
    assert hub == loser
    resolve(
        store,
        [RecordIdentity(LEAD2, "v@example.com", deleted=True, master_record_id=LEAD.record_id)],
    )
    assert store.links.active(LEAD2) is None
    moved = store.links.active(HUB)
    assert moved is not None
    assert moved.person_id == winner  # the loser's other records follow it to the survivor
    absorbed = store.people.get(str(loser))
    assert absorbed is not None
    assert absorbed.merged_into == winner


def test_deleted_record_closes_its_link(store: StateStore) -> None:
    resolve(store, [RecordIdentity(HUB, "d@example.com")])
    result = resolve(store, [RecordIdentity(HUB, "d@example.com", deleted=True)])
    assert result.person_of[HUB] is None
    assert store.links.active(HUB) is None
