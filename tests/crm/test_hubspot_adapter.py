"""The HubSpot adapter against the HubSpot emulator (hubspot-api-client, real sockets)."""

from __future__ import annotations

import abc
import contextlib
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from connector.crm import CrmSink, CrmSource, UpsertRequest, WriteRequest
from connector.crm.hubspot import HubSpotAdapter
from connector.crm.types import RawRecord
from connector.errors import FatalApiError, QuotaExhaustedError
from connector.sandbox.faults import FaultPlan
from connector.sandbox.runner import Sandbox

from .conftest import VirtualTime, reset, set_faults, settings_for, stats

SEARCH = "POST /crm/v3/objects/{objectType}/search"
BATCH = "POST /crm/v3/objects/{objectType}/batch/{action}"


@pytest.fixture
def hs(sandbox: Sandbox, tmp_path: Path) -> Iterator[HubSpotAdapter]:
    reset(sandbox.hubspot.url)
    time = VirtualTime()
    settings = settings_for(sandbox, tmp_path).hubspot
    yield HubSpotAdapter(settings, sleep=time.sleep, clock=time.clock)
    reset(sandbox.hubspot.url)


def pull_all(adapter: HubSpotAdapter, fields: list[str]) -> list[RawRecord]:
    run_start = datetime.now(UTC)
    pages = list(adapter.pull_people("contacts", since=None, run_start=run_start, fields=fields))
    assert pages[-1].done
    return [record for page in pages for record in page.records]


def test_the_adapter_satisfies_both_protocols(hs: HubSpotAdapter) -> None:
    assert isinstance(hs, CrmSource)
    assert isinstance(hs, CrmSink)


def test_pull_is_complete_and_follows_merges(hs: HubSpotAdapter, sandbox: Sandbox) -> None:
    store = sandbox.hubspot.store
    ids = [record.id for record in store.records("contacts")]
    store.merge("contacts", ids[0], ids[1])
    contacts = pull_all(hs, ["lifecyclestage", "firstname"])
    assert sorted(r.id for r in contacts) == sorted(ids[:1] + ids[2:])
    survivor = next(r for r in contacts if r.id == ids[0])
    assert ids[1] in survivor.merged_ids
    assert set(survivor.fields) == {"email", "lifecyclestage", "firstname"}


