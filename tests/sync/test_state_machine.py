"""Random sequences of user edits in either CRM interleaved with syncs always converge.

Hypothesis drives a :class:`RuleBasedStateMachine` over one small sandbox (reset, with a fresh
state store, for every example). Users edit through each CRM's own API: field changes (title,
phone, country), new activity (a HubSpot e-mail reply associated to a contact, a Salesforce call
logged as a Task), funnel stages set by hand, lead conversion, HubSpot merges, deletes and
archives. After every sync:

* both CRMs show the same funnel stage for every person linked in both, except people with a
  dead letter, and every dead letter says why;
* a sync right after it writes nothing: no record's modification stamp moves;
* no value ping-pongs: between two syncs, a synced field of a person nobody touched keeps its
  value in both CRMs (a value flipping back and forth would have to change in between).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    rule,
    run_state_machine_as_test,
)

from connector.sandbox.runner import Sandbox
from connector.settings import Settings
from connector.state import StateStore
from connector.state.models import RunOutcome
from connector.sync.report import RunReport
from connector.sync.wiring import connected

from ._support import (
    Users,
    hubspot_people,
    next_second,
    reset,
    salesforce_people,
    stage_disagreements,
    stamps,
)
from .test_e2e import settings_for

TITLES = ("Chief Executive Officer", "VP Sales", "Software Engineer", "Intern", "")
PHONES = ("+1 415 555 0100", "+44 20 7946 0000", "")
COUNTRIES = ("France", "Germany", "United States", "")
SF_FIELDS = {
    "title": ("Title", "Title"),
    "phone": ("Phone", "Phone"),
    "country": ("Country", "MailingCountry"),
}  # canonical -> (Lead field, Contact field)
HS_FIELDS = {"title": "jobtitle", "phone": "phone", "country": "country"}
STAGES = ("lead", "prospect", "opportunity", "customer", "disqualified")
VALUES = {"title": TITLES, "phone": PHONES, "country": COUNTRIES}

Snapshot = dict[tuple[str, str, str], str]  # (system, person, field) -> value


def snapshot(sandbox: Sandbox) -> Snapshot:
    """Every synced field crmsync writes, per system and person, as the CRMs hold them now."""
    values: Snapshot = {}
    for person, row in salesforce_people(sandbox).items():
        contact = row["_type"] == "Contact"
        values[("salesforce", person, "stage")] = str(row.get("Funnel_Stage__c") or "")
        for canonical, (lead_field, contact_field) in SF_FIELDS.items():
            value = row.get(contact_field if contact else lead_field)
            values[("salesforce", person, canonical)] = str(value or "")
    for person, props in hubspot_people(sandbox).items():
        values[("hubspot", person, "stage")] = props.get("crmsync_funnel_stage") or ""
        for canonical, name in HS_FIELDS.items():
            values[("hubspot", person, canonical)] = props.get(name) or ""
    return values


class SyncMachine(RuleBasedStateMachine):
    sandbox: ClassVar[Sandbox]
    workdir: ClassVar[Path]

    def __init__(self) -> None:
        super().__init__()
        reset(self.sandbox)
        self.settings: Settings = settings_for(
            self.sandbox, f"sqlite:///{self.workdir / uuid.uuid4().hex}.db"
        )
        self.users = Users(self.sandbox)
        self.touched: set[str] = set()  # people a user touched since the last sync
        self.before: Snapshot = {}

    # -- picking targets -------------------------------------------------------------------

    def _salesforce(self, pick: int, *, leads_only: bool = False) -> tuple[str, dict[str, Any]]:
        # Ordered by record id, which a reset sandbox repeats (person ids are random).
        people = sorted(salesforce_people(self.sandbox).items(), key=lambda item: item[1]["Id"])
        if leads_only:
            people = [(p, row) for p, row in people if row["_type"] == "Lead"]
        return people[pick % len(people)] if people else ("", {})

    def _hubspot(self, pick: int) -> tuple[str, str]:
        contacts = sorted(
            ((record.props["crmsync_person_id"], record.id)
             for record in self.sandbox.hubspot.store.records("contacts")
             if record.props.get("crmsync_person_id")),
            key=lambda item: int(item[1]),
        )  # fmt: skip
        return contacts[pick % len(contacts)] if contacts else ("", "")

    def _touch(self, *people: str) -> None:
        self.touched.update(p for p in people if p)

    # -- syncing ---------------------------------------------------------------------------

    def _sync(self) -> RunReport:
        with connected(self.settings) as engine:
            report = engine.sync()
        assert report.outcome in (RunOutcome.SUCCEEDED, RunOutcome.FINISHED_WITH_REJECTIONS), (
            report.to_json()
        )
        return report

    @initialize()
    def first_sync(self) -> None:
        self.sync()
        linked = set(salesforce_people(self.sandbox)) & set(hubspot_people(self.sandbox))
        assert len(linked) >= 10, "the invariants must have people to compare"

    @rule()
    def sync(self) -> None:
        if self.touched:
            # Every run reads both CRMs up to the whole second it started in (SOQL compares
            # datetimes to the second), so an edit in that second belongs to the next run.
            next_second()
        self._sync()
        with StateStore.from_settings(self.settings) as store:
            letters = store.dead_letters.list()
        assert all(letter.message and letter.code for letter in letters), letters
        excused = {letter.person_id for letter in letters if letter.person_id}
        assert stage_disagreements(self.sandbox, excused) == {}

        # A sync right after a sync writes nothing.
        moved = stamps(self.sandbox)
        again = self._sync()
        assert again.written_total == 0, again.to_json()
        assert stamps(self.sandbox) == moved, "the second sync wrote to a CRM"

        # No ping-pong: nobody touched these people, so none of their values may have moved.
        after = snapshot(self.sandbox)
        flipped = {
            key: (self.before[key], value)
            for key, value in after.items()
            if key in self.before
            and self.before[key] != value
            and key[1] not in self.touched
            and key[1] not in excused
        }
        assert flipped == {}
        self.before = after
        self.touched.clear()

    # -- users at work ---------------------------------------------------------------------

    @rule(
        pick=st.integers(min_value=0, max_value=10_000),
        field=st.sampled_from(sorted(SF_FIELDS)),
        choice=st.integers(min_value=0, max_value=10),
    )
    def edit_in_salesforce(self, pick: int, field: str, choice: int) -> None:
        person, row = self._salesforce(pick)
        if not person:
            return
        contact = row["_type"] == "Contact"
        name = SF_FIELDS[field][1 if contact else 0]
        values = VALUES[field]
        value = values[choice % len(values)] or None
        self.users.salesforce("PATCH", f"sobjects/{row['_type']}/{row['Id']}", {name: value})
        self._touch(person)

    @rule(
        pick=st.integers(min_value=0, max_value=10_000),
        field=st.sampled_from(sorted(HS_FIELDS)),
        choice=st.integers(min_value=0, max_value=10),
    )
    def edit_in_hubspot(self, pick: int, field: str, choice: int) -> None:
        person, contact = self._hubspot(pick)
        if not person:
            return
        values = VALUES[field]
        self.users.edit_hubspot(contact, {HS_FIELDS[field]: values[choice % len(values)]})
        self._touch(person)

    @rule(pick=st.integers(min_value=0, max_value=10_000), stage=st.sampled_from(STAGES))
    def stage_set_by_hand_in_salesforce(self, pick: int, stage: str) -> None:
        person, row = self._salesforce(pick)
        if person:
            path = f"sobjects/{row['_type']}/{row['Id']}"
            self.users.salesforce("PATCH", path, {"Funnel_Stage__c": stage.capitalize()})
            self._touch(person)

    @rule(pick=st.integers(min_value=0, max_value=10_000), stage=st.sampled_from(STAGES))
    def stage_set_by_hand_in_hubspot(self, pick: int, stage: str) -> None:
        person, contact = self._hubspot(pick)
        if person:
            self.users.edit_hubspot(contact, {"crmsync_funnel_stage": stage})
            self._touch(person)

    @rule(pick=st.integers(min_value=0, max_value=10_000))
    def reply_in_hubspot(self, pick: int) -> None:
        person, contact = self._hubspot(pick)
        if person:
            self.users.hubspot_reply(contact)
            self._touch(person)

    @rule(pick=st.integers(min_value=0, max_value=10_000))
    def call_logged_in_salesforce(self, pick: int) -> None:
        person, row = self._salesforce(pick)
        if person:
            self.users.salesforce_call(row["Id"])
            self._touch(person)

    @rule(pick=st.integers(min_value=0, max_value=10_000))
    def convert_a_lead(self, pick: int) -> None:
        person, row = self._salesforce(pick, leads_only=True)
        if person:
            self.users.convert_lead(row["Id"])
            self._touch(person)

    @rule(
        first=st.integers(min_value=0, max_value=10_000),
        second=st.integers(min_value=0, max_value=10_000),
    )
    def merge_in_hubspot(self, first: int, second: int) -> None:
        primary, kept = self._hubspot(first)
        other, merged = self._hubspot(second)
        if not primary or kept == merged:
            return
        self.users.hubspot(
            "POST",
            "/crm/v3/objects/contacts/merge",
            {"primaryObjectId": kept, "objectIdToMerge": merged},
        )
        self._touch(primary, other)

    @rule(pick=st.integers(min_value=0, max_value=10_000))
    def delete_in_salesforce(self, pick: int) -> None:
        person, row = self._salesforce(pick)
        if person:
            self.users.salesforce("DELETE", f"sobjects/{row['_type']}/{row['Id']}")
            self._touch(person)

    @rule(pick=st.integers(min_value=0, max_value=10_000))
    def archive_in_hubspot(self, pick: int) -> None:
        person, contact = self._hubspot(pick)
        if person:
            self.users.hubspot("DELETE", f"/crm/v3/objects/contacts/{contact}")
            self._touch(person)


@pytest.fixture(scope="module")
def machine_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox.start(seed=61, people=40) as started:
        SyncMachine.sandbox = started
        SyncMachine.workdir = tmp_path_factory.mktemp("machine")
        yield started


def test_edits_and_syncs_always_converge_without_ping_pong(machine_sandbox: Sandbox) -> None:
    run_state_machine_as_test(
        SyncMachine,
        settings=settings(
            max_examples=6,
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            database=None,
            # A fixed seed: CI explores the same sequences every run, so a failure is a
            # regression, not the luck of the draw. Widen the search locally with
            # --hypothesis-seed=random; a sequence found that way is pinned below.
            derandomize=True,
            # Shrinking re-runs whole sequences of syncs for minutes; the failing sequence is
            # printed as generated instead.
            phases=(Phase.explicit, Phase.generate),
        ),
    )


def test_pinned_sequence_hand_set_stages_and_an_archive(machine_sandbox: Sandbox) -> None:
    """A sequence a random run once reported as a divergence. It was the machine's own
    timing: it waited out the second only after Salesforce edits, so a HubSpot edit made in
    the second a run started was (by design) left to the next run. Kept as a regression."""
    machine = SyncMachine()
    try:
        machine.first_sync()
        machine.stage_set_by_hand_in_salesforce(pick=197, stage="customer")
        machine.stage_set_by_hand_in_hubspot(pick=544, stage="disqualified")
        machine.archive_in_hubspot(pick=513)
        machine.sync()
        machine.stage_set_by_hand_in_hubspot(pick=6690, stage="disqualified")
        machine.sync()
    finally:
        machine.teardown()


def test_an_edit_in_the_second_a_run_starts_is_read_by_the_next_run(
    machine_sandbox: Sandbox,
) -> None:
    machine = SyncMachine()
    try:
        machine.first_sync()
        person, contact = machine._hubspot(6690)
        next_second()
        edited_at = datetime.now(UTC)
        machine.users.edit_hubspot(contact, {"crmsync_funnel_stage": "disqualified"})
        report = machine._sync()
        if report.started_at.replace(microsecond=0) != edited_at.replace(microsecond=0):
            pytest.skip("the run did not start in the second of the edit (a slow machine)")
        # Both CRMs are read up to the whole second the run started in: the edit is not seen.
        assert salesforce_people(machine_sandbox)[person]["Funnel_Stage__c"] != "Disqualified"

        next_second()
        machine._sync()
        assert salesforce_people(machine_sandbox)[person]["Funnel_Stage__c"] == "Disqualified"
        assert stage_disagreements(machine_sandbox, set()) == {}
    finally:
        machine.teardown()
