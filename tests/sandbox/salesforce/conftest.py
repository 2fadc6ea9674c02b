"""A seeded Salesforce emulator served over HTTPS once per session, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import pytest
import requests
import trustme
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceError

from connector.sandbox._server import ServerThread
from connector.sandbox.salesforce import SalesforceEmulator
from connector.sandbox.salesforce._edge import MAX_REQUEST_HEAD
from connector.sandbox.seed import generate

API_VERSION = "66.0"

SalesforceApi: TypeAlias = Any
"""A simple-salesforce client as the tests use it. Its stubs type ``sf.Lead`` as a union of the
REST, Bulk and Bulk 2.0 handlers, so ``sf.Lead.create(...)`` would not type-check; the tests
exercise the real library at run time, which is what they are for."""


def error_body(error: SalesforceError) -> Any:
    """The parsed JSON body simple-salesforce keeps on its exceptions (annotated as bytes)."""
    return error.content


@dataclass
class Served:
    emulator: SalesforceEmulator
    url: str
    ca_file: Path

    def session(self) -> requests.Session:
        session = requests.Session()
        session.verify = str(self.ca_file)
        # REQUESTS_CA_BUNDLE in the environment would override session.verify otherwise.
        session.trust_env = False
        return session

    def client(self) -> Salesforce:
        return Salesforce(
            instance_url=self.url,
            session_id=self.emulator.issue_token(),
            version=API_VERSION,
            session=self.session(),
        )


@pytest.fixture(scope="session")
def served_salesforce(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("sf-tls")
    ca = trustme.CA()
    certificate = ca.issue_cert("127.0.0.1")
    ca_file, cert_file, key_file = (
        directory / "ca.pem",
        directory / "cert.pem",
        directory / "key.pem",
    )
    ca.cert_pem.write_to_path(str(ca_file))
    certificate.cert_chain_pems[0].write_to_path(str(cert_file))
    certificate.private_key_pem.write_to_path(str(key_file))
    emulator = SalesforceEmulator(generate(seed=7, people=700), seed=7, workdir=directory)
    server = ServerThread(
        emulator.app,
        ssl_certfile=cert_file,
        ssl_keyfile=key_file,
        max_request_head=MAX_REQUEST_HEAD,
    ).start()
    try:
        yield Served(emulator, server.url, ca_file)
    finally:
        server.stop()


@pytest.fixture
def served(served_salesforce: Served) -> Served:
    served_salesforce.emulator.reset()
    return served_salesforce


@pytest.fixture
def sf(served: Served) -> SalesforceApi:
    return served.client()
