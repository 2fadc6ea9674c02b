"""Hostile values in every mapped field round-trip, and the run after the one that carried them
writes nothing (issue 18, "What the soak found").

People are created and edited the way users do it, through each CRM's own API, with values a
careless import or a curious user produces: NUL and other control characters, 60,000-character
titles, emoji and other characters outside the Basic Multilingual Plane, SOQL's quote characters,
padding, CRLF, zero-width and combining characters (NFC and NFD spellings of the same word),
text that looks like a number or a date, the empty string and whitespace.

What is expected, exactly (``canon(v)`` is ``v`` with leading and trailing whitespace removed,
as Python's ``str.strip`` does it, or blank when nothing is left: the ``trim`` transform):

* The CRM a user typed a value into keeps it byte for byte, padding included: crmsync never
  rewrites a value it read to its own normal form, and never shortens one the CRM holds.
* The other CRM receives ``canon(v)``. Salesforce receives it cut to the field's length, counted
  in UTF-16 code units (an emoji counts two) and never in the middle of a surrogate pair; HubSpot
  holds 65,536 characters, so it gets the whole value. Nothing else changes: no Unicode
  normalisation, no stripping of control, zero-width or combining characters, no re-spelling of
  numbers or dates that are text.
* A text value in HubSpot's ``annualrevenue`` (a text property on contacts) that is not a number
  is not read (a data issue); one that is a number reaches Salesforce's AnnualRevenue as that
  number, unrounded: the API stores decimals as sent and only the UI rounds to the field's
  decimal places (Salesforce Knowledge Article 000212661).
* Salesforce keeps no empty strings: ``""`` saves as null
  (https://salesforce.stackexchange.com/questions/333174), so blank and empty compare equal.
* Salesforce requires LastName and Company on a Lead. A person HubSpot has no such value for is
  created with crmsync's placeholder ``[not provided]``, which reads back as blank: it is never
  copied into HubSpot.

Why Salesforce lengths count UTF-16 code units: Salesforce's platform runs on Java strings.
Salesforce Help article 005166849, "Surrogate Pair Characters Are Treated as Two Characters"
(https://help.salesforce.com/s/articleView?id=005166849), says formula functions such as LEN
count a surrogate pair as two characters and that the Apex String class does the same; Java's
``String.length()`` is "the number of 16-bit Unicode characters in the string". Describe's
``length`` is a count of "Unicode characters (not bytes)" (Help article 000381913). Counting
UTF-16 code units is never longer than what Salesforce holds, whichever of the two counts it
applies to a field, so crmsync truncates by it and the emulator enforces it. (Both used to count
code points: crmsync sent 128 emoji to the 128-character Title, which an org counting as Java
does refuses with STRING_TOO_LONG, and the emulator let it through.)

The second test reads the same values through a Bulk API 2.0 backfill (CSV) first and REST
(JSON) after: the two readings must agree to the byte, NUL included.

Lone surrogates are left out: they cannot be sent as UTF-8 JSON, so no CRM returns one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connector.sandbox.runner import Sandbox
from connector.settings import Settings
from connector.state import StateStore
from connector.sync.wiring import connected

from ._support import (
    Users,
    calls,
    hubspot_contact,
    hubspot_people,
    next_second,
    reset,
    salesforce_people,
    stamps,
)
from .test_e2e import settings_for

HOSTILE: dict[str, str] = {
    "nul": "Ada\x00Lovelace",
    "controls": "x\x01\x07\x1b\x7fy",
    "long": "L" * 59_999 + "!",
    "long_words": "w " * 30_000,
    "astral": "👩🏽‍💻 Café 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "emoji_run": "😀" * 200,
    "soql_quotes": "O'Brien \\ \"Q\" '' \\'",
    "padding": "  padded\t \n",
    "crlf": "line one\r\nline two\rline three",
    "zero_width": "zero\u200bwidth\ufeffjoin\u200d",
    "nfd": "Cafe\u0301 Zu\u0308rich",
    "nfc": "Caf\u00e9 Z\u00fcrich",
    "unicode_spaces": "\u00a0\u2003spaced\u3000",
    "number": "00123",
    "exponent": "1e3",
    "decimal": "12.345",
    "date": "2026-01-05",
    "empty": "",
    "whitespace": "   ",
}

# Mapped text fields: HubSpot property -> Salesforce Lead field (mappings/contact.yaml).
TEXT_FIELDS: dict[str, str] = {
    "firstname": "FirstName",
    "lastname": "LastName",
    "jobtitle": "Title",
    "phone": "Phone",
    "country": "Country",
    "company": "Company",
    "industry": "Industry",
}
TWO_WAY = ("firstname", "lastname", "jobtitle", "country")
REQUIRED = ("LastName", "Company")
PLACEHOLDER = "[not provided]"
WRITES = ("PATCH", "POST", "PUT", "DELETE")
READS_BY_POST = ("/search", "batch/read", "oauth2", "__sandbox__")


def canon(value: str) -> str | None:
    return value.strip() or None


def utf16_cut(value: str, limit: int) -> str:
    """The longest prefix of ``value`` at most ``limit`` UTF-16 code units long."""
    kept, used = [], 0
    for char in value:
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            break
        kept.append(char)
    return "".join(kept)


def for_salesforce(value: str | None, length: int) -> str | None:
    return None if value is None else utf16_cut(value, length)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(seed=29, people=60) as started:
        yield started


def lead_lengths(sandbox: Sandbox) -> dict[str, int]:
    spec = sandbox.salesforce.store.table("Lead").spec
    found: dict[str, int] = {}
    for name in TEXT_FIELDS.values():
        described = spec.field(name)
        assert described is not None
        assert described.length
        found[name] = described.length
    return found


def salesforce_by_email(sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    rows = sandbox.salesforce.store.table("Lead").rows.values()
    return {str(row["Email"]): row for row in rows if row.get("Email") and not row["IsDeleted"]}


def hubspot_by_email(sandbox: Sandbox) -> dict[str, dict[str, str]]:
    return {
        record.props["email"]: dict(record.props)
        for record in sandbox.hubspot.store.records("contacts")
        if record.props.get("email")
    }


def writes(sandbox: Sandbox) -> dict[str, int]:
    """Calls that change data in either emulator (HubSpot searches and batch reads are POSTs)."""
    return {
        endpoint: count
        for endpoint, count in calls(sandbox).items()
        if endpoint.split()[1] in WRITES and not any(read in endpoint for read in READS_BY_POST)
    }


def slug(name: str) -> str:
    """An address part for a person; the one with SOQL quotes in its values gets one in its
    e-mail too (``o'brien`` is a valid address, and crmsync looks people up by address)."""
    return "o'brien" if name == "soql_quotes" else name.replace("_", "-")


def seed_hostile_people(
    sandbox: Sandbox, lengths: dict[str, int]
) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """New people typed into one CRM, hostile values in every mapped field. Returns what was
    typed, by e-mail: into HubSpot (by property) and into Salesforce (by Lead field)."""
    users = Users(sandbox)
    in_hubspot: dict[str, dict[str, str]] = {}
    in_salesforce: dict[str, dict[str, str]] = {}
    for name, value in HOSTILE.items():
        email = f"hs-{slug(name)}@hostile.example"
        properties = {prop: value for prop in TEXT_FIELDS} | {"annualrevenue": value}
        users.hubspot(
            "POST",
            "/crm/v3/objects/contacts",
            {"properties": {**properties, "email": email, "lifecyclestage": "salesqualifiedlead"}},
        )
        in_hubspot[email] = properties

        # What Salesforce accepts: the value cut to each field, required fields never blank.
        email = f"sf-{slug(name)}@hostile.example"
        fields = {field: utf16_cut(value, lengths[field]) for field in TEXT_FIELDS.values()}
        for field in REQUIRED:
            if not fields[field].strip():
                fields[field] = f"Hostile{fields[field]}"
        users.salesforce(
            "POST", "sobjects/Lead", {**fields, "Email": email, "Status": "Working - Contacted"}
        )
        in_salesforce[email] = fields
    return in_hubspot, in_salesforce


def edit_linked_people(
    sandbox: Sandbox, lengths: dict[str, int]
) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """Hostile values typed over the two-way fields of people linked in both CRMs (a Lead in
    Salesforce), one person per value and CRM. Returns what was typed, by person id."""
    users = Users(sandbox)
    sf, hs = salesforce_people(sandbox), hubspot_people(sandbox)
    linked = sorted(p for p in set(sf) & set(hs) if sf[p]["_type"] == "Lead")
    assert len(linked) >= 2 * len(HOSTILE), "the seeded world links enough Leads"
    in_hubspot: dict[str, dict[str, str]] = {}
    in_salesforce: dict[str, dict[str, str]] = {}
    for index, value in enumerate(HOSTILE.values()):
        # LastName is required in Salesforce: clearing it there is refused, not synced.
        props = {p: value for p in TWO_WAY if p != "lastname" or canon(value)}
        person = linked[2 * index]
        users.edit_hubspot(hubspot_contact(sandbox, person), props)
        in_hubspot[person] = props

        person = linked[2 * index + 1]
        fields = {TEXT_FIELDS[p]: utf16_cut(value, lengths[TEXT_FIELDS[p]]) for p in props}
        users.salesforce("PATCH", f"sobjects/Lead/{sf[person]['Id']}", dict(fields))
        in_salesforce[person] = fields
    return in_hubspot, in_salesforce


def hubspot_value(props: dict[str, str], name: str) -> str | None:
    return props.get(name) or None


def salesforce_value(row: dict[str, Any], name: str) -> Any:
    value = row.get(name)
    return None if value == "" else value


def expected_revenue(typed: str) -> float | None:
    try:
        number = float(typed.strip())
    except ValueError:
        return None
    return number


def check_created(
    sandbox: Sandbox,
    lengths: dict[str, int],
    in_hubspot: dict[str, dict[str, str]],
    in_salesforce: dict[str, dict[str, str]],
) -> list[str]:
    wrong: list[str] = []
    sf, hs = salesforce_by_email(sandbox), hubspot_by_email(sandbox)
    for email, typed in in_hubspot.items():
        if email not in sf:
            wrong.append(f"{email}: no Lead in Salesforce")
            continue
        for prop, field in TEXT_FIELDS.items():
            kept = hubspot_value(hs[email], prop)
            if kept != (typed[prop] or None):
                wrong.append(f"{email} HubSpot {prop}: kept {kept!r:.60}")
            want = for_salesforce(canon(typed[prop]), lengths[field])
            if want is None and field in REQUIRED:
                want = PLACEHOLDER
            got = salesforce_value(sf[email], field)
            if got != want:
                wrong.append(f"{email} Salesforce {field}: {got!r:.60} != {want!r:.60}")
        revenue = sf[email].get("AnnualRevenue")
        if revenue != expected_revenue(typed["annualrevenue"]):
            wrong.append(f"{email} Salesforce AnnualRevenue: {revenue!r}")
    for email, fields in in_salesforce.items():
        if email not in hs:
            wrong.append(f"{email}: no contact in HubSpot")
            continue
        for prop, field in TEXT_FIELDS.items():
            kept = salesforce_value(sf[email], field)
            if kept != (fields[field] or None):
                wrong.append(f"{email} Salesforce {field}: kept {kept!r:.60}")
            got = hubspot_value(hs[email], prop)
            if got != canon(fields[field]):
                wrong.append(f"{email} HubSpot {prop}: {got!r:.60} != {canon(fields[field])!r:.60}")
    return wrong


def check_edited(
    sandbox: Sandbox,
    lengths: dict[str, int],
    in_hubspot: dict[str, dict[str, str]],
    in_salesforce: dict[str, dict[str, str]],
) -> list[str]:
    wrong: list[str] = []
    sf, hs = salesforce_people(sandbox), hubspot_people(sandbox)
    for person, props in in_hubspot.items():
        for prop, typed in props.items():
            field = TEXT_FIELDS[prop]
            if hubspot_value(hs[person], prop) != (typed or None):
                wrong.append(f"{person} HubSpot {prop}: not kept as typed")
            want = for_salesforce(canon(typed), lengths[field])
            got = salesforce_value(sf[person], field)
            if got != want:
                wrong.append(f"{person} Salesforce {field}: {got!r:.60} != {want!r:.60}")
    for person, fields in in_salesforce.items():
        for field, typed in fields.items():
            prop = next(p for p, f in TEXT_FIELDS.items() if f == field)
            if salesforce_value(sf[person], field) != (typed or None):
                wrong.append(f"{person} Salesforce {field}: not kept as typed")
            got = hubspot_value(hs[person], prop)
            if got != canon(typed):
                wrong.append(f"{person} HubSpot {prop}: {got!r:.60} != {canon(typed)!r:.60}")
    return wrong


def synced(sandbox: Sandbox, state_url: str) -> Settings:
    reset(sandbox)
    settings = settings_for(sandbox, state_url)
    with connected(settings) as engine:
        engine.sync()
    next_second()
    return settings


def assert_the_next_run_writes_nothing(sandbox: Sandbox, settings: Settings) -> None:
    next_second()
    before, stamped = writes(sandbox), stamps(sandbox)
    with connected(settings) as engine:
        second = engine.sync()
    assert second.written_total == 0, second.to_json()
    assert writes(sandbox) == before
    assert stamps(sandbox) == stamped, "the second sync changed records"

    # Stronger than "the people the second run saw write nothing": everyone re-evaluated (the
    # daily rescore, a rules change) still plans nothing, so no value is waiting to echo.
    with connected(settings) as engine:
        engine.mark_everyone("check")
        plan, _ = engine.plan()
    assert [(r.record_id, [c.field for c in r.changes]) for r in plan.records] == []
    with StateStore.from_settings(settings) as store:
        assert store.dead_letters.list() == []


def test_hostile_values_round_trip_and_the_next_run_writes_nothing(
    sandbox: Sandbox, state_url: str
) -> None:
    settings = synced(sandbox, state_url)
    lengths = lead_lengths(sandbox)
    created = seed_hostile_people(sandbox, lengths)
    edited = edit_linked_people(sandbox, lengths)
    next_second()

    with connected(settings) as engine:
        first = engine.sync()
    assert first.written_total > 0
    assert first.to_json()["rejections"] == []
    wrong = check_created(sandbox, lengths, *created) + check_edited(sandbox, lengths, *edited)
    assert wrong == []

    assert_the_next_run_writes_nothing(sandbox, settings)
    wrong = check_created(sandbox, lengths, *created) + check_edited(sandbox, lengths, *edited)
    assert wrong == []


def test_hostile_values_read_by_a_bulk_backfill_then_by_rest_agree(
    sandbox: Sandbox, state_url: str
) -> None:
    # The first sync of a store backfills through Bulk API 2.0 (CSV: quoted CRLF, NUL, quotes,
    # empty meaning null); the runs after it read the same records through REST (JSON). Any
    # disagreement between the two readings would show as a write in the second run.
    reset(sandbox)
    lengths = lead_lengths(sandbox)
    created = seed_hostile_people(sandbox, lengths)
    settings = settings_for(sandbox, state_url)
    bulk = settings.salesforce.model_copy(update={"bulk_threshold": 1})
    settings = settings.model_copy(update={"salesforce": bulk})
    next_second()

    with connected(settings) as engine:
        first = engine.sync()
    bulk_reads = [
        e for e in calls(sandbox) if e.startswith("salesforce GET") and "/jobs/query/" in e
    ]
    assert bulk_reads, "the backfill read Salesforce through Bulk API 2.0"
    assert first.to_json()["rejections"] == []
    assert check_created(sandbox, lengths, *created) == []

    assert_the_next_run_writes_nothing(sandbox, settings)
    assert check_created(sandbox, lengths, *created) == []
