"""Identity resolution: which canonical person each CRM record belongs to.

Order, first match wins:

1. **Stored link**: the record was linked before.
2. **Salesforce conversion**: a converted Lead's person follows ``ConvertedContactId``; the
   Contact joins the Lead's person (keeping its history) and the Lead's link is closed.
3. **Salesforce merge**: a record deleted by a merge (``MasterRecordId``) hands its person to
   the survivor. **HubSpot merge**: a contact whose ``hs_merged_object_ids`` name linked
   contacts takes over their person.
4. **Normalised e-mail**: a person with this address and no record of the same object type in
   the same system gets the record. A Salesforce Contact joins a person that only has a Lead
   (the Contact wins: writes go to it). Two records of one object type in one system sharing an
   address are *ambiguous*: the later one is reported and left unlinked, never merged silently.
5. **New person.**

When steps 2 or 3 find that two stored people are one human, the newer person is merged into
the one with the longer history. Deleted records close their links.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from connector.errors import System
from connector.funnel import Person, SourceRef, email_or_none
from connector.state import NewObservation, StateStore
from connector.state.models import LinkReason, new_id

__all__ = ["Departure", "IdentityIssue", "IssueKind", "RecordIdentity", "Resolution", "resolve"]


@dataclass(frozen=True, slots=True)
class RecordIdentity:
    """The identity facts of one pulled record (its field values travel separately)."""

    ref: SourceRef
    email: str | None
    deleted: bool = False
    converted_contact_id: str | None = None  # Salesforce Lead converted to this Contact
    master_record_id: str | None = None  # Salesforce merge survivor of a deleted record
    merged_ids: tuple[str, ...] = ()  # HubSpot ids merged into this contact


class IssueKind(StrEnum):
    AMBIGUOUS_EMAIL = "ambiguous_email"
    """Two records of one object type in one CRM share an address: the later one is left
    unlinked until the duplicate is resolved (an open issue)."""
    MERGE_CONFLICT = "merge_conflict"
    """A merge or conversion in one CRM would join two people who each have records in the
    other CRM: kept apart until an admin decides (an open issue)."""
    DUPLICATE_RULE = "duplicate_rule"
    """A Salesforce duplicate rule refused to create the person (``DUPLICATES_DETECTED``): a
    record Salesforce holds is probably them. Their create waits until an admin decides."""
    MERGED_PEOPLE = "merged_people"
    """Two people found to be one and joined (a conversion, a merge): reported, not open."""

    @property
    def actionable(self) -> bool:
        """Kept as state until resolved (``crmsync identity``)."""
        return self is not IssueKind.MERGED_PEOPLE


@dataclass(frozen=True, slots=True)
class IdentityIssue:
    """Something the run report shows: an ambiguous match, or two people found to be one."""

    kind: IssueKind
    ref: SourceRef
    detail: str
    other: SourceRef | None = None
    people: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Departure:
    """A linked record that left its person: deleted, or merged away into ``survivor``."""

    ref: SourceRef
    person_id: str
    merged: bool = False
    survivor: str | None = None
    converted: bool = False


@dataclass
class Resolution:
    """Each record's person (``None``: left unlinked or deleted) and what the run noticed."""

    person_of: dict[SourceRef, str | None] = field(default_factory=dict)
    issues: list[IdentityIssue] = field(default_factory=list)
    departed: list[Departure] = field(default_factory=list)
    created: int = 0
    linked: int = 0


_CONTACT_TYPES = frozenset({"Contact", "contacts"})


def _contact_ref(record: RecordIdentity) -> SourceRef | None:
    if record.converted_contact_id is None:
        return None
    return SourceRef(
        system=System.SALESFORCE, object_type="Contact", record_id=record.converted_contact_id
    )


