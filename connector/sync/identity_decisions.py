"""An admin's decisions on identity issues (``crmsync identity resolve``).

* ``ambiguous_email`` (two records of one object in one CRM share an address, the later one
  left unlinked): **ignore** keeps the unlinked record out of sync for good (it is no longer
  reported); **prefer RECORD** makes RECORD the person's record and keeps the other one out.
* ``duplicate_rule`` (a Salesforce duplicate rule refused to create the person: a record it
  holds is probably them): **prefer RECORD** links that record to the person; **ignore** keeps
  the person out of Salesforce for good (never created). Until then the create waits.
* ``merge_conflict`` (a merge in one CRM would join two people who each have records in the
  other CRM): **keep-apart** records that they are two people (nothing else changes: they
  were kept apart already); **join --survivor RECORD** makes them one person, whose record in
  the other CRM is RECORD; the other person's record there is kept out of sync (merge the
  duplicate in that CRM when you can).

Every decision is recorded on the issue (who decided is the note's business) and holds: the
same records seen again do not reopen it. The people touched are planned again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from connector.errors import ConfigError, Problem
from connector.funnel import SourceRef
from connector.state import StateStore
from connector.state.gone import GoneHow, GoneRecord
from connector.state.issues import IssueSeen, StoredIssue
from connector.state.models import LinkReason
from connector.sync.identity import IssueKind

__all__ = ["Decision", "resolve_issue"]


class Decision(StrEnum):
    IGNORE = "ignored"
    PREFER = "preferred"
    KEEP_APART = "kept_apart"
    JOIN = "joined"


_ALLOWED = {
    IssueKind.AMBIGUOUS_EMAIL.value: (Decision.IGNORE, Decision.PREFER),
    IssueKind.MERGE_CONFLICT.value: (Decision.KEEP_APART, Decision.JOIN),
    IssueKind.DUPLICATE_RULE.value: (Decision.IGNORE, Decision.PREFER),
}


def _refused(issue_id: int, message: str, hint: str = "") -> ConfigError:
    return ConfigError([Problem(where=f"identity issue {issue_id}", message=message, hint=hint)])


def resolve_issue(
    store: StateStore,
    issue_id: int,
    decision: Decision,
    *,
    record: SourceRef | None = None,
    note: str | None = None,
) -> StoredIssue:
    """Carry out and record a decision. ``record`` is the record to prefer (``prefer``) or the
    surviving record in the other CRM (``join``). Refused (``ConfigError``, nothing changed)
    when the decision does not fit the issue."""
    issue = store.issues.get(issue_id)
    if issue is None:
        raise _refused(issue_id, "no such issue", "list them with `crmsync identity list`")
    if not issue.open:
        raise _refused(issue_id, f"already resolved ({issue.resolution})")
    allowed = _ALLOWED.get(issue.kind, ())
    if decision not in allowed:
        raise _refused(
            issue_id,
            f"a {issue.kind} issue cannot be resolved with {decision.value}",
            "choose one of: " + ", ".join(d.value for d in allowed),
        )
    needs_record = decision in (Decision.PREFER, Decision.JOIN)
    if needs_record != (record is not None):
        raise _refused(
            issue_id,
            "name the record to keep" if needs_record else "this decision takes no record",
        )
    with store.transaction():
        if issue.kind == IssueKind.DUPLICATE_RULE.value:
            _refused_create(store, issue, decision, record)
        elif decision is Decision.PREFER:
            assert record is not None
            _prefer(store, issue, record)
        elif decision is Decision.JOIN:
            assert record is not None
            _join(store, issue, record)
        store.dirty.mark(issue.people, "identity decision")
        return store.issues.resolve(issue_id, decision.value, note)


def _left_out(store: StateStore, ref: SourceRef, why: str) -> None:
    """Keep ``ref`` out of sync for good: an ambiguous-address issue about it, decided."""
    store.issues.seen(
        [IssueSeen(kind=IssueKind.AMBIGUOUS_EMAIL.value, record=str(ref), detail=why)]
    )
    for found in store.issues.open_for_records([str(ref)]):
        if found.kind == IssueKind.AMBIGUOUS_EMAIL.value and found.record == str(ref):
            store.issues.resolve(found.id, Decision.IGNORE.value, why)


def _prefer(store: StateStore, issue: StoredIssue, chosen: SourceRef) -> None:
    named = {issue.record, issue.other}
    if str(chosen) not in named:
        raise _refused(issue.id, f"{chosen} is not one of this issue's records")
    if not issue.people:
        raise _refused(issue.id, "the issue names no person to give the record to")
    person = issue.people[0]
    if str(chosen) == issue.other:
        # The linked record stays; the unlinked one is left out (as ``ignore``).
        return
    holder = SourceRef.parse(issue.other) if issue.other else None
    if holder is not None and store.links.active(holder) is not None:
        store.links.close(holder)
        _left_out(store, holder, f"identity issue {issue.id}: {chosen} preferred")
    store.links.move(chosen, store.people.current(person), LinkReason.DECISION)


def _refused_create(
    store: StateStore, issue: StoredIssue, decision: Decision, record: SourceRef | None
) -> None:
    """A create a duplicate rule refused: link the record Salesforce matched (``prefer``), or
    keep the person out of that CRM for good (``ignore``). Its waiting dead letter goes."""
    refused = SourceRef.parse(issue.record)
    person = store.people.current(issue.people[0])
    if decision is Decision.PREFER:
        assert record is not None
        if record.system is not refused.system:
            raise _refused(issue.id, f"{record} is not a {refused.system.value} record")
        owner = store.links.active(record)
        if owner is not None and store.people.current(owner.person_id) != person:
            raise _refused(
                issue.id,
                f"{record} belongs to another person already",
                "resolve that one first, or merge the records in the CRM",
            )
        store.links.move(record, person, LinkReason.DECISION)
    else:
        store.gone.record(
            [GoneRecord(ref=refused, person_id=person, how=GoneHow.NOT_CREATED, gone_at=_now())]
        )
    store.dead_letters.drop(
        letter.id
        for letter in store.dead_letters.list(system=refused.system)
        if letter.ref == refused
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _join(store: StateStore, issue: StoredIssue, survivor: SourceRef) -> None:
    if len(issue.people) != 2:
        raise _refused(issue.id, "the issue does not name the two people to join")
    keep, absorb = (store.people.current(person) for person in issue.people)
    both = store.links.for_people([keep, absorb])
    elsewhere = [
        link.ref for links in both.values() for link in links if link.ref.system is survivor.system
    ]
    if survivor not in elsewhere:
        raise _refused(
            issue.id,
            f"{survivor} is not a {survivor.system.value} record of either person",
            "name one of: " + ", ".join(str(ref) for ref in elsewhere),
        )
    if keep != absorb:
        store.people.merge(absorb, keep)
    for ref in elsewhere:
        if ref != survivor:  # a Lead or a Contact: the survivor is the one record there
            store.links.close(ref)
            _left_out(store, ref, f"identity issue {issue.id}: joined, {survivor} survives")
    store.dirty.mark([keep], "identity decision")
