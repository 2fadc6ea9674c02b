from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.errors import StageTransitionError
from connector.funnel import (
    FUNNEL_ORDER,
    TRANSITIONS,
    FunnelStage,
    Move,
    Permission,
    check_transition,
    classify_move,
)

S = FunnelStage


def test_every_pair_of_stages_has_exactly_one_rule() -> None:
    assert len(TRANSITIONS) == len(FunnelStage) ** 2


def test_ordered_stages_rank_in_funnel_order() -> None:
    assert [stage.rank for stage in FUNNEL_ORDER] == [0, 1, 2, 3]
    assert S.DISQUALIFIED.rank is None


@pytest.mark.parametrize(
    ("source", "target", "move"),
    [
        (S.LEAD, S.PROSPECT, Move.FORWARD),
        (S.LEAD, S.CUSTOMER, Move.FORWARD),
        (S.OPPORTUNITY, S.PROSPECT, Move.BACKWARD),
        (S.CUSTOMER, S.LEAD, Move.BACKWARD),
        (S.PROSPECT, S.DISQUALIFIED, Move.SIDEWAYS),
        (S.DISQUALIFIED, S.LEAD, Move.SIDEWAYS),
        (S.PROSPECT, S.PROSPECT, Move.NONE),
    ],
)
def test_classify_move(source: FunnelStage, target: FunnelStage, move: Move) -> None:
    assert classify_move(source, target) is move


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (S.LEAD, S.PROSPECT),
        (S.PROSPECT, S.OPPORTUNITY),
        (S.OPPORTUNITY, S.CUSTOMER),
        (S.LEAD, S.DISQUALIFIED),
        (S.OPPORTUNITY, S.DISQUALIFIED),
        (S.DISQUALIFIED, S.CUSTOMER),
    ],
)
def test_moves_allowed_on_evidence(source: FunnelStage, target: FunnelStage) -> None:
    assert check_transition(source, target).permission is Permission.ALLOWED


@pytest.mark.parametrize(
    ("source", "target"),
    [(S.OPPORTUNITY, S.LEAD), (S.CUSTOMER, S.PROSPECT), (S.DISQUALIFIED, S.LEAD)],
)
def test_backward_and_recycle_need_an_explicit_rule(
    source: FunnelStage, target: FunnelStage
) -> None:
    with pytest.raises(StageTransitionError, match="only an explicit rule"):
        check_transition(source, target)
    assert check_transition(source, target, by_rule=True).target is target


def test_customer_is_never_disqualified() -> None:
    with pytest.raises(StageTransitionError, match="cannot move from customer to disqualified"):
        check_transition(S.CUSTOMER, S.DISQUALIFIED, by_rule=True)


ordered = st.sampled_from(FUNNEL_ORDER)


@given(ordered, ordered)
def test_forward_and_backward_mirror_each_other(a: FunnelStage, b: FunnelStage) -> None:
    there, back = classify_move(a, b), classify_move(b, a)
    if a == b:
        assert there is back is Move.NONE
    else:
        assert {there, back} == {Move.FORWARD, Move.BACKWARD}
        assert (there is Move.FORWARD) == (FUNNEL_ORDER.index(b) > FUNNEL_ORDER.index(a))


@given(st.sampled_from(list(FunnelStage)), st.sampled_from(list(FunnelStage)))
def test_forward_moves_never_need_a_rule(a: FunnelStage, b: FunnelStage) -> None:
    if classify_move(a, b) is Move.FORWARD:
        check_transition(a, b)