def _merged_refs(record: RecordIdentity) -> list[SourceRef]:
    refs = [
        SourceRef(system=record.ref.system, object_type=record.ref.object_type, record_id=other)
        for other in record.merged_ids
        if other != record.ref.record_id
    ]
    if record.master_record_id and record.master_record_id != record.ref.record_id:
        refs.append(
            SourceRef(
                system=record.ref.system,
                object_type=record.ref.object_type,
                record_id=record.master_record_id,
            )
        )
    return refs


class _Resolver:
    """Resolves one page with a handful of statements, whatever its size.

    Everything the common steps need is read up front for the whole page (the records' links,
    the people their e-mail addresses match and those people's records); new people and new
    links are written in one go at the end. The rare steps (moving a link, merging people)
    write through at once, after the pending writes, so the store is never behind them.
    """

    def __init__(
        self,
        store: StateStore,
        records: Sequence[RecordIdentity],
        dismissed: frozenset[SourceRef] = frozenset(),
    ) -> None:
        self.store = store
        self.dismissed = dismissed
        self.result = Resolution()
        self.new_people: list[Person] = []
        self.new_links: dict[SourceRef, tuple[SourceRef, str, LinkReason]] = {}
        self.closing: set[SourceRef] = set()
        wanted: list[SourceRef] = []
        for record in records:
            wanted.append(record.ref)
            if (contact := _contact_ref(record)) is not None:
                wanted.append(contact)
            wanted.extend(_merged_refs(record))
        self.links = {ref: link.person_id for ref, link in store.links.resolve(wanted).items()}
        # Unmerged people per normalised address, oldest first (people created on this page
        # are appended). Only records without a stored link can need the e-mail step; an
        # address not asked for here (a link closed earlier on the page) is looked up when
        # it is needed.
        asked = {
            address
            for record in records
            if not record.deleted
            and record.ref not in self.links
            and (address := email_or_none(record.email)) is not None
        }
        self.by_email: dict[str, list[str]] = store.people.ids_by_emails(asked)
        self.asked = asked
        # The active records of the people loaded so far (the e-mail candidates, at first).
        self.records_of: dict[str, set[SourceRef]] = {}
        self.owner: dict[SourceRef, str] = {}  # the reverse of records_of
        self._load({pid for matches in self.by_email.values() for pid in matches})

    # -- the store, in bulk --------------------------------------------------------------

    def _load(self, person_ids: set[str]) -> None:
        missing = person_ids - self.records_of.keys()
        if not missing:
            return
        self.flush()
        found = self.store.links.for_people(missing)
        for person_id in missing:
            refs = {link.ref for link in found.get(person_id, [])}
            self.records_of[person_id] = refs
            self.owner.update(dict.fromkeys(refs, person_id))

    def flush(self) -> None:
        """Write what is pending: new people, then new links, then closed links."""
        if self.new_people:
            self.store.people.upsert_many(self.new_people)
            self.new_people = []
        if self.new_links:
            self.store.links.add_many(self.new_links.values())
            self.new_links = {}
        if self.closing:
            self.store.links.close_many(self.closing)
            self.closing = set()

    # -- steps ---------------------------------------------------------------------------

    def _taken(self, person_id: str) -> set[tuple[System, str]]:
        self._load({person_id})
        return {(ref.system, ref.object_type) for ref in self.records_of[person_id]}

    def _owned(self, ref: SourceRef, person_id: str | None) -> None:
        """Keep ``records_of`` true: ``ref`` now belongs to ``person_id`` (or nobody)."""
        previous = self.owner.pop(ref, None)
        if previous is not None and previous in self.records_of:
            self.records_of[previous].discard(ref)
        if person_id is not None and person_id in self.records_of:
            self.records_of[person_id].add(ref)
            self.owner[ref] = person_id

    def _link(self, ref: SourceRef, person_id: str, reason: LinkReason) -> None:
        current = self.links.get(ref)
        if current == person_id:
            return
        if current is None and ref not in self.closing:
            self.new_links[ref] = (ref, person_id, reason)
        else:
            self.flush()
            self.store.links.move(ref, person_id, reason)
        self.links[ref] = person_id
        self._owned(ref, person_id)
        self.result.linked += 1

    def _close(self, ref: SourceRef) -> None:
        """End a record's link (deleted, converted, merged away)."""
        self.closing.add(ref)
        self.links.pop(ref, None)
        self._owned(ref, None)

    def _conflict(self, keep: str, absorb: str, ref: SourceRef, other: SourceRef) -> bool:
        """Would joining these two people give one of them two records in the CRM that did
        not merge them? Then they are kept apart and an admin decides."""
        elsewhere = System.HUBSPOT if ref.system is System.SALESFORCE else System.SALESFORCE
        self._load({keep, absorb})
        if not all(
            any(linked.system is elsewhere for linked in self.records_of[person])
            for person in (keep, absorb)
        ):
            return False
        self.result.issues.append(
            IdentityIssue(
                IssueKind.MERGE_CONFLICT,
                ref,
                f"{ref.system.value} joined this record with {other}, but their people each "
                f"have records in {elsewhere.value}: kept apart (resolve with "
                "`crmsync identity resolve`)",
                other=other,
                people=(keep, absorb),
            )
        )
        return True

    def _merge(self, keep: str, absorb: str, ref: SourceRef, why: str) -> str:
        """Merge two people found to be one; the one with the longer history stays."""
        if keep == absorb:
            return keep
        self.flush()
        records = self.store.people.get_many([keep, absorb])
        if keep in records and absorb in records:
            if records[absorb].created_at < records[keep].created_at:
                keep, absorb = absorb, keep
            self.store.people.merge(absorb, keep)
            # The records move with their links: the next evaluation of ``keep`` must see every
            # record it now has, or which record is primary would change a run later.
            self.store.observations.record(
                NewObservation(item.ref, keep, item.modified_at, item.values, item.deleted)
                for item in self.store.observations.for_people([absorb]).get(absorb, [])
            )
            # The joined person's fields follow the records now, as the CRM's merge left them
            # (HubSpot: the primary's values, blanks filled from the merged one), not what the
            # older person last held: their next evaluation is a first sight of every field.
            self.store.observations.forget_baselines(keep)
        for linked_ref, person_id in list(self.links.items()):
            if person_id == absorb:
                self.links[linked_ref] = keep
        for matches in self.by_email.values():
            if absorb in matches:
                matches.remove(absorb)
        # Both reload from the store (where their links now are) when next needed.
        self.records_of.pop(keep, None)
        self.records_of.pop(absorb, None)
        self.result.issues.append(IdentityIssue(IssueKind.MERGED_PEOPLE, ref, why))
        return keep

    def _new_person(self, record: RecordIdentity) -> str:
        person_id = new_id()
        self.new_people.append(Person(id=person_id, email=record.email))
        self.records_of[person_id] = set()
        if (email := email_or_none(record.email)) is not None:
            self.by_email.setdefault(email, []).append(person_id)
        self.result.created += 1
        self._link(record.ref, person_id, LinkReason.CREATED)
        return person_id

    def _by_email(self, record: RecordIdentity) -> str | None:
        email = email_or_none(record.email)
        if email is None:
            return None
        if email not in self.asked:
            self.flush()
            self.by_email[email] = self.store.people.ids_by_emails([email]).get(email, [])
            self.asked.add(email)
        candidates = self.by_email.get(email, [])
        system, kind = record.ref.system, record.ref.object_type
        for candidate in candidates:
            if (system, kind) not in self._taken(candidate):
                return candidate
        if candidates:
            if record.ref not in self.dismissed:  # an admin said: keep it out of sync
                holder = next(
                    (
                        linked
                        for linked in sorted(self.records_of.get(candidates[0], ()), key=str)
                        if (linked.system, linked.object_type) == (system, kind)
                    ),
                    None,
                )
                self.result.issues.append(
                    IdentityIssue(
                        IssueKind.AMBIGUOUS_EMAIL,
                        record.ref,
                        f"another {system.value} {kind} already has this e-mail address; "
                        "left unlinked (merge or fix the duplicate in the CRM, or decide with "
                        "`crmsync identity resolve`)",
                        other=holder,
                        people=tuple(candidates[:1]),
                    )
                )
            return ""
        return None

    def resolve(self, record: RecordIdentity) -> None:
        ref = record.ref
        person_id = self.links.get(ref)
        if record.deleted:
            # A merge loser hands its person to the survivor before its link closes, unless
            # that would give one person two records in the other CRM (kept apart: a conflict).
            survivor_id = None
            for survivor in _merged_refs(record):
                survivor_id = survivor.record_id
                if person_id and survivor in self.links:
                    keep = self.links[survivor]
                    if not self._conflict(keep, person_id, survivor, ref):
                        self._merge(keep, person_id, ref, "merged in Salesforce")
            if ref in self.links:
                owner = self.links[ref]
                self._close(ref)
                self.result.departed.append(
                    Departure(ref, owner, merged=survivor_id is not None, survivor=survivor_id)
                )
            self.result.person_of[ref] = None
            return
        if person_id is None:
            for other in _merged_refs(record):
                if other in self.links:
                    person_id = self.links[other]
                    break
        contact = _contact_ref(record)
        if contact is not None:
            contact_person = self.links.get(contact)
            if person_id is None:
                person_id = contact_person
            elif contact_person is not None and contact_person != person_id:
                if self._conflict(contact_person, person_id, contact, ref):
                    # Kept apart: the Lead's person loses the Lead (converted away, never
                    # re-created); the Contact stays with its own person.
                    self._close(ref)
                    self.result.departed.append(Departure(ref, person_id, converted=True))
                    self.result.person_of[ref] = None
                    self.result.person_of[contact] = contact_person
                    return
                person_id = self._merge(person_id, contact_person, ref, "lead converted")
            if person_id is None:
                person_id = self._by_email(record) or None
            if person_id is None:
                person_id = self._new_person(record)
            self._link(contact, person_id, LinkReason.CONVERSION)
            self._link(ref, person_id, LinkReason.STORED)
            # The converted Lead is history now: writes go to the Contact.
            self._close(ref)
            self.result.person_of[ref] = None
            self.result.person_of[contact] = person_id
            return
        if person_id is not None:
            for other in _merged_refs(record):
                other_person = self.links.get(other)
                if (
                    other_person is not None
                    and other_person != person_id
                    and not self._conflict(person_id, other_person, ref, other)
                ):
                    person_id = self._merge(person_id, other_person, ref, "merged in HubSpot")
                if other in self.links:
                    owner = self.links[other]
                    self._close(other)
                    self.result.departed.append(
                        Departure(other, owner, merged=True, survivor=ref.record_id)
                    )
            self._link(ref, person_id, LinkReason.STORED)
            self.result.person_of[ref] = person_id
            return
        if ref in self.dismissed:
            # An admin decided this record stays out of sync: no e-mail match, no new person.
            self.result.person_of[ref] = None
            return
        matched = self._by_email(record)
        if matched == "":
            self.result.person_of[ref] = None
            return
        if matched is not None:
            self._link(ref, matched, LinkReason.EMAIL_MATCH)
            self.result.person_of[ref] = matched
            return
        self.result.person_of[ref] = self._new_person(record)


def resolve(
    store: StateStore,
    records: Sequence[RecordIdentity],
    *,
    dismissed: frozenset[SourceRef] = frozenset(),
) -> Resolution:
    """Resolve a page of records to people, linking and merging in the state store.

    Call inside ``store.transaction()`` together with the rest of the page's work.
    Contacts are resolved before Leads so that "the Contact wins" holds within a page too.
    ``dismissed`` records (an admin decided to keep them out of sync) stay unlinked silently.
    """
    resolver = _Resolver(store, records, dismissed)
    ordered = sorted(
        records, key=lambda r: (r.ref.object_type not in _CONTACT_TYPES, r.ref.record_id)
    )
    for record in ordered:
        resolver.resolve(record)
    resolver.flush()
    return resolver.result
