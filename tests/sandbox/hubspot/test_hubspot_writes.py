"""Write rules: strings on the wire, lastmodifieddate, lifecycle forward-only, read-only and
enumeration refusals, unique ids, upserts, batch limits, engagements and deals."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from connector.sandbox.hubspot import HubSpotEmulator, ManualClock

CONTACTS = "/crm/v3/objects/contacts"


def _contact(emulator: HubSpotEmulator, stage: str) -> str:
    return next(
        r.id for r in emulator.store.records("contacts") if r.props.get("lifecyclestage") == stage
    )


def _patch(http: httpx.Client, object_id: str, props: dict[str, Any]) -> httpx.Response:
    return http.patch(f"{CONTACTS}/{object_id}", json={"properties": props})


def _stage(http: httpx.Client, object_id: str) -> str:
    response = http.get(f"{CONTACTS}/{object_id}", params={"properties": "lifecyclestage"})
    stage: str = response.json()["properties"]["lifecyclestage"]
    return stage


def test_lifecycle_stage_moves_forward_and_ignores_backward_sets(
    http: httpx.Client, emulator: HubSpotEmulator
) -> None:
    contact = _contact(emulator, "salesqualifiedlead")

    backward = _patch(http, contact, {"lifecyclestage": "lead"})
    assert backward.status_code == 200  # silently ignored, as HubSpot does
    assert _stage(http, contact) == "salesqualifiedlead"

    assert _patch(http, contact, {"lifecyclestage": "customer"}).status_code == 200
    assert _stage(http, contact) == "customer"


def test_lifecycle_stage_moves_backward_after_a_clear_in_an_earlier_request(
    http: httpx.Client, emulator: HubSpotEmulator
) -> None:
    contact = _contact(emulator, "opportunity")
    assert _patch(http, contact, {"lifecyclestage": ""}).status_code == 200
    assert _stage(http, contact) is None
    assert _patch(http, contact, {"lifecyclestage": "lead"}).status_code == 200
    assert _stage(http, contact) == "lead"


def test_one_batch_cannot_clear_and_set_the_same_contact(
    http: httpx.Client, emulator: HubSpotEmulator
) -> None:
    contact = _contact(emulator, "opportunity")
    response = http.post(
        f"{CONTACTS}/batch/update",
        json={
            "inputs": [
                {"id": contact, "properties": {"lifecyclestage": ""}},
                {"id": contact, "properties": {"lifecyclestage": "lead"}},
            ]
        },
    )
    assert response.status_code == 400
    assert response.json()["category"] == "VALIDATION_ERROR"
    assert _stage(http, contact) == "opportunity"


def test_read_only_unknown_and_invalid_values_are_refused(
    http: httpx.Client, emulator: HubSpotEmulator
) -> None:
    contact = emulator.store.records("contacts")[0]
    before = dict(contact.props)
    for props, code in (
        ({"lastmodifieddate": "1700000000000"}, "READ_ONLY_VALUE"),
        ({"hs_analytics_num_page_views": "7"}, "READ_ONLY_VALUE"),
        ({"no_such_property": "x"}, "PROPERTY_DOESNT_EXIST"),
        ({"hs_lead_status": "MAYBE"}, "INVALID_OPTION"),
        ({"crmsync_lead_score": "high"}, "INVALID_INTEGER"),
    ):
        response = _patch(http, contact.id, props)
        assert response.status_code == 400, props
        body = response.json()
        assert body["category"] == "VALIDATION_ERROR"
        assert body["message"].startswith("Property values were not valid")
        assert body["errors"][0]["code"] == code
    assert contact.props == before


def test_values_are_strings_and_lastmodifieddate_moves_on_every_write(
    http: httpx.Client, emulator: HubSpotEmulator, clock: ManualClock
) -> None:
    contact = emulator.store.records("contacts")[0].id
    stamps = []
    for score in (10, 10.5, 10.5):
        response = _patch(http, contact, {"crmsync_lead_score": score})
        assert response.status_code == 200
        props = response.json()["properties"]
        assert all(isinstance(v, str) for v in props.values())
        stamps.append(props["lastmodifieddate"])
    assert props["crmsync_lead_score"] == "10.5"
    assert stamps == sorted(set(stamps))  # strictly increasing, even without the clock moving
    assert stamps[0].endswith("Z")
    assert len(stamps[0]) == len("2026-11-02T00:00:00.000Z")
    clock.advance(5)
    later = _patch(http, contact, {"jobtitle": "VP"}).json()["properties"]["lastmodifieddate"]
    assert later > stamps[-1]


def test_datetime_writes_accept_epoch_ms_and_iso(
    http: httpx.Client, emulator: HubSpotEmulator
) -> None:
    deal = emulator.store.records("deals")[0].id
    for value in ("1798761600000", "2027-01-01T00:00:00Z"):
        response = http.patch(
            f"/crm/v3/objects/deals/{deal}", json={"properties": {"closedate": value}}
        )
        assert response.json()["properties"]["closedate"] == "2027-01-01T00:00:00.000Z"


def test_unique_properties_work_as_id_property_and_refuse_duplicates(
    http: httpx.Client, emulator: HubSpotEmulator
) -> None:
    first, second = (r.id for r in emulator.store.records("contacts")[:2])
    assert _patch(http, first, {"crmsync_person_id": "person-1"}).status_code == 200
    conflict = _patch(http, second, {"crmsync_person_id": "person-1"})
    assert conflict.status_code == 409
    assert conflict.json()["category"] == "CONFLICT"

    found = http.get(f"{CONTACTS}/person-1", params={"idProperty": "crmsync_person_id"})
    assert found.json()["id"] == first
    upsert = http.post(
        f"{CONTACTS}/batch/upsert",
        json={
            "inputs": [
                {
                    "id": "person-1",
                    "idProperty": "crmsync_person_id",
                    "properties": {"jobtitle": "CEO"},
                },
                {
                    "id": "person-2",
                    "idProperty": "crmsync_person_id",
                    "properties": {"email": "fresh@example.test"},
                },
            ]
        },
    )
    assert upsert.status_code == 200
    results = {r["properties"]["crmsync_person_id"]: r for r in upsert.json()["results"]}
    assert results["person-1"]["new"] is False
    assert results["person-1"]["id"] == first
    assert results["person-2"]["new"] is True


def test_email_upserts_are_all_or_nothing(http: httpx.Client, emulator: HubSpotEmulator) -> None:
    count = emulator.store.count("contacts")
    response = http.post(
        f"{CONTACTS}/batch/upsert",
        json={
            "inputs": [
                {"id": "ok@example.test", "idProperty": "email", "properties": {"firstname": "Ok"}},
                {
                    "id": "bad@example.test",
                    "idProperty": "email",
                    "properties": {"lifecyclestage": "nope"},
                },
            ]
        },
    )
    assert response.status_code == 400
    assert emulator.store.count("contacts") == count


def test_batches_are_limited_to_100_inputs(http: httpx.Client) -> None:
    inputs = [{"id": str(i)} for i in range(101)]
    response = http.post(f"{CONTACTS}/batch/read", json={"inputs": inputs})
    assert response.status_code == 400
    assert response.json()["category"] == "VALIDATION_ERROR"


def test_list_pages_are_capped_at_100(http: httpx.Client, emulator: HubSpotEmulator) -> None:
    page = http.get(CONTACTS, params={"limit": 500}).json()
    assert len(page["results"]) == 100
    assert set(page["results"][0]["properties"]) >= {"email", "firstname", "lastname"}
    rest = http.get(CONTACTS, params={"limit": 100, "after": page["paging"]["next"]["after"]})
    ids = [r["id"] for r in page["results"] + rest.json()["results"]]
    assert ids == [r.id for r in emulator.store.records("contacts")][: len(ids)]


def test_archived_contacts_leave_reads_and_search(
    http: httpx.Client, emulator: HubSpotEmulator
) -> None:
    contact = emulator.store.records("contacts")[0].id
    assert http.delete(f"{CONTACTS}/{contact}").status_code == 204
    assert http.get(f"{CONTACTS}/{contact}").status_code == 404
    archived = http.get(f"{CONTACTS}/{contact}", params={"archived": "true"}).json()
    assert archived["archived"] is True
    assert "archivedAt" in archived
    found = http.post(
        f"{CONTACTS}/search",
        json={
            "filterGroups": [
                {"filters": [{"propertyName": "hs_object_id", "operator": "EQ", "value": contact}]}
            ]
        },
    )
    assert found.json()["total"] == 0


def test_engagements_are_created_with_required_properties_and_associations(
    http: httpx.Client, emulator: HubSpotEmulator
) -> None:
    contact = emulator.store.records("contacts")[0].id
    missing = http.post("/crm/v3/objects/notes", json={"properties": {"hs_note_body": "hi"}})
    assert missing.status_code == 400
    created = http.post(
        "/crm/v3/objects/notes",
        json={
            "properties": {"hs_note_body": "hi", "hs_timestamp": "1790000000000"},
            "associations": [
                {
                    "to": {"id": contact},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}],
                }
            ],
        },
    )
    assert created.status_code == 201
    note = created.json()["id"]
    assert emulator.store.associated("contacts", contact, "notes") == [(note, [201])]
    found = http.post(
        "/crm/v3/objects/notes/search",
        json={
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": "associations.contact", "operator": "EQ", "value": contact}
                    ]
                }
            ]
        },
    )
    assert [r["id"] for r in found.json()["results"]] == [note]


def test_deals_compute_closed_won_from_their_stage(
    http: httpx.Client, emulator: HubSpotEmulator
) -> None:
    open_deal = next(
        r for r in emulator.store.records("deals") if r.props["dealstage"] != "closedwon"
    )
    assert open_deal.props["hs_is_closed_won"] == "false"
    response = http.patch(
        f"/crm/v3/objects/deals/{open_deal.id}", json={"properties": {"dealstage": "closedwon"}}
    )
    assert response.json()["properties"]["hs_is_closed_won"] == "true"
    refused = http.patch(
        f"/crm/v3/objects/deals/{open_deal.id}", json={"properties": {"hs_is_closed_won": "false"}}
    )
    assert refused.status_code == 400


def _f(prop: str, op: str, **extra: Any) -> list[dict[str, Any]]:
    return [{"propertyName": prop, "operator": op, **extra}]


SCORE, REASON, PERSON = "crmsync_lead_score", "crmsync_score_reason", "crmsync_person_id"


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (_f(SCORE, "BETWEEN", value="10", highValue="20"), {"a", "b"}),
        (_f(SCORE, "LT", value="15"), {"a"}),
        (_f(SCORE, "GTE", value="15"), {"b", "c"}),
        (_f(SCORE, "NEQ", value="20"), {"a", "c", None}),
        (_f(SCORE, "NOT_HAS_PROPERTY"), {None}),
        (_f(REASON, "CONTAINS_TOKEN", value="demo"), {"a"}),
        (_f(REASON, "NOT_CONTAINS_TOKEN", value="demo"), {"b", "c", None}),
        (_f(REASON, "CONTAINS_TOKEN", value="web*"), {"b"}),
        (_f(PERSON, "IN", values=["A", "C"]), {"a", "c"}),
        (_f(PERSON, "NOT_IN", values=["a"]), {"b", "c", None}),
    ],
)
def test_search_operators(
    http: httpx.Client,
    emulator: HubSpotEmulator,
    filters: list[dict[str, Any]],
    expected: set[str | None],
) -> None:
    first, second, third, fourth = emulator.store.records("contacts")[:4]
    for record, values in (
        (first, {PERSON: "a", SCORE: "10", REASON: "Asked for a demo"}),
        (second, {PERSON: "b", SCORE: "20", REASON: "webinar, pages"}),
        (third, {PERSON: "c", SCORE: "30.5", REASON: "fit"}),
    ):
        emulator.store.update("contacts", record, values)
    ours = {first.id, second.id, third.id, fourth.id}
    response = http.post(
        f"{CONTACTS}/search",
        json={
            "filterGroups": [{"filters": filters}],
            "properties": ["crmsync_person_id"],
            "limit": 200,
        },
    )
    got = {
        r["properties"]["crmsync_person_id"] for r in response.json()["results"] if r["id"] in ours
    }
    assert got == expected


def test_search_validates_filter_limits_and_sorts(http: httpx.Client, clock: ManualClock) -> None:
    one = {"propertyName": "email", "operator": "HAS_PROPERTY"}
    bodies = [
        {"filterGroups": [{"filters": [one]}] * 6},
        {"filterGroups": [{"filters": [one] * 7}]},
        {"filterGroups": [{"filters": [one] * 6}] * 3 + [{"filters": [one]}]},
        {"sorts": ["email", "-createdate"]},
        {"limit": 201},
        {
            "filterGroups": [
                {"filters": [{"propertyName": "email", "operator": "LIKE", "value": "x"}]}
            ]
        },
    ]
    for body in bodies:
        clock.advance(1)
        response = http.post(f"{CONTACTS}/search", json=body)
        assert response.status_code == 400, body
        assert response.json()["category"] == "VALIDATION_ERROR"
    clock.advance(1)
    ok = http.post(f"{CONTACTS}/search", json={"filterGroups": [{"filters": [one] * 6}] * 3})
    assert ok.status_code == 200


def test_batch_create_and_archive(http: httpx.Client, emulator: HubSpotEmulator) -> None:
    # A refused option rejects its input alone (a taken e-mail refuses the whole call, see
    # test_hubspot_refusals.py).
    created = http.post(
        f"{CONTACTS}/batch/create",
        json={
            "inputs": [
                {"properties": {"email": "one@example.test", "lifecyclestage": "lead"}},
                {
                    "properties": {"email": "two@example.test", "lifecyclestage": "nope"},
                    "objectWriteTraceId": "bad-stage",
                },
            ]
        },
    )
    assert created.status_code == 207
    body = created.json()
    (made,) = body["results"]
    (refused,) = body["errors"]
    assert refused["category"] == "VALIDATION_ERROR"
    assert refused["context"] == {"objectWriteTraceId": ["bad-stage"]}
    assert made["properties"]["email"] == "one@example.test"
    assert emulator.store.find("contacts", "email", "two@example.test") is None

    archived = http.post(f"{CONTACTS}/batch/archive", json={"inputs": [{"id": made["id"]}]})
    assert archived.status_code == 204
    assert emulator.store.get("contacts", made["id"]) is None
    reread = http.post(f"{CONTACTS}/batch/read", json={"inputs": [{"id": made["id"]}]})
    assert reread.status_code == 207
    assert reread.json()["errors"][0]["context"] == {"ids": [made["id"]]}


def test_contacts_filter_on_lastmodifieddate_not_hs_lastmodifieddate(http: httpx.Client) -> None:
    def total(prop: str) -> int:
        flt = {"propertyName": prop, "operator": "GT", "value": "0"}
        answer = http.post(f"{CONTACTS}/search", json={"filterGroups": [{"filters": [flt]}]})
        count: int = answer.json()["total"]
        return count

    assert total("lastmodifieddate") > 0
    assert total("hs_lastmodifieddate") == 0  # the reported silent failure


def test_logging_an_engagement_stamps_the_contact() -> None:
    """HubSpot sets "Last Activity Date" when activity is logged, moving lastmodifieddate."""
    from connector.sandbox.hubspot import build
    from connector.sandbox.seed import generate

    emulator = build(generate(seed=3, people=5), seed=3)
    store = emulator.store
    contact = store.records("contacts")[0]
    before = contact.props.get("lastmodifieddate")
    email = store.create("emails", {"hs_timestamp": "1767225600000"}, trusted=True)
    store.associate("emails", email.id, "contacts", contact.id)
    after = store.get("contacts", contact.id)
    assert after is not None
    assert after.props.get("notes_last_updated")
    assert after.props.get("lastmodifieddate") != before
