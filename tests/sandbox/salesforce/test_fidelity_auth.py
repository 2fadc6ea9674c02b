"""Every way a Salesforce client logs in, against the sandbox's login host and instance, with
simple-salesforce configured as its users configure it (no patched sessions or URLs)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed
from simple_salesforce.login import SalesforceLogin

from connector.crm.auth import SalesforceAuthenticator
from connector.sandbox.runner import Sandbox
from tests.crm.conftest import settings_for

SOAP_VERSION = "64.0"  # the last version that serves SOAP login()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(seed=4, people=60) as running:
        yield running


def _session(sandbox: Sandbox) -> requests.Session:
    session = requests.Session()
    session.verify = str(sandbox.salesforce.ca_file)
    session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
    return session


def _host(url: str) -> str:
    return urlsplit(url).netloc


def _domain(sandbox: Sandbox, path: str) -> str:
    """simple-salesforce builds ``https://{domain}.salesforce.com{path}``: a domain naming the
    login host and path and ending in ``#`` leaves the rest as a fragment, never sent."""
    return f"{_host(sandbox.salesforce.login_url)}{path}#"


def test_the_token_names_the_instance_and_the_login_host_refuses_data_calls(
    sandbox: Sandbox,
) -> None:
    env = sandbox.client_env()
    assert env["SALESFORCE_LOGIN_URL"] != env["SALESFORCE_INSTANCE_URL"]
    session = _session(sandbox)
    token = session.post(
        f"{env['SALESFORCE_LOGIN_URL']}/services/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(env["SALESFORCE_CLIENT_ID"], env["SALESFORCE_CLIENT_SECRET"]),
    ).json()
    assert token["instance_url"] == env["SALESFORCE_INSTANCE_URL"]
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    on_login = session.get(
        f"{env['SALESFORCE_LOGIN_URL']}/services/data/v66.0/limits", headers=headers
    )
    assert on_login.status_code == 401
    assert on_login.json()[0]["errorCode"] == "INVALID_SESSION_ID"
    on_instance = session.get(
        f"{token['instance_url']}/services/data/v66.0/limits", headers=headers
    )
    assert on_instance.status_code == 200
    # The versions list, like the token endpoint, answers on the login host too.
    assert session.get(f"{env['SALESFORCE_LOGIN_URL']}/services/data").status_code == 200


