"""Funnel stages and the stage machine.

The allowed moves are a table (``TRANSITIONS``), not ifs scattered through the code. Every pair of
stages has exactly one entry saying which way the move goes and whether it may happen on the
evidence alone or only when a rule explicitly asks for it (recycling, demotion).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from itertools import product
from types import MappingProxyType
from typing import Final

from connector.errors import StageTransitionError

__all__ = [
    "FUNNEL_ORDER",
    "TRANSITIONS",
    "FunnelStage",
    "Move",
    "Permission",
    "Transition",
    "check_transition",
    "classify_move",
]


class FunnelStage(StrEnum):
    """Where a person stands: lead < prospect < opportunity < customer, or disqualified."""

    LEAD = "lead"
    PROSPECT = "prospect"
    OPPORTUNITY = "opportunity"
    CUSTOMER = "customer"
    DISQUALIFIED = "disqualified"

    @property
    def rank(self) -> int | None:
        """Position in the ordered funnel; ``None`` for disqualified, which sits beside it."""
        return _RANK.get(self)


FUNNEL_ORDER: Final = (
    FunnelStage.LEAD,
    FunnelStage.PROSPECT,
    FunnelStage.OPPORTUNITY,
    FunnelStage.CUSTOMER,
)
_RANK: Final = {stage: index for index, stage in enumerate(FUNNEL_ORDER)}


class Move(StrEnum):
    """The direction of a stage change."""

    NONE = "none"
    FORWARD = "forward"
    BACKWARD = "backward"
    SIDEWAYS = "sideways"  # into or out of disqualified


class Permission(StrEnum):
    """Who may make a move."""

    ALLOWED = "allowed"  # evidence alone justifies it
    RULE_ONLY = "rule_only"  # only an explicit rule (recycle, demote) may do it
    REFUSED = "refused"  # never


@dataclass(frozen=True, slots=True)
class Transition:
    source: FunnelStage
    target: FunnelStage
    move: Move
    permission: Permission


def _build() -> MappingProxyType[tuple[FunnelStage, FunnelStage], Transition]:
    D = FunnelStage.DISQUALIFIED
    special: dict[tuple[FunnelStage, FunnelStage], tuple[Move, Permission]] = {
        # Ruling someone out is allowed from any open stage, with a reason.
        (FunnelStage.LEAD, D): (Move.SIDEWAYS, Permission.ALLOWED),
        (FunnelStage.PROSPECT, D): (Move.SIDEWAYS, Permission.ALLOWED),
        (FunnelStage.OPPORTUNITY, D): (Move.SIDEWAYS, Permission.ALLOWED),
        # A customer has closed-won business; churn is not disqualification.
        (FunnelStage.CUSTOMER, D): (Move.SIDEWAYS, Permission.REFUSED),
        # Recycling a disqualified person back to lead needs an explicit rule.
        (D, FunnelStage.LEAD): (Move.SIDEWAYS, Permission.RULE_ONLY),
        # New evidence (an open deal, a closed-won deal) can revive a disqualified person.
        (D, FunnelStage.PROSPECT): (Move.SIDEWAYS, Permission.RULE_ONLY),
        (D, FunnelStage.OPPORTUNITY): (Move.SIDEWAYS, Permission.ALLOWED),
        (D, FunnelStage.CUSTOMER): (Move.SIDEWAYS, Permission.ALLOWED),
    }
    table: dict[tuple[FunnelStage, FunnelStage], Transition] = {}
    for source, target in product(FunnelStage, FunnelStage):
        if source == target:
            move, permission = Move.NONE, Permission.ALLOWED
        elif (source, target) in special:
            move, permission = special[(source, target)]
        else:
            source_rank, target_rank = _RANK[source], _RANK[target]
            if target_rank > source_rank:
                move, permission = Move.FORWARD, Permission.ALLOWED
            else:
                move, permission = Move.BACKWARD, Permission.RULE_ONLY
        table[(source, target)] = Transition(source, target, move, permission)
    return MappingProxyType(table)


TRANSITIONS: Final = _build()


def classify_move(source: FunnelStage, target: FunnelStage) -> Move:
    """Is going from ``source`` to ``target`` forward, backward, sideways, or no move at all?"""
    return TRANSITIONS[(source, target)].move


def check_transition(
    source: FunnelStage, target: FunnelStage, *, by_rule: bool = False
) -> Transition:
    """Return the transition if it is allowed, else raise :class:`StageTransitionError`.

    ``by_rule`` is true when an explicit rule (recycle, demote) asks for the move.
    """
    transition = TRANSITIONS[(source, target)]
    if transition.permission is Permission.REFUSED:
        raise StageTransitionError(f"a person cannot move from {source} to {target}")
    if transition.permission is Permission.RULE_ONLY and not by_rule:
        raise StageTransitionError(
            f"moving from {source} to {target} is a {transition.move} move; "
            "only an explicit rule may make it"
        )
    return transition