def test_activity_comes_from_associations_and_batch_reads(
    hs: HubSpotAdapter, sandbox: Sandbox
) -> None:
    contacts = pull_all(hs, [])
    activity = list(
        hs.pull_activity([c.id for c in contacts], since=None, run_start=datetime.now(UTC))
    )
    kinds = {a.object_type for a in activity}
    assert {"emails", "calls", "meetings", "deals", "contact_conversions"} <= kinds
    known = {c.id for c in contacts}
    assert all(set(a.person_ids) <= known for a in activity)
    calls = stats(sandbox.hubspot.url)
    assoc = "POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read"
    chunks = -(-len(contacts) // 100)
    assert calls[assoc] >= 6 * chunks  # one per engagement/deal type per 100 contacts


def test_activity_is_complete_and_batched_to_the_minimum(
    hs: HubSpotAdapter, sandbox: Sandbox
) -> None:
    """Every engagement of every contact, each with all its contacts; association reads run
    side by side, yet engagement ids still gather across chunks into full batches."""
    contacts = pull_all(hs, [])
    store = sandbox.hubspot.store
    expected: dict[str, dict[str, set[str]]] = {}
    for object_type in ("emails", "calls", "meetings", "notes", "tasks", "deals"):
        linked: dict[str, set[str]] = {}
        for contact in contacts:
            for object_id in store.linked_ids("contacts", contact.id, object_type):
                linked.setdefault(object_id, set()).add(contact.id)
        expected[object_type] = linked
    before = stats(sandbox.hubspot.url)
    activity = list(
        hs.pull_activity([c.id for c in contacts], since=None, run_start=datetime.now(UTC))
    )
    got: dict[str, dict[str, set[str]]] = {}
    for record in activity:
        if record.object_type != "contact_conversions":
            got.setdefault(record.object_type, {})[record.id] = set(record.person_ids)
    assert got == {kind: linked for kind, linked in expected.items() if linked}
    calls = stats(sandbox.hubspot.url)
    batches = sum(-(-len(linked) // 100) for linked in expected.values())
    assert len(contacts) > 300  # several chunks of 100 contacts, yet no partial batch each
    # (The contacts' conversion properties came with the search: no batch read for them.)
    assert calls[BATCH] - before.get(BATCH, 0) == batches


def test_schema_from_the_properties_api(hs: HubSpotAdapter, sandbox: Sandbox) -> None:
    schema = hs.describe("contacts")
    assert hs.describe("contacts") is schema
    assert "lead" in schema.fields["lifecyclestage"].picklist_values
    assert not schema.fields["lastmodifieddate"].updateable
    assert schema.fields["crmsync_person_id"].unique
    assert stats(sandbox.hubspot.url)["GET /crm/v3/properties/{objectType}"] == 1


def test_a_207_is_mapped_per_record(hs: HubSpotAdapter) -> None:
    contacts = pull_all(hs, [])
    results = hs.write(
        [
            WriteRequest(
                object_type="contacts",
                record_id=contacts[0].id,
                fields={"crmsync_lead_score": 42.0},
            ),
            WriteRequest(
                object_type="contacts", record_id="999999999", fields={"crmsync_lead_score": 1}
            ),
            WriteRequest(
                object_type="contacts",
                record_id=contacts[1].id,
                fields={"lifecyclestage": "not-a-stage"},
            ),
        ]
    )
    assert [(r.status.value, r.code) for r in results] == [
        ("written", ""),
        ("rejected", "OBJECT_NOT_FOUND"),
        ("rejected", "VALIDATION_ERROR"),
    ]


def test_backward_lifecycle_moves_clear_then_set_and_are_verified(
    hs: HubSpotAdapter, sandbox: Sandbox
) -> None:
    late = [
        c
        for c in pull_all(hs, ["lifecyclestage"])
        if c.fields["lifecyclestage"] in ("opportunity", "customer")
    ][:2]
    assert late
    before = stats(sandbox.hubspot.url).get(BATCH, 0)
    results = hs.write(
        [
            WriteRequest(
                object_type="contacts",
                record_id=c.id,
                fields={"lifecyclestage": "lead"},
                clear_first=("lifecyclestage",),
            )
            for c in late
        ]
    )
    assert all(r.ok for r in results)
    assert stats(sandbox.hubspot.url)[BATCH] - before == 3  # clear, set, read back
    for contact in late:
        record = sandbox.hubspot.store.get("contacts", contact.id)
        assert record is not None
        assert record.props["lifecyclestage"] == "lead"


def test_upsert_on_crmsync_person_id_never_duplicates(hs: HubSpotAdapter) -> None:
    requests = [
        UpsertRequest(
            object_type="contacts",
            external_id=f"crm-{n}",
            fields={"email": f"new.person{n}@example.org", "firstname": "New"},
        )
        for n in range(3)
    ]
    first = hs.upsert(requests)
    again = hs.upsert(requests)
    assert [r.created for r in first] == [True] * 3
    assert [r.created for r in again] == [False] * 3
    assert [r.record_id for r in first] == [r.record_id for r in again]


def test_a_daily_429_stops_the_run(hs: HubSpotAdapter, sandbox: Sandbox) -> None:
    set_faults(sandbox.hubspot.url, FaultPlan(daily_quota_remaining=0))
    with pytest.raises(QuotaExhaustedError) as caught:
        hs.describe("contacts")
    assert caught.value.code == "DAILY"
    assert stats(sandbox.hubspot.url)["GET /crm/v3/properties/{objectType}"] == 1


def test_archived_contacts_come_back_as_deletions(hs: HubSpotAdapter, sandbox: Sandbox) -> None:
    store = sandbox.hubspot.store
    gone = store.records("contacts")[5]
    store.archive("contacts", gone)
    contacts = pull_all(hs, ["firstname"])
    deleted = [c for c in contacts if c.deleted]
    assert [c.id for c in deleted] == [gone.id]
    assert gone.id not in {c.id for c in contacts if not c.deleted}
    assert deleted[0].modified_at <= datetime.now(UTC)


def test_contacts_seen_for_the_first_time_bring_all_their_activity(
    hs: HubSpotAdapter, sandbox: Sandbox
) -> None:
    """A contact linked for the first time in an incremental run (one that was ambiguous, or
    that HubSpot named as the owner of an e-mail address) has older engagements too: the
    window filters only the activity of contacts crmsync already knows."""
    contacts = pull_all(hs, [])
    first = [c.id for c in contacts[:150]]
    everything = list(hs.pull_activity(first, since=None, run_start=datetime.now(UTC)))
    later = datetime.now(UTC)
    windowed = list(hs.pull_activity(first, since=later, run_start=later))
    assert everything  # the seed gives these contacts engagements, all older than ``later``
    assert {(a.object_type, a.id) for a in windowed} == {(a.object_type, a.id) for a in everything}


def test_contacts_are_read_by_id(hs: HubSpotAdapter, sandbox: Sandbox) -> None:
    contacts = {c.id: c for c in pull_all(hs, ["lifecyclestage"])}
    wanted = [*sorted(contacts)[:150], "999999999"]
    before = stats(sandbox.hubspot.url).get(BATCH, 0)
    got = hs.read_people("contacts", wanted, fields=["lifecyclestage"])
    assert sorted(r.id for r in got) == wanted[:150]  # the unknown id is left out
    assert all(r == contacts[r.id] for r in got)  # as the pull shows them
    assert stats(sandbox.hubspot.url)[BATCH] - before == 2  # 100 ids per batch read


class LocalServer(abc.ABC):
    """A TCP listener on a free loopback port; each accepted connection goes to
    :meth:`handle`, one after another, on the listener's thread."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.handle(client)

    @abc.abstractmethod
    def handle(self, client: socket.socket) -> None:
        """Serve one accepted connection."""

    def close(self) -> None:
        self._listener.close()


class CountingProxy(LocalServer):
    """A TCP relay in front of the emulator that counts the connections it accepts."""

    def __init__(self, target: str) -> None:
        parsed = urlsplit(target)
        self._target = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.accepted = 0
        super().__init__()

    def handle(self, client: socket.socket) -> None:
        self.accepted += 1
        upstream = socket.create_connection(self._target)
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        # Either side closing (or resetting) its connection ends the relay; both ends go down.
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)


def test_sdk_calls_reuse_their_connections(sandbox: Sandbox, tmp_path: Path) -> None:
    """The SDK builds a new API client, with a new connection pool, on every
    ``client.crm...batch_api`` access unless given an ``api_factory``: one TCP connection per
    call. The adapter keeps one per API, so one after another its calls share a connection."""
    reset(sandbox.hubspot.url)
    proxy = CountingProxy(sandbox.hubspot.url)
    try:
        settings = settings_for(sandbox, tmp_path).hubspot.model_copy(
            update={"base_url": proxy.url}
        )
        adapter = HubSpotAdapter(settings)
        records = pull_all(adapter, ["email"])[:200]
        before = proxy.accepted
        for start in range(0, 200, 50):  # four batch calls, one after another
            written = adapter.write(
                [
                    WriteRequest(object_type="contacts", record_id=r.id, fields={"jobtitle": "CEO"})
                    for r in records[start : start + 50]
                ]
            )
            assert all(result.ok for result in written)
        opened = proxy.accepted - before
    finally:
        proxy.close()
        reset(sandbox.hubspot.url)
    assert opened == 1


class ScriptedHubSpot(LocalServer):
    """A bare HTTP server answering each request with the next scripted raw response, to show
    what the adapter does with answers the emulator never gives: a body cut short, a 200
    that is not JSON."""

    def __init__(self, responses: list[bytes]) -> None:
        self._responses = list(responses)
        self.requests = 0
        super().__init__()

    def handle(self, client: socket.socket) -> None:
        with client, contextlib.suppress(OSError):
            request = b""
            while b"\r\n\r\n" not in request:
                request += client.recv(65536)
            head, _, body = request.partition(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            while len(body) < length:
                body += client.recv(65536)
            self.requests += 1
            client.sendall(self._responses.pop(0))
            client.shutdown(socket.SHUT_RDWR)  # one answer per connection


def _answer(body: bytes, *, declared: int | None = None) -> bytes:
    length = len(body) if declared is None else declared
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {length}\r\nConnection: close\r\n\r\n".encode()
        + body
    )


_CONTACT = (
    b'{"status":"COMPLETE","results":[{"id":"101","properties":{"email":"a@example.com",'
    b'"lastmodifieddate":"2026-03-01T09:00:00.123Z"},"createdAt":"2026-03-01T08:00:00Z",'
    b'"updatedAt":"2026-03-01T09:00:00.123Z","archived":false}],'
    b'"startedAt":"2026-03-01T09:00:01Z","completedAt":"2026-03-01T09:00:01Z"}'
)


def _scripted_adapter(server: ScriptedHubSpot, sandbox: Sandbox, tmp_path: Path) -> HubSpotAdapter:
    settings = settings_for(sandbox, tmp_path).hubspot.model_copy(update={"base_url": server.url})
    time = VirtualTime()
    return HubSpotAdapter(settings, sleep=time.sleep, clock=time.clock)


def test_a_body_cut_short_is_a_network_error_and_the_call_is_retried(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Answers are read unparsed from the SDK and decoded by the adapter: the body is read
    inside the retried call, so a connection dropped mid-body is retried like any other."""
    server = ScriptedHubSpot([_answer(_CONTACT[:40], declared=len(_CONTACT)), _answer(_CONTACT)])
    try:
        [record] = _scripted_adapter(server, sandbox, tmp_path).read_people(
            "contacts", ["101"], fields=["email"]
        )
    finally:
        server.close()
    assert server.requests == 2
    assert record.id == "101"
    assert record.fields["email"] == "a@example.com"
    assert record.modified_at == datetime(2026, 3, 1, 9, 0, 0, 123000, tzinfo=UTC)


def test_a_200_that_is_not_json_is_a_clear_error(sandbox: Sandbox, tmp_path: Path) -> None:
    server = ScriptedHubSpot([_answer(b"<html>maintenance</html>")])
    try:
        with pytest.raises(FatalApiError, match="not JSON"):
            _scripted_adapter(server, sandbox, tmp_path).read_people(
                "contacts", ["101"], fields=["email"]
            )
    finally:
        server.close()
    assert server.requests == 1
