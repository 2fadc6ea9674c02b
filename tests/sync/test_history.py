from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from connector.funnel import FunnelStage
from connector.rules import load_rules
from connector.rules.backtest import backtest
from connector.sandbox.runner import Sandbox
from connector.state import StateStore
from connector.sync.history import state_examples
from connector.sync.wiring import connected

from .test_e2e import ROOT, settings_for


def test_backtest_replays_the_synced_people(tmp_path: Path) -> None:
    with Sandbox.start(seed=9, people=150) as sandbox:
        settings = settings_for(sandbox, f"sqlite:///{tmp_path}/state.db")
        with connected(settings) as engine:
            engine.sync()
    now = datetime.now(UTC)
    with StateStore.from_settings(settings) as store:
        examples = list(state_examples(store, now))
        assert len(examples) == store.people.count()
    outcomes = Counter(example.outcome for example in examples)
    assert outcomes["closed_won"] > 0
    assert outcomes["closed_lost"] + outcomes["stale"] > 0
    # The replay withholds what gives the outcome away.
    assert all(example.person.stage is FunnelStage.LEAD for example in examples)
    assert all(not example.facts.open_deal for example in examples)
    report = backtest(examples, load_rules(ROOT / "config" / "rules.yaml"), now).to_dict()
    assert report["people"] == len(examples)
    assert report["labelled"] == sum(
        outcomes[o] for o in ("closed_won", "converted", "closed_lost", "stale")
    )
    assert 0.0 <= report["current"]["auc"] <= 1.0
