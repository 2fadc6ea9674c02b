"""The contact pull stays complete past search's 10,000-result cap, even when every contact in
the window shares one ``lastmodifieddate``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from connector.crm.hubspot import HubSpotAdapter
from connector.sandbox._server import ServerThread
from connector.sandbox.hubspot import SANDBOX_ACCESS_TOKEN, HubSpotEmulator, LimitConfig, build
from connector.sandbox.seed import DEFAULT_AS_OF, World
from connector.settings import HubSpotPrivateApp, HubSpotSettings

from .conftest import VirtualTime

SHARED = datetime(2026, 10, 1, 12, 0, 0, tzinfo=UTC)
CROWD = 25_000
BEFORE = 300
AFTER = 300


@pytest.fixture(scope="module")
def crowded() -> Iterator[tuple[HubSpotEmulator, str]]:
    world = World(seed=3, as_of=DEFAULT_AS_OF, companies=(), people=())
    # The emulator's own limits are raised: this test is about completeness, and the
    # connector's budget runs on virtual time.
    emulator = build(world, seed=3, limits=LimitConfig(search_per_second=10_000))
    created = SHARED - timedelta(days=30)
    for n in range(BEFORE):
        stamp = SHARED - timedelta(minutes=BEFORE - n)
        emulator.store.insert_seeded("contacts", {"email": f"b{n}@example.org"}, created, stamp)
    for n in range(CROWD):
        emulator.store.insert_seeded("contacts", {"email": f"c{n}@example.org"}, created, SHARED)
    for n in range(AFTER):
        stamp = SHARED + timedelta(seconds=n + 1)
        emulator.store.insert_seeded("contacts", {"email": f"a{n}@example.org"}, created, stamp)
    server = ServerThread(emulator.app, name="hubspot-keyset").start()
    try:
        yield emulator, server.url
    finally:
        server.stop()


def test_a_window_of_25000_contacts_sharing_one_timestamp_is_read_completely(
    crowded: tuple[HubSpotEmulator, str],
) -> None:
    emulator, url = crowded
    settings = HubSpotSettings(
        base_url=url,
        auth=HubSpotPrivateApp(mode="private_app", access_token=SecretStr(SANDBOX_ACCESS_TOKEN)),
        search_per_second=5,
    )
    time = VirtualTime()
    adapter = HubSpotAdapter(settings, sleep=time.sleep, clock=time.clock)
    emulator.stats.reset()
    run_start = SHARED + timedelta(hours=1)
    pages = list(adapter.pull_people("contacts", since=None, run_start=run_start, fields=[]))
    ids = [record.id for page in pages for record in page.records]
    total = BEFORE + CROWD + AFTER
    assert len(ids) == total
    assert len(set(ids)) == total
    assert sum(1 for page in pages for r in page.records if r.modified_at == SHARED) == CROWD
    stamps = [r.modified_at for page in pages for r in page.records]
    assert stamps == sorted(stamps)
    assert pages[-1].done
    assert pages[-1].cursor.watermark == run_start
    searches = emulator.stats.count("POST", "/crm/v3/objects/{objectType}/search")
    assert searches <= total // 200 + 10  # the crowd costs a few extra queries, not a re-read
    # Five searches a second, on the budget's clock: it never outran the limit.
    assert time.now >= (searches - 5) / 5 - 1e-6
