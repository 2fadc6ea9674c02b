"""HubSpot's side of the synthetic world, and search invariants over it (no server needed)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.funnel import ActivityKind, FunnelStage
from connector.sandbox.hubspot import HubSpotEmulator, ManualClock, build
from connector.sandbox.hubspot._search import SearchEngine
from connector.sandbox.seed import World, generate

SEED = 11


STAGES = {
    FunnelStage.LEAD: {"subscriber", "lead", "marketingqualifiedlead"},
    FunnelStage.PROSPECT: {"salesqualifiedlead"},
    FunnelStage.OPPORTUNITY: {"opportunity"},
    FunnelStage.CUSTOMER: {"customer"},
    FunnelStage.DISQUALIFIED: {"lead", "other"},
}
ENGAGEMENTS = {
    ActivityKind.EMAIL: "emails",
    ActivityKind.CALL: "calls",
    ActivityKind.MEETING: "meetings",
}


def _props(emulator: HubSpotEmulator, object_type: str, object_id: str) -> dict[str, Any]:
    record = emulator.store.get(object_type, object_id)
    assert record is not None, f"{object_type} {object_id} is missing"
    return dict(record.props)


def test_contacts_mirror_hubspot_people(world: World) -> None:
    emulator = build(world, seed=SEED, clock=ManualClock(world.as_of + timedelta(days=1)))
    people = [p for p in world.people if p.in_hubspot]
    assert emulator.store.count("contacts") == len(people)
    for person in people:
        contact = emulator.store.find("contacts", "email", person.email)
        assert contact is not None
        props = contact.props
        assert props["lifecyclestage"] in STAGES[person.hubspot_stage or FunnelStage.LEAD]
        if person.hubspot_stage is FunnelStage.DISQUALIFIED:
            assert props["hs_lead_status"] in ("UNQUALIFIED", "BAD_TIMING")
        assert all(isinstance(v, str) for v in props.values())
        forms = [
            a
            for a in person.activities
            if a.system == "hubspot" and a.kind is ActivityKind.FORM_SUBMISSION
        ]
        assert props["num_conversion_events"] == str(len(forms))
        for kind, object_type in ENGAGEMENTS.items():
            logged = [a for a in person.activities if a.system == "hubspot" and a.kind is kind]
            linked = emulator.store.associated("contacts", contact.id, object_type)
            assert len(linked) == len(logged)
        deals = emulator.store.associated("contacts", contact.id, "deals")
        stages = {_props(emulator, "deals", d)["dealstage"] for d, _ in deals}
        assert person.has_open_deal == bool(stages - {"closedwon"})
        assert (person.hubspot_stage is FunnelStage.CUSTOMER) == ("closedwon" in stages)
        assert props.get("num_associated_deals", "0") == str(len(deals))


def test_seeding_is_deterministic(world: World) -> None:
    def snapshot() -> list[tuple[str, dict[str, str]]]:
        emulator = build(world, seed=SEED, clock=ManualClock(world.as_of))
        return [
            (r.id, r.props)
            for kind in ("contacts", "emails", "deals")
            for r in emulator.store.records(kind)
        ]

    assert snapshot() == snapshot()


_WORLD = generate(seed=SEED, people=160)
_EMULATOR = build(_WORLD, seed=SEED, clock=ManualClock(_WORLD.as_of))
_FILTER = st.sampled_from(
    [
        {"propertyName": "lifecyclestage", "operator": "IN", "values": ["lead", "subscriber"]},
        {"propertyName": "hs_lead_status", "operator": "HAS_PROPERTY"},
        {"propertyName": "hs_analytics_num_page_views", "operator": "GTE", "value": "3"},
        {"propertyName": "lastmodifieddate", "operator": "GT", "value": "1785000000000"},
        {"propertyName": "country", "operator": "NEQ", "value": "Germany"},
    ]
)


@settings(max_examples=40, deadline=None)
@given(
    groups=st.lists(st.lists(_FILTER, min_size=1, max_size=3), max_size=3),
    sort=st.sampled_from(
        [
            "lastmodifieddate",
            "-lastmodifieddate",
            "hs_object_id",
            "email",
            "-hs_analytics_num_page_views",
            None,
        ]
    ),
    limit=st.integers(min_value=1, max_value=40),
)
def test_search_pages_return_every_match_once_in_order(
    groups: list[list[dict[str, object]]], sort: str | None, limit: int
) -> None:
    engine = SearchEngine(_EMULATOR.store.linked_ids)
    table = _EMULATOR.store.tables["contacts"]
    body: dict[str, object] = {"filterGroups": [{"filters": g} for g in groups], "limit": limit}
    if sort:
        body["sorts"] = [sort]
    seen: list[str] = []
    after: str | None = "0"
    total = None
    while after is not None:
        page = engine.search(table, {**body, "after": after}, _EMULATOR.store.version)
        total = page.total
        seen += [r.id for r in page.records]
        after = page.next_after
    assert len(seen) == len(set(seen)) == total
    full = engine.search(table, {**body, "limit": 200}, _EMULATOR.store.version)
    assert [r.id for r in full.records][: len(seen)] == seen[:200]
