"""What third-party clients call at start-up, and the edges of routing, through the official
SDK: paging links, custom object schemas, legacy property lists, associations to companies and
tickets, unknown routes, and a search body with top-level ``filters``."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hubspot import HubSpot
from hubspot.crm.associations.v4 import BatchResponsePublicAssociationMultiWithLabelWithErrors

from connector.sandbox.hubspot import HubSpotEmulator

LEGACY_TYPES = {"string", "number", "date", "datetime", "enumeration"}


def _get(sdk: HubSpot, path: str, **options: Any) -> Any:
    return sdk.api_request({"method": "GET", "path": path, **options})


def test_next_link_is_absolute_and_carries_the_query(sdk: HubSpot, url: str) -> None:
    first = sdk.crm.contacts.basic_api.get_page(limit=3, properties=["email", "firstname"])

    link = first.paging.next.link
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}" == url
    assert parts.path == "/crm/v3/objects/contacts"
    query = parse_qs(parts.query)
    assert query["limit"] == ["3"]
    assert query["after"] == [first.paging.next.after]
    assert sorted(query["properties"]) == ["email", "firstname"]

    followed = _get(sdk, link.removeprefix(url))
    second = sdk.crm.contacts.basic_api.get_page(
        limit=3, properties=["email", "firstname"], after=first.paging.next.after
    )
    assert [r["id"] for r in followed.json()["results"]] == [r.id for r in second.results]
    again = urlsplit(followed.json()["paging"]["next"]["link"])
    assert parse_qs(again.query)["after"] == [second.paging.next.after]  # replaced, not added


def test_no_custom_object_schemas(sdk: HubSpot) -> None:
    assert sdk.crm.schemas.core_api.get_all().results == []  # /crm-object-schemas/v3/schemas
    assert _get(sdk, "/crm/v3/schemas").json() == {"results": []}  # the documented path


@pytest.mark.parametrize(
    "path",
    [
        "/properties/v1/contacts/properties",
        "/properties/v1/companies/properties",
        "/properties/v1/deals/properties",
        "/properties/v2/contact/properties",
        "/properties/v2/company/properties",
        "/properties/v2/deal/properties",
    ],
)
def test_legacy_property_lists(sdk: HubSpot, path: str) -> None:
    answer = _get(sdk, path)

    assert answer.status_code == 200
    listed = answer.json()
    assert isinstance(listed, list)
    names = {p["name"] for p in listed}
    assert {"hs_object_id", "hubspot_owner_id"} <= names
    assert all(p["type"] in LEGACY_TYPES for p in listed)
    assert all({"name", "label", "groupName", "fieldType", "options"} <= set(p) for p in listed)
    if "contact" in path:
        stage = next(p for p in listed if p["name"] == "lifecyclestage")
        assert [o["value"] for o in stage["options"]][:2] == ["subscriber", "lead"]
        assert "crmsync_lead_score" in names  # the portal's custom properties too
    if "compan" in path:
        assert {"name", "domain"} <= names


def test_reads_may_ask_for_companies_deals_and_tickets(
    sdk: HubSpot, emulator: HubSpotEmulator
) -> None:
    with_deal = next(
        r.id for r in emulator.store.records("contacts")
        if emulator.store.associated("contacts", r.id, "deals")
    )  # fmt: skip
    kinds = ["companies", "deals", "tickets"]

    page = sdk.crm.contacts.basic_api.get_page(limit=5, associations=kinds)
    one = sdk.crm.contacts.basic_api.get_by_id(with_deal, associations=kinds)

    assert len(page.results) == 5
    assert set(one.associations) == {"deals"}


def test_association_reads_to_companies_find_none(sdk: HubSpot, emulator: HubSpotEmulator) -> None:
    ids = [r.id for r in emulator.store.records("contacts")[:3]]

    answer = sdk.crm.associations.v4.batch_api.get_page(
        "contacts", "companies", {"inputs": [{"id": i} for i in ids]}
    )

    assert isinstance(answer, BatchResponsePublicAssociationMultiWithLabelWithErrors)
    assert answer.results == []
    assert [e.context["fromObjectId"] for e in answer.errors] == [[i] for i in ids]
    assert {e.sub_category for e in answer.errors} == {"crm.associations.NO_ASSOCIATIONS_FOUND"}
    one = sdk.crm.associations.v4.basic_api.get_page("contacts", ids[0], "companies")
    assert one.results == []


def test_unknown_routes_answer_hubspots_html_error_pages(sdk: HubSpot) -> None:
    missing = _get(sdk, "/crm/v3/no-such-thing")
    wrong_method = sdk.api_request({"method": "PUT", "path": "/crm/v3/objects/contacts"})

    for answer, status, reason in ((missing, 404, "Not Found"), (wrong_method, 405, "")):
        assert answer.status_code == status
        assert answer.headers["content-type"].startswith("text/html")
        assert f"<title>Error {status} " in answer.text
        assert reason in answer.text
        assert answer.headers["X-HubSpot-Correlation-Id"]
        with pytest.raises(json.JSONDecodeError):
            answer.json()


def test_top_level_filters_are_anded(sdk: HubSpot, emulator: HubSpotEmulator) -> None:
    contact = emulator.store.records("contacts")[0]
    email = {"propertyName": "email", "operator": "EQ", "value": contact.props["email"]}
    stage = {"propertyName": "lifecyclestage", "operator": "EQ"}

    def search(body: dict[str, Any]) -> Any:
        return sdk.api_request(
            {"method": "POST", "path": "/crm/v3/objects/contacts/search", "body": body}
        )

    same = search({"filters": [email, {**stage, "value": contact.props["lifecyclestage"]}]})
    other = search({"filters": [email, {**stage, "value": "evangelist"}]})
    both = search({"filters": [email], "filterGroups": [{"filters": [email]}]})

    assert [r["id"] for r in same.json()["results"]] == [contact.id]
    assert other.json()["total"] == 0
    assert both.status_code == 400
    assert both.json()["category"] == "VALIDATION_ERROR"
