"""hubspot-api-client 12 itself against the emulator, over a real socket."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from hubspot import HubSpot
from hubspot.crm.associations.v4 import (
    BatchInputPublicFetchAssociationsBatchRequest,
    BatchResponsePublicAssociationMultiWithLabel,
    BatchResponsePublicAssociationMultiWithLabelWithErrors,
    PublicFetchAssociationsBatchRequest,
)
from hubspot.crm.contacts import ApiException as ContactsApiException
from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInput,
    BatchResponseSimplePublicObject,
    BatchResponseSimplePublicObjectWithErrors,
    Filter,
    FilterGroup,
    PublicMergeInput,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInput,
)
from hubspot.crm.properties import ApiException as PropertiesApiException
from hubspot.crm.properties import PropertyCreate

from connector.sandbox.hubspot import SANDBOX_ACCESS_TOKEN, HubSpotEmulator, ManualClock, build
from connector.sandbox.hubspot._values import epoch_ms, parse_instant
from connector.sandbox.seed import World

EARLY_STAGES = ["subscriber", "lead", "marketingqualifiedlead"]


def test_search_pages_through_filtered_sorted_results(
    client: HubSpot, emulator: HubSpotEmulator, world: World, clock: ManualClock
) -> None:
    since = world.as_of - timedelta(days=120)
    request = PublicObjectSearchRequest(
        filter_groups=[
            FilterGroup(
                filters=[
                    Filter(property_name="lifecyclestage", operator="IN", values=EARLY_STAGES),
                    Filter(
                        property_name="lastmodifieddate",
                        operator="GTE",
                        value=str(epoch_ms(since)),
                    ),
                ]
            )
        ],
        sorts=[{"propertyName": "lastmodifieddate", "direction": "DESCENDING"}],
        properties=["lifecyclestage", "lastmodifieddate", "email"],
        limit=7,
    )
    seen: list[tuple[str, str]] = []
    pages = 0
    while True:
        clock.advance(0.25)  # stay under 5 searches a second, as a client must
        page = client.crm.contacts.search_api.do_search(public_object_search_request=request)
        pages += 1
        seen += [(r.id, r.properties["lastmodifieddate"]) for r in page.results]
        for result in page.results:
            assert result.properties["lifecyclestage"] in EARLY_STAGES
            assert isinstance(result.properties["email"], str)
        if page.paging is None:
            break
        request.after = page.paging.next.after

    expected = {
        r.id
        for r in emulator.store.records("contacts")
        if r.props.get("lifecyclestage") in EARLY_STAGES
        and parse_instant(r.props["lastmodifieddate"]) >= since  # type: ignore[operator]
    }
    assert len(expected) > 14  # enough for three pages
    assert page.total == len(expected)
    assert {object_id for object_id, _ in seen} == expected
    assert len(seen) == len(expected)
    stamps = [stamp for _, stamp in seen]
    assert stamps == sorted(stamps, reverse=True)
    assert pages == -(-len(expected) // 7)


def test_batch_update_partial_failure_is_a_207_response_object(
    client: HubSpot, emulator: HubSpotEmulator, clock: ManualClock
) -> None:
    leads = [r for r in emulator.store.records("contacts") if r.props["lifecyclestage"] == "lead"]
    good, bad = leads[0], leads[1]
    before = good.props["lastmodifieddate"]
    clock.advance(60)
    inputs = BatchInputSimplePublicObjectBatchInput(
        inputs=[
            SimplePublicObjectBatchInput(
                id=good.id,
                properties={"lifecyclestage": "opportunity", "crmsync_lead_score": "42"},
                object_write_trace_id="t-good",
            ),
            SimplePublicObjectBatchInput(
                id=bad.id,
                properties={"lifecyclestage": "not-a-stage"},
                object_write_trace_id="t-bad",
            ),
            SimplePublicObjectBatchInput(id="999999999", properties={"firstname": "Nobody"}),
        ]
    )

    response = client.crm.contacts.batch_api.update(
        batch_input_simple_public_object_batch_input=inputs
    )

    assert isinstance(response, BatchResponseSimplePublicObjectWithErrors)
    assert response.status == "COMPLETE"
    assert response.num_errors == 2
    by_category = {e.category: e for e in response.errors}
    invalid = by_category["VALIDATION_ERROR"]
    assert invalid.status == "error"
    assert invalid.context["ids"] == [bad.id]
    assert invalid.context["objectWriteTraceId"] == ["t-bad"]
    assert invalid.errors[0].code == "INVALID_OPTION"
    assert invalid.errors[0].context == {"propertyName": ["lifecyclestage"]}
    assert by_category["OBJECT_NOT_FOUND"].context["ids"] == ["999999999"]
    (updated,) = response.results
    assert updated.id == good.id
    assert updated.object_write_trace_id == "t-good"
    assert updated.properties["lifecyclestage"] == "opportunity"
    assert updated.properties["crmsync_lead_score"] == "42"
    assert updated.properties["lastmodifieddate"] > before
    assert emulator.store.get("contacts", bad.id).props["lifecyclestage"] == "lead"  # type: ignore[union-attr]


def test_batch_update_without_errors_is_a_plain_batch_response(
    client: HubSpot, emulator: HubSpotEmulator
) -> None:
    contact = emulator.store.records("contacts")[0]
    inputs = BatchInputSimplePublicObjectBatchInput(
        inputs=[SimplePublicObjectBatchInput(id=contact.id, properties={"jobtitle": "CTO"})]
    )
    response = client.crm.contacts.batch_api.update(
        batch_input_simple_public_object_batch_input=inputs
    )
    assert isinstance(response, BatchResponseSimplePublicObject)
    assert response.results[0].properties["jobtitle"] == "CTO"


def test_properties_describe_options_read_only_and_unique_values(client: HubSpot) -> None:
    everything = {
        p.name: p for p in client.crm.properties.core_api.get_all(object_type="contacts").results
    }

    stage = everything["lifecyclestage"]
    assert stage.type == "enumeration"
    assert [o.value for o in sorted(stage.options, key=lambda o: o.display_order)][:6] == [
        "subscriber",
        "lead",
        "marketingqualifiedlead",
        "salesqualifiedlead",
        "opportunity",
        "customer",
    ]
    assert stage.modification_metadata.read_only_value is False
    modified = everything["lastmodifieddate"]
    assert modified.modification_metadata.read_only_value is True
    assert modified.calculated is True
    person_id = client.crm.properties.core_api.get_by_name("contacts", "crmsync_person_id")
    assert person_id.has_unique_value is True
    assert person_id.hubspot_defined is None  # custom properties do not claim to be HubSpot's


def test_created_property_is_described_and_writable(
    client: HubSpot, emulator: HubSpotEmulator
) -> None:
    created = client.crm.properties.core_api.create(
        object_type="contacts",
        property_create=PropertyCreate(
            name="crmsync_tier",
            label="Tier",
            type="enumeration",
            field_type="select",
            group_name="crmsync",
            options=[{"label": "A", "value": "a", "displayOrder": 0, "hidden": False}],
        ),
    )
    assert created.name == "crmsync_tier"
    assert created.options[0].value == "a"
    assert created.modification_metadata.read_only_value is False

    with pytest.raises(PropertiesApiException) as duplicate:
        client.crm.properties.core_api.create(
            object_type="contacts",
            property_create=PropertyCreate(
                name="crmsync_tier",
                label="Tier",
                type="string",
                field_type="text",
                group_name="crmsync",
            ),
        )
    assert duplicate.value.status == 409

    contact = emulator.store.records("contacts")[0]
    client.crm.contacts.basic_api.update(contact.id, {"properties": {"crmsync_tier": "a"}})
    with pytest.raises(ContactsApiException) as refused:
        client.crm.contacts.basic_api.update(contact.id, {"properties": {"crmsync_tier": "z"}})
    assert refused.value.status == 400
    assert json.loads(refused.value.body)["category"] == "VALIDATION_ERROR"


def test_association_batch_read_pages_per_input(
    world: World, clock: ManualClock, serve: Callable[[HubSpotEmulator], str]
) -> None:
    emulator = build(world, seed=11, clock=clock, association_page_size=2)
    client = HubSpot(access_token=SANDBOX_ACCESS_TOKEN, host=serve(emulator))
    contacts = emulator.store.records("contacts")
    counts = {c.id: len(emulator.store.associated("contacts", c.id, "emails")) for c in contacts}
    busy = [cid for cid, n in counts.items() if n >= 3][:3]
    lonely = next(cid for cid, n in counts.items() if n == 0)
    assert len(busy) == 3

    collected: dict[str, list[str]] = {cid: [] for cid in busy}
    pending = [PublicFetchAssociationsBatchRequest(id=cid) for cid in [*busy, lonely]]
    rounds = 0
    while pending:
        rounds += 1
        response = client.crm.associations.v4.batch_api.get_page(
            "contacts",
            "emails",
            batch_input_public_fetch_associations_batch_request=(
                BatchInputPublicFetchAssociationsBatchRequest(inputs=pending)
            ),
        )
        if rounds == 1:
            assert isinstance(response, BatchResponsePublicAssociationMultiWithLabelWithErrors)
            (missing,) = response.errors
            assert missing.category == "OBJECT_NOT_FOUND"
            assert missing.sub_category == "crm.associations.NO_ASSOCIATIONS_FOUND"
            assert missing.context["fromObjectId"] == [lonely]
        else:
            assert isinstance(response, BatchResponsePublicAssociationMultiWithLabel)
        pending = []
        for result in response.results:
            assert len(result.to) <= 2
            for target in result.to:
                assert [t.type_id for t in target.association_types] == [197]
                assert target.association_types[0].category == "HUBSPOT_DEFINED"
                collected[result._from.id].append(target.to_object_id)
            if result.paging is not None:
                pending.append(
                    PublicFetchAssociationsBatchRequest(
                        id=result._from.id, after=result.paging.next.after
                    )
                )
    assert rounds == -(-max(counts[cid] for cid in busy) // 2)
    for cid in busy:
        expected = [to_id for to_id, _ in emulator.store.associated("contacts", cid, "emails")]
        assert collected[cid] == expected


def test_merge_leaves_one_survivor_that_the_merged_id_answers(
    client: HubSpot, emulator: HubSpotEmulator
) -> None:
    first, second = emulator.store.records("contacts")[:2]
    second_email = second.props["email"]
    second_emails = {to for to, _ in emulator.store.associated("contacts", second.id, "emails")}

    survivor = client.crm.contacts.basic_api.merge(
        public_merge_input=PublicMergeInput(
            primary_object_id=first.id, object_id_to_merge=second.id
        )
    )

    assert survivor.id == first.id
    assert survivor.properties["hs_merged_object_ids"] == second.id
    assert second_email in survivor.properties["hs_additional_emails"].split(";")
    # A merged id resolves to the surviving record (HubSpot changelog "Updated merge
    # functionality for contacts and companies"): 200 with a different id.
    fetched = client.crm.contacts.basic_api.get_by_id(
        second.id, properties=["hs_merged_object_ids"]
    )
    assert fetched.id == first.id
    by_email = client.crm.contacts.basic_api.get_by_id(second_email, id_property="email")
    assert by_email.id == first.id
    found = client.crm.contacts.search_api.do_search(
        public_object_search_request=PublicObjectSearchRequest(
            filter_groups=[
                FilterGroup(
                    filters=[Filter(property_name="hs_object_id", operator="EQ", value=second.id)]
                )
            ]
        )
    )
    assert found.total == 0
    moved = {to for to, _ in emulator.store.associated("contacts", first.id, "emails")}
    assert second_emails <= moved
    with pytest.raises(ContactsApiException) as again:
        client.crm.contacts.basic_api.merge(
            public_merge_input=PublicMergeInput(
                primary_object_id=first.id, object_id_to_merge=second.id
            )
        )
    assert again.value.status in (400, 404)