def test_crmsync_uses_the_instance_url_of_the_token_answer(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    settings = settings_for(sandbox, tmp_path)
    assert str(settings.salesforce.login_url).rstrip("/") == sandbox.salesforce.login_url
    token = SalesforceAuthenticator(settings.salesforce).token()
    assert token.instance_url == sandbox.salesforce.url


def test_soap_login_through_simple_salesforce_with_domain(sandbox: Sandbox) -> None:
    env = sandbox.client_env()
    sf = Salesforce(
        username=env["SALESFORCE_USERNAME"],
        password=env["SALESFORCE_PASSWORD"],
        security_token=env["SALESFORCE_SECURITY_TOKEN"],
        domain=_domain(sandbox, f"/services/Soap/u/{SOAP_VERSION}"),
        version=SOAP_VERSION,
        session=_session(sandbox),
    )
    assert sf.sf_instance == _host(sandbox.salesforce.url)
    assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 5


def test_soap_login_with_scratch_url_and_organization_id(sandbox: Sandbox) -> None:
    env = sandbox.client_env()
    session_id, instance = SalesforceLogin(
        username=env["SALESFORCE_USERNAME"],
        password=env["SALESFORCE_PASSWORD"],
        organizationId=env["SALESFORCE_ORGANIZATION_ID"],
        sf_version=SOAP_VERSION,
        scratch_url=env["SALESFORCE_LOGIN_URL"],
        session=_session(sandbox),
    )
    assert instance == _host(sandbox.salesforce.url)
    sf = Salesforce(session_id=session_id, instance=instance, session=_session(sandbox))
    assert sf.query("SELECT Id FROM User LIMIT 1")["totalSize"] == 1


def test_soap_login_refusals(sandbox: Sandbox) -> None:
    env = sandbox.client_env()

    def login(password: str, token: str, version: str) -> tuple[str, str]:
        return SalesforceLogin(
            username=env["SALESFORCE_USERNAME"],
            password=password,
            security_token=token,
            sf_version=version,
            scratch_url=env["SALESFORCE_LOGIN_URL"],
            session=_session(sandbox),
        )

    with pytest.raises(SalesforceAuthenticationFailed) as raised:
        login("wrong", "", SOAP_VERSION)
    assert raised.value.code == "INVALID_LOGIN"
    assert "Invalid username, password, security token" in raised.value.auth_message
    with pytest.raises(SalesforceAuthenticationFailed) as raised:
        login(env["SALESFORCE_PASSWORD"], env["SALESFORCE_SECURITY_TOKEN"], "66.0")
    assert raised.value.code == "INVALID_OPERATION"
    assert "not available in the API version specified (66.0)" in raised.value.auth_message


def test_oauth_username_password_flow_through_simple_salesforce(sandbox: Sandbox) -> None:
    env = sandbox.client_env()
    for password in (env["SALESFORCE_PASSWORD"] + env["SALESFORCE_SECURITY_TOKEN"],
                     env["SALESFORCE_PASSWORD"]):  # fmt: skip
        sf = Salesforce(
            username=env["SALESFORCE_USERNAME"],
            password=password,
            consumer_key=env["SALESFORCE_CLIENT_ID"],
            consumer_secret=env["SALESFORCE_CLIENT_SECRET"],
            domain=_domain(sandbox, "/services/oauth2/token"),
            version="66.0",
            session=_session(sandbox),
        )
        assert sf.sf_instance == _host(sandbox.salesforce.url)
        assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] > 0
    with pytest.raises(SalesforceAuthenticationFailed) as raised:
        Salesforce(
            username=env["SALESFORCE_USERNAME"],
            password="wrong",
            consumer_key=env["SALESFORCE_CLIENT_ID"],
            consumer_secret=env["SALESFORCE_CLIENT_SECRET"],
            domain=_domain(sandbox, "/services/oauth2/token"),
            session=_session(sandbox),
        )
    assert (raised.value.code, raised.value.auth_message) == (
        "invalid_grant",
        "authentication failure",
    )


def test_client_credentials_through_simple_salesforce(sandbox: Sandbox) -> None:
    env = sandbox.client_env()
    sf = Salesforce(
        consumer_key=env["SALESFORCE_CLIENT_ID"],
        consumer_secret=env["SALESFORCE_CLIENT_SECRET"],
        domain=_domain(sandbox, "/services/oauth2/token"),
        version="66.0",
        session=_session(sandbox),
    )
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] > 0


def test_refresh_token_with_client_id_and_secret_as_tap_salesforce_sends_it(
    sandbox: Sandbox,
) -> None:
    env = sandbox.client_env()
    answer = _session(sandbox).post(
        f"{env['SALESFORCE_LOGIN_URL']}/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": env["SALESFORCE_CLIENT_ID"],
            "client_secret": env["SALESFORCE_CLIENT_SECRET"],
            "refresh_token": env["SALESFORCE_REFRESH_TOKEN"],
        },
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200
    assert answer.json()["instance_url"] == env["SALESFORCE_INSTANCE_URL"]


def test_client_env_file_is_private_and_separate_from_crmsync_settings(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    written = sandbox.write_client_env_file(tmp_path / "clients.env")
    assert written.stat().st_mode & 0o077 == 0
    lines = dict(line.split("=", 1) for line in written.read_text().splitlines())
    assert lines == sandbox.client_env()
    assert not any(key.startswith("CRMSYNC_") for key in lines)
