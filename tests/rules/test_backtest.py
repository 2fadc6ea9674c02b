"""Backtest metrics (pure functions with hand-checked values) and a replay on sandbox data."""

from __future__ import annotations

import pytest

from connector.funnel import FunnelStage
from connector.rules import Facts, load_rules
from connector.rules.backtest import (
    BandRow,
    Example,
    auc,
    backtest,
    conversion_by_band,
    label,
    precision_recall,
    top_decile_lift,
)
from connector.rules.synthetic import example_from_synthetic, synthetic_examples
from connector.sandbox.seed import DEFAULT_AS_OF, generate
from tests.rules._build import AS_OF, FILES, default_rules, person, poor_fit, reply


def test_outcome_labels() -> None:
    assert [label(o) for o in ("converted", "closed_won", "closed_lost", "stale", "open")] == [
        True, True, False, False, None,
    ]  # fmt: skip


def test_auc_by_ranks() -> None:
    assert auc([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == pytest.approx(0.75)
    assert auc([1, 2, 3], [False, True, True]) == 1.0
    assert auc([3, 2, 1], [False, True, True]) == 0.0
    assert auc([5, 5, 5, 5], [True, False, True, False]) == 0.5  # ties count half
    assert auc([1, 2], [True, True]) is None


def test_conversion_by_band() -> None:
    rows = conversion_by_band(["B2", "A1", "A1", "B2", "A1"], [False, True, True, True, False])
    assert rows == (BandRow("A1", 3, 2), BandRow("B2", 2, 1))
    assert rows[0].rate == pytest.approx(2 / 3)


def test_precision_and_recall() -> None:
    predicted = [True, True, False, False, True]
    truth = [True, False, True, False, True]
    precision, recall = precision_recall(predicted, truth)
    assert precision == pytest.approx(2 / 3)
    assert recall == pytest.approx(2 / 3)
    assert precision_recall([False, False], [True, False]) == (None, 0.0)


def test_top_decile_lift() -> None:
    scores = list(range(20))  # top decile: the two highest scores
    labels = [False] * 18 + [True, True]
    assert top_decile_lift(scores, labels) == pytest.approx(1.0 / (2 / 20))
    assert top_decile_lift(scores, [False] * 20) is None


def test_backtest_counts_stage_changes_and_leaves_open_outcomes_out() -> None:
    examples = [
        Example(person(), [reply()], Facts(), "converted"),
        Example(poor_fit(), [reply()], Facts(), "stale"),
        Example(person(), [], Facts(), "open"),
    ]
    report = backtest(examples, default_rules(), AS_OF, load_rules(FILES / "bad_rules.yaml"))

    assert (report.people, report.labelled, report.positives) == (3, 2, 1)
    assert report.current.auc == 1.0
    assert report.current.precision == 1.0
    assert report.current.recall == 1.0
    # Under the bad rules the good fit drops back to lead and the poor fit becomes a prospect.
    assert report.stage_changes == 2
    assert report.moves == {"prospect -> lead": 1, "lead -> prospect": 1}
    assert report.to_dict()["candidate"]["version"] == "bad-1"


def test_synthetic_people_become_canonical_examples() -> None:
    world = generate(seed=5, people=40)
    for synthetic in world.people:
        example = example_from_synthetic(synthetic)
        assert example.person.email == synthetic.email
        assert example.person.stage is FunnelStage.LEAD  # replays start from lead
        assert len(example.activities) == len(synthetic.activities)
        assert example.facts.open_deal is synthetic.has_open_deal
        assert not example.facts.closed_won  # the outcome is withheld
        assert example.outcome == synthetic.outcome


def test_default_rules_rank_synthetic_outcomes_well_and_the_bad_file_worse() -> None:
    bad = load_rules(FILES / "bad_rules.yaml")
    report = backtest(synthetic_examples(seed=7, people=3000), default_rules(), DEFAULT_AS_OF, bad)

    assert report.candidate is not None
    assert report.labelled > 1000
    current, candidate = report.current, report.candidate
    assert current.auc is not None
    assert candidate.auc is not None
    assert current.auc > 0.75
    assert candidate.auc < current.auc - 0.2
    assert current.top_decile_lift is not None
    assert candidate.top_decile_lift is not None
    assert current.top_decile_lift > 2 > candidate.top_decile_lift
    # Better bands convert better under the default rules.
    rates = {row.band: row.rate for row in current.bands}
    assert rates["A1"] > rates["B2"] > rates["C3"]
