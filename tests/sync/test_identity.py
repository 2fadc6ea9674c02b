from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from connector.errors import System
from connector.funnel import SourceRef
from connector.state import StateStore
from connector.sync.identity import IssueKind, RecordIdentity, Resolution, resolve

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


# -- a page at once behaves as the same records one at a time ------------------------------

_KINDS = ((SF, "Lead", "00Q"), (SF, "Contact", "003"), (HS, "contacts", "1"))
_CONTACTS = ("Contact", "contacts")
_EMAILS = ("a@example.com", "B@example.com", "b@example.com", "c@example.com", None)


@st.composite
def _record(draw: st.DrawFn) -> RecordIdentity:
    system, kind, prefix = draw(st.sampled_from(_KINDS))
    number = draw(st.integers(min_value=0, max_value=3))
    record = ref(system, kind, f"{prefix}{number:012d}")
    email = draw(st.sampled_from(_EMAILS))
    deleted = draw(st.booleans()) and draw(st.booleans())
    converted = master = None
    merged: tuple[str, ...] = ()
    if kind == "Lead" and not deleted and draw(st.booleans()):
        converted = f"003{draw(st.integers(min_value=0, max_value=3)):012d}"
    if kind == "Lead" and deleted and draw(st.booleans()):
        master = f"00Q{draw(st.integers(min_value=0, max_value=3)):012d}"
    if system is HS and not deleted and draw(st.booleans()):
        merged = (f"1{draw(st.integers(min_value=0, max_value=3)):012d}",)
    return RecordIdentity(
        record,
        email,
        deleted=deleted,
        converted_contact_id=converted,
        master_record_id=master,
        merged_ids=merged,
    )


@st.composite
def _pages(draw: st.DrawFn) -> list[list[RecordIdentity]]:
    pages = draw(st.lists(st.lists(_record(), min_size=1, max_size=8), min_size=1, max_size=4))
    # A page holds each record once, as a CRM's page does.
    return [list({record.ref: record for record in page}.values()) for page in pages]


def _groups(
    store: StateStore, pages: list[list[RecordIdentity]]
) -> tuple[frozenset[frozenset[SourceRef]], frozenset[SourceRef]]:
    """Which records share a person now, and which records were linked once and no longer
    are. Person ids are random, and which of two people created on one page survives their
    merge is a tie, so neither is compared."""
    refs = {record.ref for page in pages for record in page}
    refs |= {
        ref(SF, "Contact", record.converted_contact_id)
        for page in pages
        for record in page
        if record.converted_contact_id
    }
    people: dict[str, set[SourceRef]] = {}
    closed: set[SourceRef] = set()
    for item in refs:
        link = store.links.active(item)
        if link is not None:
            people.setdefault(link.person_id, set()).add(item)
        elif store.links.history(item):
            closed.add(item)
    return frozenset(frozenset(group) for group in people.values()), frozenset(closed)


def _issues(result: Resolution) -> list[tuple[IssueKind, SourceRef]]:
    return [(issue.kind, issue.ref) for issue in result.issues]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_page_resolves_as_its_records_one_at_a_time(data: st.DataObject) -> None:
    pages = data.draw(_pages())
    with (
        tempfile.TemporaryDirectory() as folder,
        StateStore.open(f"sqlite:///{folder}/paged.db") as paged,
        StateStore.open(f"sqlite:///{folder}/single.db") as single,
    ):
        for page in pages:
            at_once = resolve(paged, page)
            one_by_one = Resolution()
            # resolve() takes Contacts first; the one-at-a-time run follows the same order.
            contacts_first = sorted(
                page,
                key=lambda r: (r.ref.object_type not in ("Contact", "contacts"), r.ref.record_id),
            )
            for record in contacts_first:
                alone = resolve(single, [record])
                one_by_one.issues.extend(alone.issues)
                one_by_one.created += alone.created
                one_by_one.linked += alone.linked
                one_by_one.person_of.update(alone.person_of)
            assert _issues(at_once) == _issues(one_by_one)
            assert (at_once.created, at_once.linked) == (one_by_one.created, one_by_one.linked)
            assert {r for r, p in at_once.person_of.items() if p is None} == {
                r for r, p in one_by_one.person_of.items() if p is None
            }
            assert _groups(paged, pages) == _groups(single, pages)


def test_a_page_of_new_records_takes_a_handful_of_statements(store: StateStore) -> None:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2])[:60])

    leads = [
        RecordIdentity(ref(SF, "Lead", f"00Q{n:012d}"), f"p{n}@example.com") for n in range(500)
    ]
    hubs = [RecordIdentity(ref(HS, "contacts", str(n)), f"p{n}@example.com") for n in range(500)]
    event.listen(store.engine, "before_cursor_execute", count)
    try:
        with store.transaction():
            first = resolve(store, leads)
        with store.transaction():
            second = resolve(store, hubs)
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    assert first.created == 500
    assert second.created == 0
    assert {second.person_of[h.ref] for h in hubs} == {first.person_of[lead.ref] for lead in leads}
    # Two pages of 500: per page a transaction with reads of the links, the e-mail matches
    # and their people's links, then one insert of people and one of links (not 500 of each).
    assert len(statements) <= 20, statements
