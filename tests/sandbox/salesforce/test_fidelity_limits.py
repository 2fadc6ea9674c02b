"""Request-size limits, OFFSET and SOQL error bodies, API versions and unknown paths, through
simple-salesforce (or requests with a client's headers) over real sockets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from simple_salesforce.exceptions import SalesforceGeneralError, SalesforceMalformedRequest

from connector.sandbox.salesforce._versions import SERVED_VERSIONS
from tests.sandbox.salesforce.conftest import API_VERSION, SalesforceApi, Served, error_body

QUERY = f"/services/data/v{API_VERSION}/query"


def _authorised(served: Served) -> tuple[requests.Session, str]:
    session = served.session()
    session.headers["Authorization"] = f"Bearer {served.emulator.issue_token()}"
    return session, served.url


def _padded_query(uri_bytes: int) -> str:
    """A query whose request URI (path, '?q=', SOQL) is exactly ``uri_bytes`` long."""
    head = f"{QUERY}?q=SELECT+Id+FROM+Lead+WHERE+Email+%3D+%27"
    tail = "%27"
    return head + "x" * (uri_bytes - len(head) - len(tail)) + tail


def test_a_uri_over_16384_bytes_is_refused_with_414_and_the_edge_page(served: Served) -> None:
    session, url = _authorised(served)
    under = session.get(url + _padded_query(15_900))  # leaves room for the headers
    assert under.status_code == 200
    # URI and headers together are over, the URI alone is not: 431, not 414.
    assert session.get(url + _padded_query(16_384)).status_code == 431
    over = session.get(url + _padded_query(16_385))
    assert over.status_code == 414
    assert over.text == "<h1>Bad Message 414</h1><pre>reason: URI Too Long</pre>"
    assert over.headers["Content-Type"].startswith("text/html")
    assert "Sforce-Limit-Info" not in over.headers
    used, _ = served.emulator.api_usage()
    assert used == 1  # the refused calls spent nothing
    assert served.emulator.stats.count("GET", "(URI too long)") == 1


def test_uri_and_headers_over_16384_bytes_is_a_431(served: Served) -> None:
    session, url = _authorised(served)
    answer = session.get(url + _padded_query(12_000), headers={"X-Padding": "p" * 5_000})
    assert answer.status_code == 431
    assert "Request Header Fields Too Large" in answer.text


def test_simple_salesforce_sees_the_414_as_a_general_error(sf: SalesforceApi) -> None:
    ids = ", ".join(f"'00QDn00000{index:05d}AAA'" for index in range(700))
    with pytest.raises(SalesforceGeneralError) as raised:
        sf.query(f"SELECT Id FROM Lead WHERE Id IN ({ids})")  # noqa: S608 - test data
    assert raised.value.status == 414
    assert "URI Too Long" in str(error_body(raised.value))


def test_offset_above_2000_is_number_outside_valid_range(sf: SalesforceApi) -> None:
    assert sf.query("SELECT Id FROM Lead ORDER BY Id LIMIT 5 OFFSET 2000")["records"] == []
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query("SELECT Id FROM Lead ORDER BY Id LIMIT 5 OFFSET 2001")
    assert error_body(raised.value) == [
        {
            "message": "Maximum SOQL offset allowed is 2000",
            "errorCode": "NUMBER_OUTSIDE_VALID_RANGE",
        }
    ]


def test_invalid_field_errors_say_where_like_salesforce(sf: SalesforceApi) -> None:
    soql = "SELECT Id, Nope__c FROM Lead"
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query(soql)
    body = error_body(raised.value)
    assert body == [
        {
            "message": f"\n{soql}\n           ^\nERROR at Row:1:Column:12\nNo such column "
            "'Nope__c' on entity 'Lead'. If you are attempting to use a custom field, be sure to "
            "append the '__c' after the custom field name. Please reference your WSDL or the "
            "describe call for the appropriate names.",
            "errorCode": "INVALID_FIELD",
        }
    ]
    filtered = "SELECT Id FROM Lead WHERE Email != null AND CreatedDate > '2026-01-01'"
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query(filtered)
    message = error_body(raised.value)[0]["message"]
    assert message.startswith(f"\n{filtered}\n{' ' * 44}^\nERROR at Row:1:Column:45\n")
    assert message.endswith("must be of type dateTime and should not be enclosed in quotes")
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query("SELECT Id, Account.Nope FROM Contact")
    message = error_body(raised.value)[0]["message"]
    assert "ERROR at Row:1:Column:12\nNo such column 'Nope' on entity 'Account'." in message


def test_the_versions_list_names_every_version_served(served: Served) -> None:
    session, url = _authorised(served)
    listed = session.get(url + "/services/data").json()
    assert [entry["version"] for entry in listed] == list(SERVED_VERSIONS)
    assert listed[0] == {"label": "Summer '14", "url": "/services/data/v31.0", "version": "31.0"}
    assert {"label": "Spring '26", "url": "/services/data/v66.0", "version": "66.0"} in listed
    for entry in listed:
        assert session.get(url + entry["url"] + "/limits").status_code == 200
    for retired in ("v30.0", "v69.0"):
        answer = session.get(f"{url}/services/data/{retired}/limits")
        assert answer.status_code == 404


def test_unknown_paths_and_methods_answer_salesforce_error_lists(served: Served) -> None:
    session, url = _authorised(served)
    missing = session.get(f"{url}/services/data/v66.0/nothing/here")
    assert missing.status_code == 404
    assert missing.json() == [
        {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}
    ]
    elsewhere = session.get(f"{url}/favicon.ico")
    assert elsewhere.json()[0]["errorCode"] == "NOT_FOUND"
    wrong = session.put(f"{url}/services/data/v66.0/limits")
    assert wrong.status_code == 405
    assert wrong.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"
    assert served.emulator.stats.count("GET", "/{path:path}") == 2
    assert served.emulator.stats.count("PUT", "/{path:path}") == 1


def test_get_updated_never_reports_a_date_covered_in_the_future(sf: SalesforceApi) -> None:
    now = datetime.now(UTC)
    answer = sf.Lead.updated(now - timedelta(hours=1), now + timedelta(hours=2))
    covered = datetime.fromisoformat(answer["latestDateCovered"])
    assert covered <= datetime.now(UTC)
    assert covered >= now - timedelta(seconds=5)
    deleted = sf.Lead.deleted(now - timedelta(hours=1), now + timedelta(hours=2))
    assert datetime.fromisoformat(deleted["latestDateCovered"]) <= datetime.now(UTC)
