"""``crmsync demo``: the whole story on the built-in sandbox, with no credentials and no network.

1. Start both emulators with seeded people whose stages disagree across the two CRMs.
2. Show the drift.
3. Run a full sync (progress bars) and show what it did.
4. Make a few edits as users would, through the CRMs' own APIs: a sales rep converts a Lead
   (with an Opportunity) and retitles another; in HubSpot a contact replies to an e-mail and a
   marketer edits a job title.
5. Give HubSpot's search index the few seconds it trails writes by (the sandbox lags it as a
   portal does), run an incremental sync, show it, and end with drift 0 and a pointer to
   ``rules explain``.

State lives in ``.crmsync/demo/`` (owner-only), never in the user's own state store; the
settings used are written to ``.crmsync/demo/demo.env`` so later commands can inspect it.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import requests
import typer
from rich.console import Console
from rich.rule import Rule

from connector.errors import System
from connector.sandbox.runner import REALISTIC_SEARCH_LAG_MS, Sandbox
from connector.settings import DEFAULT_CONFIG_FILE, Settings, load_settings
from connector.state import StateStore
from connector.stopping import Stop, stop_on_signals
from connector.sync.commands import progress_reporter, render_drift, render_report
from connector.sync.report import DriftReport, RunReport
from connector.sync.wiring import connected

__all__ = ["DemoResult", "register", "run_demo"]

DEMO_DIR = Path(".crmsync/demo")


@dataclass(frozen=True, slots=True)
class DemoResult:
    drift_before: DriftReport
    full: RunReport
    incremental: RunReport
    drift_after: DriftReport
    edits: tuple[str, ...]
    explain_email: str | None
    env_file: Path


def _settings(sandbox: Sandbox, workdir: Path, project: Path) -> tuple[Settings, Path]:
    env = dict(sandbox.env())
    env["CRMSYNC_STATE_URL"] = f"sqlite:///{(workdir / 'state.db').resolve()}"
    env["CRMSYNC_MAPPINGS_DIR"] = str((project / "mappings").resolve())
    env["CRMSYNC_RULES_FILE"] = str((project / "config" / "rules.yaml").resolve())
    env["CRMSYNC_JOBS_DIR"] = str((project / "jobs").resolve())
    env_file = workdir / "demo.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in sorted(env.items())), encoding="utf-8")
    env_file.chmod(0o600)
    config = project / DEFAULT_CONFIG_FILE
    # The demo's own values win over whatever the caller's environment holds.
    saved = {
        key: os.environ.pop(key)
        for key in list(os.environ)
        if key.startswith("CRMSYNC_") and not key.startswith("CRMSYNC_TEST_")
    }
    try:
        return load_settings(config if config.exists() else None, env_file), env_file
    finally:
        os.environ.update(saved)


class _Users:
    """Edits made the way people make them: through each CRM's API, not behind its back."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.http = requests.Session()
        self.http.trust_env = False
        self.http.verify = str(sandbox.salesforce.ca_file)
        self.sf_token = sandbox.salesforce.emulator.issue_token()
        self.done: list[str] = []

    def _sf(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        url = f"{self.sandbox.salesforce.url}/services/data/v66.0/{path}"
        headers = {"Authorization": f"Bearer {self.sf_token}"}
        response = self.http.request(method, url, json=body, headers=headers, timeout=30)
        response.raise_for_status()
        return response.json() if response.content else None

    def _hs(self, path: str, body: dict[str, Any]) -> Any:
        headers = {"Authorization": f"Bearer {self.sandbox.hubspot.access_token}"}
        response = self.http.post(
            f"{self.sandbox.hubspot.url}{path}", json=body, headers=headers, timeout=30
        )
        response.raise_for_status()
        return response.json()

    def edit_salesforce(self, store: StateStore) -> None:
        leads = [ref for ref, _ in _linked(store, System.SALESFORCE, "Lead", limit=50)]
        if leads:
            lead = leads[0]
            self.http.post(
                f"{self.sandbox.salesforce.url}/__sandbox__/convert-lead",
                json={"leadId": lead, "createOpportunity": True},
                timeout=30,
            ).raise_for_status()
            self.done.append(f"Salesforce: a rep converted Lead {lead} with an Opportunity")
        if len(leads) > 1:
            self._sf("PATCH", f"sobjects/Lead/{leads[1]}", {"Title": "Chief Operating Officer"})
            self.done.append(
                f"Salesforce: a rep retitled Lead {leads[1]} to Chief Operating Officer"
            )

    def edit_hubspot(self, store: StateStore) -> None:
        contacts = [ref for ref, _ in _linked(store, System.HUBSPOT, "contacts", limit=50)]
        if not contacts:
            return
        replier = contacts[-1]
        now_ms = str(int(datetime.now(UTC).timestamp() * 1000))
        email = self._hs(
            "/crm/v3/objects/emails",
            {"properties": {"hs_timestamp": now_ms, "hs_email_direction": "INCOMING_EMAIL",
                            "hs_email_status": "SENT", "hs_email_subject": "Re: pricing"}},
        )  # fmt: skip
        self._hs(
            "/crm/v4/associations/emails/contacts/batch/create",
            {"inputs": [{"from": {"id": email["id"]}, "to": {"id": replier},
                         "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                    "associationTypeId": 198}]}]},
        )  # fmt: skip
        self.done.append(f"HubSpot: contact {replier} replied to an e-mail")
        if len(contacts) > 1:
            self._hs(
                "/__sandbox__/edit",
                {
                    "objectType": "contacts",
                    "id": contacts[0],
                    "properties": {"jobtitle": "VP Marketing"},
                },
            )
            self.done.append(f"HubSpot: a marketer retitled contact {contacts[0]} to VP Marketing")


def _linked(
    store: StateStore, system: System, object_type: str, limit: int
) -> list[tuple[str, str]]:
    """Record ids (with their person) of active records of one type, for picking edit targets."""
    found: list[tuple[str, str]] = []
    for person_id in store.people.ids(limit=limit * 4):
        for link in store.links.for_person(person_id):
            if link.ref.system is system and link.ref.object_type == object_type:
                found.append((link.ref.record_id, person_id))
        if len(found) >= limit:
            break
    return found


def _someone_to_explain(store: StateStore) -> str | None:
    for person_id in store.people.ids(limit=200):
        record = store.people.get(person_id)
        if record is not None and record.person.email and record.person.stage.value != "lead":
            return record.person.email
    return None


def run_demo(
    *,
    people: int = 2000,
    seed: int = 7,
    project: Path = Path(),
    console: Console | None = None,
    keep: bool = True,
    stop: Stop | None = None,
) -> DemoResult:
    """Run the demo; return what it measured (tests assert on it). Once ``stop`` is set the
    step under way ends within seconds and the demo ends with
    :class:`~connector.errors.StopRequested`."""
    out = console or Console(highlight=False, soft_wrap=True)
    stop = stop or Stop()
    workdir = project / DEMO_DIR
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    workdir.parent.chmod(0o700)  # the state directory holds personal data
    workdir.mkdir(mode=0o700)
    out.print(Rule("crmsync demo"))
    out.print(f"Starting the sandbox: {people} synthetic people in a local Salesforce and HubSpot")
    with Sandbox.start(seed=seed, people=people, search_lag_ms=REALISTIC_SEARCH_LAG_MS) as sandbox:
        settings, env_file = _settings(sandbox, workdir, project)
        with connected(settings, stop=stop) as engine:
            drift_before = engine.drift()
        render_drift(drift_before, "Before the first sync", out)

        out.print(Rule("Full sync"))
        with (
            progress_reporter(True) as progress,
            connected(settings, progress=progress, stop=stop) as engine,
        ):
            full = engine.sync(job="demo full sync")
        render_report(full, out)
        stop.check()

        out.print(Rule("People edit both CRMs"))
        users = _Users(sandbox)
        with StateStore.from_settings(settings) as store:
            users.edit_salesforce(store)
            users.edit_hubspot(store)
        for line in users.done:
            out.print(f"  {line}")

        # Salesforce compares datetimes in SOQL to the second: an edit made in the very second a
        # run starts is read by the run after. HubSpot's search index trails writes by a few
        # seconds (the sandbox lags it as a portal does): an edit is searchable only then, and a
        # run starting sooner leaves it to the next run's lookback. Let both pass so this run
        # shows the edits.
        out.print(f"  (waiting {REALISTIC_SEARCH_LAG_MS / 1000:g} s for HubSpot's search index)")
        stop.sleep(REALISTIC_SEARCH_LAG_MS / 1000)
        stop.sleep(1.0 - datetime.now(UTC).microsecond / 1_000_000 + 0.05)
        out.print(Rule("Incremental sync"))
        with (
            progress_reporter(True) as progress,
            connected(settings, progress=progress, stop=stop) as engine,
        ):
            incremental = engine.sync(job="demo incremental sync")
        render_report(incremental, out)
        stop.check()
        # Drift pulls HubSpot through search too: let the index catch up with this run's writes,
        # or it would compare against the contacts as they were before the run.
        stop.sleep(REALISTIC_SEARCH_LAG_MS / 1000)
        with connected(settings, stop=stop) as engine:
            drift_after = engine.drift()
        render_drift(drift_after, "After syncing", out)
        with StateStore.from_settings(settings) as store:
            email = _someone_to_explain(store)
    out.print(Rule("Next"))
    out.print(f"drift: {drift_before.drift} before, {drift_after.drift} after")
    if email:
        out.print(
            f"Why is someone where they are?  crmsync --env-file {env_file} rules explain {email}"
        )
    out.print(f"Run history:                    crmsync --env-file {env_file} status")
    if not keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return DemoResult(
        drift_before, full, incremental, drift_after, tuple(users.done), email, env_file
    )


def demo_command(
    people: Annotated[int, typer.Option(min=50, max=200_000, help="Synthetic people.")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic world.")] = 7,
) -> None:
    """Run the whole story on the built-in sandbox (no credentials, no network)."""
    with stop_on_signals(Stop()) as stop:
        result = run_demo(people=people, seed=seed, stop=stop)
    if result.drift_after.drift:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
