"""Shared helpers for the sync engine's sandbox tests: the CLI in a subprocess, edits made the
way users make them (through each CRM's API), and reading both CRMs back."""

from __future__ import annotations

import os
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from connector.sandbox.runner import Sandbox

ROOT = Path(__file__).resolve().parents[2]
CRMSYNC = ROOT / ".venv" / "bin" / "crmsync"
SF_PEOPLE = ("Lead", "Contact")


def http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def reset(sandbox: Sandbox) -> None:
    """Both emulators back to their seeded state (records, counters, faults)."""
    sandbox.salesforce.emulator.reset()
    http().post(f"{sandbox.hubspot.url}/__sandbox__/reset", timeout=30).raise_for_status()


def next_second() -> None:
    """Salesforce compares datetimes in SOQL to the second: an edit made in the second a run
    starts is (correctly) read by the run after. Let that second pass."""
    time.sleep(1.0 - datetime.now(UTC).microsecond / 1_000_000 + 0.02)


def write_env_file(sandbox: Sandbox, path: Path, state_url: str) -> Path:
    """A dotenv file pointing the real CLI at the sandbox and a state store."""
    env = dict(sandbox.env())
    env["CRMSYNC_STATE_URL"] = state_url
    env["CRMSYNC_MAPPINGS_DIR"] = str(ROOT / "mappings")
    env["CRMSYNC_RULES_FILE"] = str(ROOT / "config" / "rules.yaml")
    path.write_text("".join(f"{k}={v}\n" for k, v in sorted(env.items())), encoding="utf-8")
    path.chmod(0o600)
    return path


def cli_env() -> dict[str, str]:
    """The test process's environment without its CRMSYNC_* settings (the env file says)."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("CRMSYNC_") or key.startswith("CRMSYNC_TEST_")
    }


def start_cli(env_file: Path, *args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(CRMSYNC), "--config", str(ROOT / "config" / "crmsync.toml"),
         "--env-file", str(env_file), *args],
        cwd=cwd,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def run_cli(env_file: Path, *args: str, cwd: Path, timeout: float = 120) -> tuple[int, str]:
    process = start_cli(env_file, *args, cwd=cwd)
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out + err


def calls(sandbox: Sandbox) -> dict[str, int]:
    """``/__sandbox__/stats`` call counts of both emulators, keyed ``system METHOD template``."""
    session = http()
    sf = session.get(
        f"{sandbox.salesforce.url}/__sandbox__/stats",
        verify=str(sandbox.salesforce.ca_file),
        timeout=30,
    ).json()
    hs = session.get(f"{sandbox.hubspot.url}/__sandbox__/stats", timeout=30).json()
    found: dict[str, int] = {}
    for system, body in (("salesforce", sf), ("hubspot", hs)):
        for endpoint, count in body["calls"].items():
            found[f"{system} {endpoint}"] = count
    return found


def stamps(sandbox: Sandbox) -> dict[str, object]:
    """Every person record's modification stamp in both emulators: any write moves one."""
    found: dict[str, object] = {}
    for object_type in SF_PEOPLE:
        for record_id, row in sandbox.salesforce.store.table(object_type).rows.items():
            found[record_id] = row.get("SystemModstamp")
    for record in sandbox.hubspot.store.records("contacts"):
        found[f"hs{record.id}"] = record.props.get("lastmodifieddate")
    return found


