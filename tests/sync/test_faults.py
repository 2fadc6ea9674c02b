"""A full sync with faults on (10% 503s, lock errors, expiring sessions, 429 bursts) ends with
every record written or dead-lettered with a reason; once the faults stop, the dead letters are
retried and the CRMs converge. Retries wait on a virtual clock, never for real."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.sandbox.faults import Burst, FaultPlan
from connector.sandbox.runner import Sandbox
from connector.state import StateStore
from connector.state.models import RunOutcome
from connector.sync.wiring import connected

from ._support import http, reset, run_cli, stage_disagreements, stamps, write_env_file
from .test_e2e import settings_for

FAULTS = FaultPlan(
    error_rates={503: 0.10},
    lock_error_rate=0.5,  # high enough that some records exhaust their per-record retries
    expire_session_after_calls=25,
    bursts=(Burst(after_calls=3, count=3, status=429), Burst(after_calls=40, count=2)),
    seed=5,
)


class VirtualTime:
    def __init__(self) -> None:
        self.slept = 0.0

    def sleep(self, seconds: float) -> None:
        self.slept += seconds


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(seed=71, people=150) as started:
        yield started


def set_faults(sandbox: Sandbox, plan: FaultPlan) -> None:
    session = http()
    body = plan.model_dump(mode="json")
    session.post(
        f"{sandbox.salesforce.url}/__sandbox__/faults",
        json=body,
        verify=str(sandbox.salesforce.ca_file),
        timeout=30,
    ).raise_for_status()
    session.post(
        f"{sandbox.hubspot.url}/__sandbox__/faults", json=body, timeout=30
    ).raise_for_status()


def test_a_sync_under_faults_writes_or_dead_letters_everything_and_later_converges(
    sandbox: Sandbox, tmp_path: Path, state_url: str
) -> None:
    reset(sandbox)
    settings = settings_for(sandbox, state_url)
    time = VirtualTime()
    set_faults(sandbox, FAULTS)
    try:
        with connected(settings, sleep=time.sleep) as engine:
            faulty = engine.sync()
    finally:
        set_faults(sandbox, FaultPlan())
    assert faulty.outcome is RunOutcome.FINISHED_WITH_REJECTIONS, faulty.to_json()
    assert time.slept > 0, "the faults were retried (on the virtual clock)"
    assert faulty.written_total > 100

    with StateStore.from_settings(settings) as store:
        letters = store.dead_letters.list()
        assert store.dirty.count() == 0, "every person was handled"
    assert len(letters) == faulty.rejected_total > 0
    for letter in letters:
        assert letter.code
        assert letter.message
        assert letter.person_id
        assert letter.attempts == 1
    # Everyone whose writes all went out agrees; the others are dead-lettered with a reason.
    excused = {letter.person_id for letter in letters if letter.person_id}
    assert stage_disagreements(sandbox, excused) == {}

    # Faults off; retry now rather than at the backoff time, as an operator would.
    env = write_env_file(sandbox, tmp_path / "sync.env", state_url)
    code, output = run_cli(env, "deadletter", "retry", cwd=tmp_path)
    assert code == 0, output
    assert f"{len(letters)} dead letters will be retried" in output
    with connected(settings) as engine:
        retried = engine.sync()
    assert retried.outcome is RunOutcome.SUCCEEDED, retried.to_json()
    assert retried.written_total >= len({letter.ref for letter in letters})
    with StateStore.from_settings(settings) as store:
        assert store.dead_letters.list() == []
    assert stage_disagreements(sandbox) == {}

    before = stamps(sandbox)
    with connected(settings) as engine:
        quiet = engine.sync()
    assert quiet.written_total == 0
    assert stamps(sandbox) == before
