"""Start both emulators on loopback, seeded from one synthetic world (tests, demo, benchmarks).

::

    with Sandbox.start(seed=7, people=5000) as sb:
        settings = load_settings(env_file=sb.write_env_file(tmp / "sandbox.env"))
        sb.salesforce.store, sb.hubspot.store     # the emulators' data
        sb.salesforce.emulator.snapshot()         # calls, records, API usage

Salesforce is served over HTTPS with a certificate from a throw-away trustme CA (``ca_file``);
HubSpot over plain HTTP. Key, certificates and the JWT signing key live in a private temporary
directory removed by :meth:`Sandbox.stop`.

Salesforce listens on two ports of 127.0.0.1: ``login_url`` plays ``login.salesforce.com``
(token endpoint, SOAP ``login()``) and ``url`` the org's own instance, which token answers name
as ``instance_url``; data calls sent to the login URL are refused ``INVALID_SESSION_ID``, as a
real org refuses a session used on the wrong host. Two ports rather than two addresses
(127.0.0.2) or names (``localhost``): loopback aliases are not configured on every OS, and
``localhost`` may resolve to ``::1`` first.
HubSpot's search trails its writes by ``search_lag_ms`` (a fault-plan key): 0 unless asked, so
tests see their writes in search at once; the demo, the benchmarks and ``crmsync sandbox
serve`` use :data:`REALISTIC_SEARCH_LAG_MS`, as a real portal behaves.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Literal

import trustme

from connector.sandbox._server import ServerThread
from connector.sandbox.faults import REALISTIC_SEARCH_LAG_MS, FaultPlan, load_fault_plan
from connector.sandbox.hubspot import SANDBOX_ACCESS_TOKEN, HubSpotEmulator, HubSpotStore, build
from connector.sandbox.salesforce import SalesforceEmulator, SalesforceStore
from connector.sandbox.salesforce._edge import MAX_REQUEST_HEAD
from connector.sandbox.salesforce.oauth import SalesforceCredentials
from connector.sandbox.seed import World, generate

__all__ = [
    "REALISTIC_SEARCH_LAG_MS",
    "HubSpotHandle",
    "SalesforceAuth",
    "SalesforceHandle",
    "Sandbox",
]

SalesforceAuth = Literal["client_credentials", "jwt", "refresh_token"]


@dataclass
class SalesforceHandle:
    """The running Salesforce emulator: ``url`` (the org's instance, https), ``login_url`` (its
    login host), ``ca_file`` and its live ``store``."""

    emulator: SalesforceEmulator
    server: ServerThread
    ca_file: Path

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def login_url(self) -> str:
        return self.server.url_for(self.server.ports[-1])

    @property
    def store(self) -> SalesforceStore:
        return self.emulator.store

    @property
    def credentials(self) -> SalesforceCredentials:
        return self.emulator.credentials


@dataclass
class HubSpotHandle:
    """The running HubSpot emulator: ``url`` (http), its ``store`` and private-app token."""

    emulator: HubSpotEmulator
    server: ServerThread
    access_token: str = SANDBOX_ACCESS_TOKEN

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def store(self) -> HubSpotStore:
        return self.emulator.store


@dataclass
class Sandbox:
    """Both emulators, the world they were seeded from and the settings pointing at them."""

    seed: int
    world: World
    workdir: Path
    salesforce: SalesforceHandle
    hubspot: HubSpotHandle
    _stopped: bool = field(default=False, repr=False)

    @classmethod
    def start(
        cls,
        seed: int = 7,
        people: int = 1000,
        latency_ms: int = 0,
        faults: FaultPlan | Path | None = None,
        salesforce_port: int = 0,
        hubspot_port: int = 0,
        *,
        salesforce_login_port: int = 0,
        overlap: float = 0.6,
        world: World | None = None,
        search_lag_ms: int | None = None,
    ) -> Sandbox:
        """Generate the world (or use ``world``), seed both emulators and start serving.

        ``faults`` (a plan or a JSON/YAML file) applies to both emulators; ``latency_ms``
        overrides its latency and ``search_lag_ms`` its HubSpot search lag (otherwise the
        plan's, 0 by default). Ports 0 pick free ones; ``salesforce_port`` is the org's
        instance, ``salesforce_login_port`` its login host.
        """
        plan = load_fault_plan(faults) if isinstance(faults, Path) else faults or FaultPlan()
        if latency_ms:
            plan = plan.model_copy(update={"latency_ms": latency_ms})
        if search_lag_ms is not None:
            plan = FaultPlan.model_validate({**plan.model_dump(), "search_lag_ms": search_lag_ms})
        world = world or generate(seed, people, overlap=overlap)
        workdir = Path(tempfile.mkdtemp(prefix="crmsync-sandbox-"))
        servers: list[ServerThread] = []
        try:
            ca_file, cert_file, key_file = _tls_files(workdir)
            salesforce = SalesforceEmulator(world, seed=seed, faults=plan, workdir=workdir)
            sf_server = ServerThread(
                salesforce.app,
                port=salesforce_port,
                extra_ports=(salesforce_login_port,),
                ssl_certfile=cert_file,
                ssl_keyfile=key_file,
                name="sandbox-salesforce",
                max_request_head=MAX_REQUEST_HEAD,
            )
            salesforce.serve_at(
                instance_url=sf_server.url, login_url=sf_server.url_for(sf_server.ports[-1])
            )
            servers.append(sf_server.start())
            hubspot = build(world, seed=seed, faults=plan)
            hs_server = ServerThread(hubspot.app, port=hubspot_port, name="sandbox-hubspot")
            servers.append(hs_server.start())
        except BaseException:
            for server in servers:
                server.stop()
            shutil.rmtree(workdir, ignore_errors=True)
            raise
        return cls(
            seed=seed,
            world=world,
            workdir=workdir,
            salesforce=SalesforceHandle(salesforce, sf_server, ca_file),
            hubspot=HubSpotHandle(hubspot, hs_server),
        )

    def env(self, *, salesforce_auth: SalesforceAuth = "client_credentials") -> dict[str, str]:
        """The ``CRMSYNC_*`` settings that point the connector at both emulators."""
        credentials = self.salesforce.credentials
        env = {
            "CRMSYNC_SALESFORCE__AUTH__MODE": salesforce_auth,
            "CRMSYNC_SALESFORCE__AUTH__CLIENT_ID": credentials.client_id,
        }
        if salesforce_auth == "jwt":
            env["CRMSYNC_SALESFORCE__AUTH__USERNAME"] = credentials.username
            env["CRMSYNC_SALESFORCE__AUTH__PRIVATE_KEY_FILE"] = str(
                credentials.jwt_private_key_file
            )
        else:
            env["CRMSYNC_SALESFORCE__AUTH__CLIENT_SECRET"] = credentials.client_secret
        if salesforce_auth == "refresh_token":
            env["CRMSYNC_SALESFORCE__AUTH__REFRESH_TOKEN"] = credentials.refresh_token
        env |= {
            "CRMSYNC_SALESFORCE__LOGIN_URL": self.salesforce.login_url,
            "CRMSYNC_SALESFORCE__INSTANCE_URL": self.salesforce.url,
            "CRMSYNC_SALESFORCE__CA_BUNDLE": str(self.salesforce.ca_file),
            "CRMSYNC_HUBSPOT__AUTH__MODE": "private_app",
            "CRMSYNC_HUBSPOT__AUTH__ACCESS_TOKEN": self.hubspot.access_token,
            "CRMSYNC_HUBSPOT__BASE_URL": self.hubspot.url,
        }
        return env

    def client_env(self) -> dict[str, str]:
        """Every credential a Salesforce client may log in with, for clients other than crmsync
        (simple-salesforce, tap-salesforce...): the username-password flow and SOAP
        ``login()`` (username, password, security token), a refresh token with its client id
        and secret, client credentials, and the JWT signing key. See docs/sandbox.md
        ("Salesforce emulator") for pointing each client at these URLs."""
        credentials = self.salesforce.credentials
        return {
            "SALESFORCE_LOGIN_URL": self.salesforce.login_url,
            "SALESFORCE_INSTANCE_URL": self.salesforce.url,
            "SALESFORCE_CA_BUNDLE": str(self.salesforce.ca_file),
            "SALESFORCE_ORGANIZATION_ID": credentials.org_id,
            "SALESFORCE_USERNAME": credentials.username,
            "SALESFORCE_PASSWORD": credentials.password,
            "SALESFORCE_SECURITY_TOKEN": credentials.security_token,
            "SALESFORCE_CLIENT_ID": credentials.client_id,
            "SALESFORCE_CLIENT_SECRET": credentials.client_secret,
            "SALESFORCE_REFRESH_TOKEN": credentials.refresh_token,
            "SALESFORCE_JWT_KEY_FILE": str(credentials.jwt_private_key_file),
        }

    def write_env_file(
        self, path: Path, *, salesforce_auth: SalesforceAuth = "client_credentials"
    ) -> Path:
        """Write :meth:`env` as a dotenv file readable only by the owner; returns ``path``."""
        return _write_private(path, self.env(salesforce_auth=salesforce_auth))

    def write_client_env_file(self, path: Path) -> Path:
        """Write :meth:`client_env` as a dotenv file readable only by the owner. A file of its
        own: crmsync's settings refuse variables they do not know."""
        return _write_private(path, self.client_env())

    def stop(self) -> None:
        """Stop both servers and delete the temporary keys and certificates."""
        if self._stopped:
            return
        self._stopped = True
        self.hubspot.server.stop()
        self.salesforce.server.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _write_private(path: Path, values: dict[str, str]) -> Path:
    lines = [f"{key}={value}" for key, value in values.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _tls_files(workdir: Path) -> tuple[Path, Path, Path]:
    ca = trustme.CA(organization_name="crmsync sandbox")
    certificate = ca.issue_cert("127.0.0.1", "localhost")
    ca_file, cert_file, key_file = (workdir / n for n in ("ca.pem", "server.pem", "server-key.pem"))
    ca.cert_pem.write_to_path(str(ca_file))
    certificate.private_key_pem.write_to_path(str(key_file))
    key_file.chmod(0o600)
    with cert_file.open("wb") as out:
        for pem in certificate.cert_chain_pems:
            out.write(pem.bytes())
    return ca_file, cert_file, key_file