def salesforce_people(sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    """Live, unconverted Salesforce people by crmsync person id (a Contact wins over a Lead)."""
    found: dict[str, dict[str, Any]] = {}
    for object_type in SF_PEOPLE:
        for row in sandbox.salesforce.store.table(object_type).rows.values():
            person = row.get("Crmsync_Person_Id__c")
            if not person or row.get("IsDeleted") or row.get("IsConverted"):
                continue
            found[str(person)] = {**row, "_type": object_type}
    return found


def hubspot_people(sandbox: Sandbox) -> dict[str, dict[str, str]]:
    """Live HubSpot contacts' properties by crmsync person id."""
    return {
        record.props["crmsync_person_id"]: dict(record.props)
        for record in sandbox.hubspot.store.records("contacts")
        if record.props.get("crmsync_person_id")
    }


def person_id_counts(sandbox: Sandbox) -> tuple[Counter[str], Counter[str]]:
    """How many live records carry each crmsync person id, per CRM (duplicates show as > 1)."""
    sf: Counter[str] = Counter()
    for object_type in SF_PEOPLE:
        for row in sandbox.salesforce.store.table(object_type).rows.values():
            if row.get("Crmsync_Person_Id__c") and not row.get("IsDeleted"):
                sf[f"{object_type}:{row['Crmsync_Person_Id__c']}"] += 1
    hs = Counter(
        record.props["crmsync_person_id"]
        for record in sandbox.hubspot.store.records("contacts")
        if record.props.get("crmsync_person_id")
    )
    return sf, hs


def funnel_stages(sandbox: Sandbox, person: str) -> tuple[str, str]:
    """The funnel stage Salesforce and HubSpot show for a person linked in both."""
    salesforce = str(salesforce_people(sandbox)[person].get("Funnel_Stage__c") or "").lower()
    return salesforce, hubspot_people(sandbox)[person].get("crmsync_funnel_stage", "")


def hubspot_contact(sandbox: Sandbox, person: str) -> str:
    """The id of the live HubSpot contact that carries this crmsync person id."""
    (found,) = [
        record.id
        for record in sandbox.hubspot.store.records("contacts")
        if record.props.get("crmsync_person_id") == person
    ]
    return found


def stage_disagreements(
    sandbox: Sandbox, excused: frozenset[str] | set[str] = frozenset()
) -> dict[str, object]:
    """People linked in both CRMs whose funnel stage differs (minus ``excused`` ones)."""
    sf, hs = salesforce_people(sandbox), hubspot_people(sandbox)
    wrong: dict[str, object] = {}
    for person in (set(sf) & set(hs)) - excused:
        left = str(sf[person].get("Funnel_Stage__c") or "").lower()
        right = hs[person].get("crmsync_funnel_stage") or ""
        if left != right:
            wrong[person] = (left, right)
    return wrong


class Users:
    """Edits made the way people make them: through each CRM's own API."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.session = http()
        self.session.verify = str(sandbox.salesforce.ca_file)
        self.sf_token = sandbox.salesforce.emulator.issue_token()

    def salesforce(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        url = f"{self.sandbox.salesforce.url}/services/data/v66.0/{path}"
        headers = {"Authorization": f"Bearer {self.sf_token}"}
        answer = self.session.request(method, url, json=body, headers=headers, timeout=30)
        answer.raise_for_status()
        return answer.json() if answer.content else None

    def hubspot(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.sandbox.hubspot.access_token}"}
        answer = self.session.request(
            method, f"{self.sandbox.hubspot.url}{path}", json=body, headers=headers, timeout=30
        )
        answer.raise_for_status()
        return answer.json() if answer.content else None

    def edit_hubspot(self, contact_id: str, properties: dict[str, str]) -> None:
        """An edit in HubSpot's UI (``/__sandbox__/edit``: a user edit, stamp moves)."""
        self.hubspot(
            "POST",
            "/__sandbox__/edit",
            {"objectType": "contacts", "id": contact_id, "properties": properties},
        )

    def convert_lead(self, lead_id: str) -> dict[str, Any]:
        answer = self.session.post(
            f"{self.sandbox.salesforce.url}/__sandbox__/convert-lead",
            json={"leadId": lead_id, "createOpportunity": True},
            timeout=30,
        )
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    def hubspot_reply(self, contact_id: str) -> None:
        """The contact replied to an e-mail: an engagement associated to the contact."""
        now_ms = str(int(datetime.now(UTC).timestamp() * 1000))
        email = self.hubspot(
            "POST",
            "/crm/v3/objects/emails",
            {"properties": {"hs_timestamp": now_ms, "hs_email_direction": "INCOMING_EMAIL",
                            "hs_email_status": "SENT", "hs_email_subject": "Re: pricing"}},
        )  # fmt: skip
        self.hubspot(
            "POST",
            "/crm/v4/associations/emails/contacts/batch/create",
            {"inputs": [{"from": {"id": email["id"]}, "to": {"id": contact_id},
                         "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                    "associationTypeId": 198}]}]},
        )  # fmt: skip

    def salesforce_call(self, who_id: str) -> None:
        """A rep logged an inbound call with the person: a Task through the REST API."""
        self.salesforce(
            "POST",
            "sobjects/Task",
            {
                "WhoId": who_id,
                "Subject": "Call",
                "TaskSubtype": "Call",
                "CallType": "Inbound",
                "CallDurationInSeconds": 300,
                "Status": "Completed",
                "ActivityDate": datetime.now(UTC).date().isoformat(),
            },
        )


class Sdk:
    """Both CRMs through their official SDKs over real sockets: read back what crmsync did,
    and act as users and admins do (delete, archive, merge, restore)."""

    def __init__(self, sandbox: Sandbox) -> None:
        from hubspot import HubSpot
        from simple_salesforce.api import Salesforce

        self.sandbox = sandbox
        session = http()
        session.verify = str(sandbox.salesforce.ca_file)
        self.sf = Salesforce(
            instance_url=sandbox.salesforce.url,
            session_id=sandbox.salesforce.emulator.issue_token(),
            version="66.0",
            session=session,
        )
        self.hs = HubSpot(access_token=sandbox.hubspot.access_token, host=sandbox.hubspot.url)

    def salesforce_people(self) -> dict[str, list[tuple[str, str]]]:
        """Live, unconverted Salesforce records per crmsync person id: ``[(type, Id)]``."""
        found: dict[str, list[tuple[str, str]]] = {}
        for object_type in SF_PEOPLE:
            where = " AND IsConverted = false" if object_type == "Lead" else ""
            soql = (
                f"SELECT Id, Crmsync_Person_Id__c FROM {object_type} "  # noqa: S608 - constants
                f"WHERE Crmsync_Person_Id__c != null{where}"
            )
            for row in self.sf.query_all_iter(soql):
                found.setdefault(str(row["Crmsync_Person_Id__c"]), []).append(
                    (object_type, str(row["Id"]))
                )
        return found

    def salesforce_record(self, object_type: str, record_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = getattr(self.sf, object_type).get(record_id)
        return answer

    def hubspot_people(self) -> dict[str, list[str]]:
        """Live HubSpot contact ids per crmsync person id."""
        found: dict[str, list[str]] = {}
        for contact in self.hs.crm.contacts.get_all(properties=["crmsync_person_id"]):
            person = contact.properties.get("crmsync_person_id")
            if person:
                found.setdefault(str(person), []).append(str(contact.id))
        return found

    def hubspot_contact(self, contact_id: str, *properties: str) -> dict[str, Any]:
        contact = self.hs.crm.contacts.basic_api.get_by_id(
            contact_id, properties=list(properties) or None
        )
        return dict(contact.properties)

    def delete_salesforce(self, object_type: str, record_id: str) -> None:
        getattr(self.sf, object_type).delete(record_id)

    def archive_hubspot(self, contact_id: str) -> None:
        self.hs.crm.contacts.basic_api.archive(contact_id)

    def merge_hubspot(self, primary: str, merged: str) -> None:
        from hubspot.crm.contacts import PublicMergeInput

        self.hs.crm.contacts.basic_api.merge(
            public_merge_input=PublicMergeInput(
                primary_object_id=primary, object_id_to_merge=merged
            )
        )

    def recycle_bin(self, *, undelete: list[str] = [], empty: list[str] = []) -> Any:  # noqa: B006
        """The Recycle Bin page (no REST call does this): restore or empty records."""
        answer = http().post(
            f"{self.sandbox.salesforce.url}/__sandbox__/recycle-bin",
            json={"undelete": undelete, "empty": empty},
            verify=str(self.sandbox.salesforce.ca_file),
            timeout=30,
        )
        answer.raise_for_status()
        return answer.json()

    def gdpr_delete_hubspot(self, contact_id: str) -> None:
        from hubspot.crm.contacts import PublicGdprDeleteInput

        self.hs.crm.contacts.basic_api.purge(
            public_gdpr_delete_input=PublicGdprDeleteInput(object_id=contact_id)
        )

    def restore_hubspot(self, contact_id: str) -> None:
        """HubSpot's "Restore records" tool (no public API restores a contact)."""
        answer = http().post(
            f"{self.sandbox.hubspot.url}/__sandbox__/restore",
            json={"objectType": "contacts", "id": contact_id},
            timeout=30,
        )
        answer.raise_for_status()
