"""Duplicates stay visible until resolved: identity issues are state. Every one is counted
(not the length of a capped example list), later runs and other commands keep listing them,
the data changing resolves them, and an admin's decision holds. A HubSpot merge that would
join two people who each have a Salesforce record is an issue, never silent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.errors import ConfigError, System
from connector.funnel import SourceRef
from connector.sandbox.runner import Sandbox
from connector.settings import Settings
from connector.state import StateStore
from connector.sync.identity_decisions import Decision, resolve_issue
from connector.sync.report import RunReport
from connector.sync.wiring import connected

from ._support import Sdk, Users, next_second, reset, run_cli, write_env_file
from .test_e2e import settings_for

DUPLICATES = 24  # more than a report's 20 examples


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(seed=63, people=90) as started:
        yield started


def sync(settings: Settings) -> RunReport:
    with connected(settings) as engine:
        return engine.sync()


def _duplicate_leads(sandbox: Sandbox, sdk: Sdk, count: int) -> list[tuple[str, str]]:
    """New Leads reusing the e-mail of existing linked Leads: ``[(original, duplicate)]``."""
    users = Users(sandbox)
    rows = sdk.sf.query_all(
        "SELECT Id, Email FROM Lead WHERE Email != null AND IsConverted = false"
    )["records"]
    by_email = {str(row["Email"]).lower(): str(row["Id"]) for row in rows}
    # One Lead per address (a seeded duplicate is an issue of its own already).
    counts = {e: sum(1 for r in rows if str(r["Email"]).lower() == e) for e in by_email}
    originals = sorted((i, e) for e, i in by_email.items() if counts[e] == 1)[:count]
    made = []
    for original, email in originals:
        answer = users.salesforce(
            "POST", "sobjects/Lead", {"LastName": "Twin", "Company": "Twin Co", "Email": email}
        )
        made.append((original, str(answer["id"])))
    return made


def test_duplicate_leads_stay_listed_until_the_data_or_an_admin_resolves_them(
    sandbox: Sandbox, sqlite_url: str, tmp_path: Path
) -> None:
    reset(sandbox)
    settings = settings_for(sandbox, sqlite_url)
    sync(settings)
    with StateStore.from_settings(settings) as store:
        seeded = {issue.record for issue in store.issues.list()}  # the world has a few
    sdk = Sdk(sandbox)
    pairs = _duplicate_leads(sandbox, sdk, DUPLICATES)
    made = {f"salesforce/Lead/{twin}" for _, twin in pairs}
    next_second()

    first = sync(settings)
    assert first.identity_counts == {"ambiguous_email": DUPLICATES}, (
        first.identity_issues
    )  # all, not 20
    assert len(first.identity_issues) == 20  # examples stay capped

    # Later runs (past the pull's lookback they no longer read the duplicates) and other
    # commands keep listing every one.
    next_second()
    later = sync(settings)
    assert later.counts()["identity_issues_open"] == len(seeded) + DUPLICATES
    env = write_env_file(sandbox, tmp_path / ".env", sqlite_url)
    code, out = run_cli(env, "identity", "list", "--json", cwd=tmp_path)
    assert code == 0, out
    listed = json.loads(out)
    assert {item["record"] for item in listed} == seeded | made
    assert {item["kind"] for item in listed} == {"ambiguous_email"}
    code, out = run_cli(env, "status", "--json", cwd=tmp_path)
    assert json.loads(out)["identity_issues"] == {"ambiguous_email": len(seeded) + DUPLICATES}
    # A dry run and the drift check see them too, and they stay one issue each.
    code, _ = run_cli(env, "plan", "--out", str(tmp_path / "plan.json"), cwd=tmp_path)
    assert code == 0
    with StateStore.from_settings(settings) as store:
        assert len(store.issues.list()) == len(seeded) + DUPLICATES

    # The data changes: one duplicate is deleted. The one holding the address is deleted
    # too for another: its duplicate is read again and takes its place.
    (_, twin_a), (original_b, twin_b) = pairs[0], pairs[1]
    sdk.delete_salesforce("Lead", twin_a)
    sdk.delete_salesforce("Lead", original_b)
    # An admin decides a third: keep it out of sync.
    with StateStore.from_settings(settings) as store:
        by_record = {issue.record: issue for issue in store.issues.list()}
        ignored = by_record[f"salesforce/Lead/{pairs[2][1]}"]
        resolve_issue(store, ignored.id, Decision.IGNORE, note="test record")
    next_second()
    sync(settings)
    with StateStore.from_settings(settings) as store:
        still = {issue.record for issue in store.issues.list()}
        resolved = {issue.record: issue for issue in store.issues.list(include_resolved=True)}
        twin_b_link = store.links.active(
            SourceRef(system=System.SALESFORCE, object_type="Lead", record_id=twin_b)
        )
    assert f"salesforce/Lead/{twin_a}" not in still
    assert resolved[f"salesforce/Lead/{twin_a}"].resolution == "data_changed"
    assert resolved[f"salesforce/Lead/{twin_b}"].resolution == "data_changed"
    assert twin_b_link is not None  # it resolves now, to the person its rival left
    assert resolved[f"salesforce/Lead/{pairs[2][1]}"].resolution == "ignored"
    assert still == seeded | made - {f"salesforce/Lead/{t}" for t in (twin_a, twin_b, pairs[2][1])}

    # The ignored one changes: still not linked, not reported again.
    Users(sandbox).salesforce("PATCH", f"sobjects/Lead/{pairs[2][1]}", {"Title": "Twin"})
    next_second()
    again = sync(settings)
    assert "ambiguous_email" not in again.identity_counts or all(
        issue["record"] != f"salesforce/Lead/{pairs[2][1]}" for issue in again.identity_issues
    )
    with StateStore.from_settings(settings) as store:
        assert {issue.record for issue in store.issues.list()} == still


def test_a_hubspot_merge_joining_two_salesforce_people_is_kept_apart_until_decided(
    sandbox: Sandbox, sqlite_url: str
) -> None:
    reset(sandbox)
    settings = settings_for(sandbox, sqlite_url)
    sync(settings)
    sdk = Sdk(sandbox)
    sf, hs = sdk.salesforce_people(), sdk.hubspot_people()
    a, b = sorted(p for p in set(sf) & set(hs) if len(sf[p]) == 1 and len(hs[p]) == 1)[:2]
    next_second()
    sdk.merge_hubspot(hs[a][0], hs[b][0])  # b's contact merged into a's
    next_second()

    report = sync(settings)

    assert report.identity_counts["merge_conflict"] == 1
    with StateStore.from_settings(settings) as store:
        (issue,) = [i for i in store.issues.list() if i.kind == "merge_conflict"]
        people = store.people.get_many([a, b])
    assert issue.kind == "merge_conflict"
    assert set(issue.people) == {a, b}
    assert people[b].merged_into is None  # not joined silently
    assert sdk.salesforce_people()[a] == sf[a]
    assert sdk.salesforce_people()[b] == sf[b]
    assert b not in sdk.hubspot_people()  # merged away: never re-created
    next_second()
    assert sync(settings).written_total == 0

    # A decision that does not fit is refused, and changes nothing.
    with StateStore.from_settings(settings) as store, pytest.raises(ConfigError):
        resolve_issue(store, issue.id, Decision.IGNORE)
    survivor = SourceRef(system=System.SALESFORCE, object_type=sf[a][0][0], record_id=sf[a][0][1])
    loser = SourceRef(system=System.SALESFORCE, object_type=sf[b][0][0], record_id=sf[b][0][1])
    with StateStore.from_settings(settings) as store:
        resolve_issue(store, issue.id, Decision.JOIN, record=survivor, note="same human")
    next_second()
    sync(settings)
    with StateStore.from_settings(settings) as store:
        assert store.people.current(b) == a
        assert store.links.active(survivor) is not None
        assert store.links.active(loser) is None
        assert [i for i in store.issues.list() if i.kind == "merge_conflict"] == []
    next_second()
    assert sync(settings).written_total == 0
