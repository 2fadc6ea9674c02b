"""The token endpoint: client credentials, JWT bearer, refresh token, and their refusals."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from simple_salesforce.api import Salesforce

from tests.sandbox.salesforce.conftest import API_VERSION, Served

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def _token(served: Served, data: dict[str, str], auth: tuple[str, str] | None = None) -> Any:
    return served.session().post(f"{served.url}/services/oauth2/token", data=data, auth=auth)


def _assertion(served: Served, **claims: Any) -> str:
    credentials = served.emulator.credentials
    body = {
        "iss": credentials.client_id,
        "sub": credentials.username,
        "aud": served.url,
        "exp": int(time.time()) + 180,
    } | claims
    key = credentials.jwt_private_key_file.read_bytes()
    return jwt.encode(body, key, algorithm="RS256")


def test_client_credentials_token_works_with_simple_salesforce(served: Served) -> None:
    credentials = served.emulator.credentials
    answer = _token(
        served,
        {"grant_type": "client_credentials"},
        auth=(credentials.client_id, credentials.client_secret),
    )
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) >= {"access_token", "instance_url", "id", "token_type", "issued_at"}
    assert body["instance_url"] == served.url
    assert body["token_type"] == "Bearer"
    assert body["id"].endswith(f"/{credentials.org_id}/{credentials.user_id}")
    sf = Salesforce(
        instance_url=body["instance_url"],
        session_id=body["access_token"],
        version=API_VERSION,
        session=served.session(),
    )
    assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 5


def test_bad_client_secret_gets_the_oauth_error_object(served: Served) -> None:
    answer = _token(
        served,
        {
            "grant_type": "client_credentials",
            "client_id": served.emulator.credentials.client_id,
            "client_secret": "wrong",
        },
    )
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "invalid_client",
        "error_description": "invalid client credentials",
    }


def test_jwt_bearer_checks_signature_audience_and_expiry(served: Served) -> None:
    good = _token(served, {"grant_type": JWT_GRANT, "assertion": _assertion(served)})
    assert good.status_code == 200
    assert good.json()["access_token"]
    generic = _assertion(served, aud="https://login.salesforce.com")
    assert _token(served, {"grant_type": JWT_GRANT, "assertion": generic}).status_code == 200
    forged = jwt.encode({"iss": "x", "sub": "y", "aud": served.url, "exp": 2**31}, "k" * 32)
    refusals = [
        ("audience is invalid", _assertion(served, aud="https://elsewhere.example")),
        ("expired authorization code", _assertion(served, exp=int(time.time()) - 60)),
        ("invalid assertion", "not.a.jwt"),
        ("invalid assertion", forged),
        ("user hasn't approved this consumer", _assertion(served, sub="someone@else")),
    ]
    for description, assertion in refusals:
        answer = _token(served, {"grant_type": JWT_GRANT, "assertion": assertion})
        assert answer.status_code == 400
        assert answer.json()["error_description"] == description


def test_refresh_token_grant(served: Served) -> None:
    credentials = served.emulator.credentials
    data = {
        "grant_type": "refresh_token",
        "client_id": credentials.client_id,
        "refresh_token": credentials.refresh_token,
    }
    assert _token(served, data).status_code == 200
    refused = _token(served, data | {"refresh_token": "stale"})
    assert refused.json() == {
        "error": "invalid_grant",
        "error_description": "expired access/refresh token",
    }


@pytest.mark.parametrize("grant_type", ["authorization_code", ""])
def test_unsupported_grants_are_refused(served: Served, grant_type: str) -> None:
    answer = _token(served, {"grant_type": grant_type})
    assert answer.status_code == 400
    assert answer.json()["error"] == "unsupported_grant_type"


def test_every_api_answer_carries_limit_info_and_unknown_versions_404(served: Served) -> None:
    session = served.session()
    session.headers["Authorization"] = f"Bearer {served.emulator.issue_token()}"
    limits = session.get(f"{served.url}/services/data/v66.0/limits")
    assert limits.headers["Sforce-Limit-Info"] == "api-usage=1/15000"
    assert limits.json()["DailyApiRequests"] == {"Max": 15000, "Remaining": 14999}
    assert session.get(f"{served.url}/services/data/v31.0/limits/").status_code == 200
    missing = session.get(f"{served.url}/services/data/66.0/limits")
    assert missing.status_code == 404
    assert missing.json()[0]["errorCode"] == "NOT_FOUND"
    unauthenticated = served.session().get(f"{served.url}/services/data/v66.0/limits")
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["Sforce-Limit-Info"].startswith("api-usage=")
