"""Fixtures: a small seeded world, a HubSpot emulator on a manual clock, served on loopback."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest
from hubspot import HubSpot

from connector.sandbox._server import ServerThread
from connector.sandbox.hubspot import (
    SANDBOX_ACCESS_TOKEN,
    HubSpotEmulator,
    ManualClock,
    build,
)
from connector.sandbox.seed import World, generate

SEED = 11


@functools.cache
def small_world() -> World:
    return generate(seed=SEED, people=160)


@pytest.fixture
def world() -> World:
    return small_world()


@pytest.fixture
def clock(world: World) -> ManualClock:
    return ManualClock(world.as_of + timedelta(days=1))


@pytest.fixture
def serve() -> Iterator[Callable[[HubSpotEmulator], str]]:
    """Start an emulator on a free port; stopped when the test ends."""
    servers: list[ServerThread] = []

    def start(emulator: HubSpotEmulator) -> str:
        server = ServerThread(emulator.app, name="hubspot-test").start()
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def emulator(world: World, clock: ManualClock) -> HubSpotEmulator:
    return build(world, seed=SEED, clock=clock)


@pytest.fixture
def url(emulator: HubSpotEmulator, serve: Callable[[HubSpotEmulator], str]) -> str:
    return serve(emulator)


@pytest.fixture
def client(url: str) -> HubSpot:
    return HubSpot(access_token=SANDBOX_ACCESS_TOKEN, host=url)


@pytest.fixture
def http(url: str) -> Iterator[httpx.Client]:
    """Raw HTTP with the sandbox token, for checking bodies and headers byte for byte."""
    headers = {"Authorization": f"Bearer {SANDBOX_ACCESS_TOKEN}"}
    with httpx.Client(base_url=url, headers=headers, timeout=10) as session:
        yield session


@pytest.fixture
def sdk(url: str, monkeypatch: pytest.MonkeyPatch) -> HubSpot:
    """The official client with ``base_url`` as well: its ``api_request`` (plain ``requests``,
    reference §6.1) reaches the emulator for endpoints no generated API covers."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return HubSpot(access_token=SANDBOX_ACCESS_TOKEN, host=url, base_url=url)
