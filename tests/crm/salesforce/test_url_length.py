"""The longest requests crmsync builds stay under Salesforce's 16,384-byte URI limit.

Every IN list the connector sends holds at most ``_read._ID_CHUNK`` ids; here each builder gets
that many 18-character ids (the longest form) and the default mapping's fields, and the query
goes to the emulator, which refuses a longer URI with 414, the way simple-salesforce sends it
(``queryAll``, the ids URL-encoded). The margin is asserted too, so a field list that grows
towards the limit fails here before it fails against a customer's org.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceGeneralError

from connector.crm.salesforce import _soql
from connector.crm.salesforce._read import _ID_CHUNK
from connector.errors import System
from connector.mapping.loader import load_mappings
from connector.sandbox.runner import Sandbox
from connector.sandbox.salesforce._edge import MAX_URI_BYTES
from connector.sync.normalise import Normaliser

REPO = Path(__file__).resolve().parents[3]
END = datetime(2026, 11, 1, tzinfo=UTC)


def _ids(prefix: str, count: int = _ID_CHUNK) -> list[str]:
    return [f"{prefix}Dn0{index:09d}AAA" for index in range(count)]


def _longest_queries() -> dict[str, str]:
    normaliser = Normaliser(load_mappings(REPO / "mappings"))
    queries = {}
    for sobject, prefix in (("Lead", "00Q"), ("Contact", "003")):
        fields = normaliser.fields_to_pull(System.SALESFORCE, sobject)
        queries[f"read_people {sobject}"] = _soql.people_by_ids_query(sobject, fields, _ids(prefix))
    for activity in ("Task", "Event"):
        queries[f"activity {activity}"] = _soql.activity_query(activity, _ids("00Q"), None, END)
    queries["campaign members"] = _soql.campaign_member_query(_ids("003"), None, END)
    queries["roles"] = _soql.roles_query(_ids("003"))
    queries["converted"] = _soql.converted_query(_ids("00Q"))
    return queries


@pytest.fixture
def client(sandbox: Sandbox) -> tuple[Salesforce, list[int]]:
    uris: list[int] = []
    session = requests.Session()
    session.verify = str(sandbox.salesforce.ca_file)
    session.trust_env = False

    def measure(response: requests.Response, *args: object, **kwargs: object) -> None:
        parts = urlsplit(response.request.url or "")
        uris.append(len(parts.path) + (len(parts.query) + 1 if parts.query else 0))

    session.hooks["response"].append(measure)
    return (
        Salesforce(
            instance_url=sandbox.salesforce.url,
            session_id=sandbox.salesforce.emulator.issue_token(),
            version="66.0",
            session=session,
        ),
        uris,
    )


def test_every_in_list_query_fits_with_room_to_spare(
    client: tuple[Salesforce, list[int]],
) -> None:
    sf, uris = client
    for name, soql in _longest_queries().items():
        answer = sf.query(soql, include_deleted=True)
        assert answer["done"] is True, name
        assert uris[-1] <= MAX_URI_BYTES - 2_000, (name, uris[-1])


def test_the_limit_is_there_to_hit(client: tuple[Salesforce, list[int]]) -> None:
    sf, uris = client
    too_many = _soql.campaign_member_query(_ids("003", 3 * _ID_CHUNK), None, END)
    with pytest.raises(SalesforceGeneralError) as raised:
        sf.query(too_many, include_deleted=True)
    assert raised.value.status == 414
    assert uris[-1] > MAX_URI_BYTES


def test_deleting_a_full_chunk_by_id_fits(client: tuple[Salesforce, list[int]]) -> None:
    sf, uris = client
    ids = _ids("00Q")
    params = {"ids": ",".join(ids), "allOrNone": "false"}  # as _write.py sends it
    results = sf.restful("composite/sobjects", params=params, method="DELETE")
    assert isinstance(results, list)
    assert len(results) == len(ids)
    assert uris[-1] <= MAX_URI_BYTES - 2_000
