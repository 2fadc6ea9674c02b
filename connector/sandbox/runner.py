"""Start both emulators on loopback, seeded from one synthetic world (tests, demo, benchmarks).

::

    with Sandbox.start(seed=7, people=5000) as sb:
        settings = load_settings(env_file=sb.write_env_file(tmp / "sandbox.env"))
        sb.salesforce.store, sb.hubspot.store     # the emulators' data
        sb.salesforce.emulator.snapshot()         # calls, records, API usage

Salesforce is served over HTTPS with a certificate from a throw-away trustme CA (``ca_file``);
HubSpot over plain HTTP. Key, certificates and the JWT signing key live in a private temporary
directory removed by :meth:`Sandbox.stop`.

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
    """The running Salesforce emulator: ``url`` (https), ``ca_file`` and its live ``store``."""

    emulator: SalesforceEmulator
    server: ServerThread
    ca_file: Path

    @property
    def url(self) -> str:
        return self.server.url

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
        overlap: float = 0.6,
        world: World | None = None,
        search_lag_ms: int | None = None,
    ) -> Sandbox:
        """Generate the world (or use ``world``), seed both emulators and start serving.

        ``faults`` (a plan or a JSON/YAML file) applies to both emulators; ``latency_ms``
        overrides its latency and ``search_lag_ms`` its HubSpot search lag (otherwise the
        plan's, 0 by default). Ports 0 pick free ones.
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
                ssl_certfile=cert_file,
                ssl_keyfile=key_file,
                name="sandbox-salesforce",
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
            "CRMSYNC_SALESFORCE__LOGIN_URL": self.salesforce.url,
            "CRMSYNC_SALESFORCE__INSTANCE_URL": self.salesforce.url,
            "CRMSYNC_SALESFORCE__CA_BUNDLE": str(self.salesforce.ca_file),
            "CRMSYNC_HUBSPOT__AUTH__MODE": "private_app",
            "CRMSYNC_HUBSPOT__AUTH__ACCESS_TOKEN": self.hubspot.access_token,
            "CRMSYNC_HUBSPOT__BASE_URL": self.hubspot.url,
        }
        return env

    def write_env_file(
        self, path: Path, *, salesforce_auth: SalesforceAuth = "client_credentials"
    ) -> Path:
        """Write :meth:`env` as a dotenv file readable only by the owner; returns ``path``."""
        lines = [
            f"{key}={value}" for key, value in self.env(salesforce_auth=salesforce_auth).items()
        ]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

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
