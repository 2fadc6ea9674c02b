from __future__ import annotations

import pytest

from connector.errors import StateError
from connector.funnel import FunnelStage, Score
from connector.state import LinkReason, StateStore

from .conftest import START, FrozenClock, contact, hubspot, lead, person


def test_upsert_round_trips_the_canonical_person(store: StateStore) -> None:
    original = person(
        "p1",
        "Ada@Example.com",
        first_name="Ada",
        stage="prospect",
        score=Score(fit=40, engagement=20, total=60, rules_version="r7"),
    )
    record = store.people.upsert(original)
    assert record.person == original
    assert record.person.email == "ada@example.com"
    assert record.created_at == record.updated_at == START
    assert record.merged_into is None


def test_upsert_again_replaces_data_and_keeps_created_at(
    store: StateStore, clock: FrozenClock
) -> None:
    store.people.upsert(person("p1", "ada@example.com"))
    later = clock.advance(hours=1)
    record = store.people.upsert(person("p1", "ada@new.example", stage="customer"))
    assert record.person.stage is FunnelStage.CUSTOMER
    assert record.created_at == START
    assert record.updated_at == later
    assert store.people.by_email("ada@example.com") == []
    assert [r.id for r in store.people.by_email("ADA@new.example")] == ["p1"]


def test_get_many_returns_only_stored_people(store: StateStore) -> None:
    store.people.upsert_many([person("p1"), person("p2")])
    assert set(store.people.get_many(["p1", "p2", "p3"])) == {"p1", "p2"}
    assert store.people.get("p3") is None
    assert store.people.count() == 2


def test_by_emails_groups_every_match_for_ambiguity_reports(store: StateStore) -> None:
    store.people.upsert_many(
        [person("p1", "ada@example.com"), person("p2", "ada@example.com"), person("p3", "b@x.io")]
    )
    found = store.people.by_emails(["Ada@Example.com", "b@x.io", "c@x.io", "not an address"])
    assert {email: [r.id for r in records] for email, records in found.items()} == {
        "ada@example.com": ["p1", "p2"],
        "b@x.io": ["p3"],
    }


def test_by_link_follows_active_links_only(store: StateStore) -> None:
    store.people.upsert_many([person("p1"), person("p2")])
    store.links.add(lead("00Q1"), "p1", LinkReason.CREATED)
    store.links.add(hubspot("501"), "p2", LinkReason.EMAIL_MATCH)
    assert store.people.by_link(lead("00Q1")).id == "p1"  # type: ignore[union-attr]
    assert {
        ref: r.id for ref, r in store.people.by_links([lead("00Q1"), hubspot("501")]).items()
    } == {
        lead("00Q1"): "p1",
        hubspot("501"): "p2",
    }
    store.links.close(lead("00Q1"))
    assert store.people.by_link(lead("00Q1")) is None


def test_merge_moves_links_and_hides_the_loser_from_email_lookups(
    store: StateStore, clock: FrozenClock
) -> None:
    store.people.upsert_many([person("loser", "a@x.io"), person("winner", "b@x.io")])
    store.links.add(hubspot("11"), "loser", LinkReason.CREATED)
    store.links.add(contact("003A"), "winner", LinkReason.CREATED)
    clock.advance(minutes=5)

    assert store.people.merge("loser", "winner") == 1

    assert store.links.active(hubspot("11")).person_id == "winner"  # type: ignore[union-attr]
    assert store.people.get("loser").merged_into == "winner"  # type: ignore[union-attr]
    assert store.people.by_email("a@x.io") == []
    history = store.links.history(hubspot("11"))
    assert [(link.person_id, link.active, link.reason) for link in history] == [
        ("loser", False, LinkReason.CREATED),
        ("winner", True, LinkReason.MERGE),
    ]


def test_merging_a_merge_target_repoints_earlier_losers(store: StateStore) -> None:
    store.people.upsert_many([person("a"), person("b"), person("c")])
    store.people.merge("a", "b")
    store.people.merge("b", "c")
    assert store.people.get("a").merged_into == "c"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("loser", "winner", "message"),
    [("a", "a", "into itself"), ("a", "ghost", "two stored people"), ("c", "a", "merged away")],
)
def test_invalid_merges_are_refused(
    store: StateStore, loser: str, winner: str, message: str
) -> None:
    store.people.upsert_many([person("a"), person("b"), person("c")])
    store.people.merge("a", "b")
    with pytest.raises(StateError, match=message):
        store.people.merge(loser, winner)


def test_a_string_that_is_not_an_address_matches_nobody(store: StateStore) -> None:
    store.people.upsert(person("p1", "ada@example.com"))
    assert store.people.by_email("ada at example") == []


def test_ids_page_in_order_and_skip_merged(store: StateStore) -> None:
    store.people.upsert_many(person(pid, f"{pid}@example.com") for pid in ("a", "b", "c", "d"))
    store.people.merge("b", "a")
    assert store.people.ids(limit=2) == ["a", "c"]
    assert store.people.ids(after="c", limit=2) == ["d"]
