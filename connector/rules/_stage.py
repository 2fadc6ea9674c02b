"""The qualification rules and the stage machine, applied to one person's scores and facts.

Order of precedence, each step a rule from ``stages:`` in the rules file:

1. a stage a rep set by hand (``manual_stage``: pin it, start from it, or ignore it). A pinned
   stage is remembered on the person (``Person.stage_pinned``) and holds on later runs, when
   the CRMs show it without a fresh edit, until a rep sets another stage or a deal closes won;
2. closed-won makes a customer;
3. disqualification (CRM status, disqualifying fit rules, closed-lost if so configured) keeps
   its reason, unless an explicit recycle rule brings the person back to lead;
4. the evidence ladder: open deal or BANT → opportunity; two-way communication and fit →
   prospect; otherwise lead;
5. stages only move forward; a backward move needs an explicit rule (recycle, closed-lost
   demotion, a pinned manual stage). Every move is checked against the funnel's
   ``TRANSITIONS`` table.

The result is a fixpoint: evaluating again from the decided stage with the same facts decides
the same stage, so a second sync writes nothing.
"""

from __future__ import annotations

from connector.funnel import TRANSITIONS, FunnelStage, Move, Permission, Person
from connector.rules._policy import StagePolicy
from connector.rules.facts import Facts, SystemStage
from connector.rules.model import ClosedLost, ManualStage

__all__ = ["StageOutcome", "decide_stage"]

LEAD, PROSPECT, OPPORTUNITY, CUSTOMER, DISQUALIFIED = (
    FunnelStage.LEAD,
    FunnelStage.PROSPECT,
    FunnelStage.OPPORTUNITY,
    FunnelStage.CUSTOMER,
    FunnelStage.DISQUALIFIED,
)
_RANK = {LEAD: 0, PROSPECT: 1, OPPORTUNITY: 2, CUSTOMER: 3, DISQUALIFIED: -1}
_ALLOWED, _RULE_ONLY = Permission.ALLOWED, Permission.RULE_ONLY

# (stage, previous stage, move, by rule?, disqualified reason, reasons, thresholds crossed,
# pinned?). A plain tuple: this is built for every person evaluated.
StageOutcome = tuple[
    FunnelStage, FunnelStage, Move, bool, str | None, tuple[str, ...], tuple[str, ...], bool
]


def _allowed(source: FunnelStage, target: FunnelStage, by_rule: bool) -> bool:
    """``check_transition`` without the exception (this runs for every person)."""
    permission = TRANSITIONS[(source, target)].permission
    return permission is _ALLOWED or (permission is _RULE_ONLY and by_rule)


def _manual(facts: Facts) -> SystemStage | None:
    """The rep-set stage to respect: the furthest along the funnel; disqualified only alone."""
    manual = [entry for entry in facts.stages if entry.manual]
    if not manual:
        return None
    return max(manual, key=lambda entry: (_RANK[entry.stage], entry.system.value))


def _criteria(policy: StagePolicy, person: Person, fit: float, total: float) -> int:
    """Which prospect fit criteria hold, as a bit mask (see ``StagePolicy.criteria_text``)."""
    mask = 0
    if policy.fit_min is not None and fit >= policy.fit_min:
        mask = 1
    if policy.total_min is not None and total >= policy.total_min:
        mask |= 2
    qualification = person.qualification
    if policy.need and qualification.need is not None and qualification.need.met:
        mask |= 4
    if policy.authority and (
        (qualification.authority is not None and qualification.authority.met)
        or person.seniority in policy.authority_seniority
    ):
        mask |= 8
    return mask


def _bant(policy: StagePolicy, person: Person, facts: Facts) -> bool:
    qualification = person.qualification
    for name in policy.bant_requires:
        if name == "timeline" and facts.timeline_days is not None:
            if facts.timeline_days > policy.timeline_days:
                return False
            continue
        criterion = getattr(qualification, name)
        if criterion is None or not criterion.met:
            return False
    return True


def _evidence(
    policy: StagePolicy, person: Person, facts: Facts, fit: float, total: float, two_way: bool
) -> tuple[FunnelStage, tuple[str, ...], tuple[str, ...]]:
    """The furthest stage the evidence alone supports, why, and the thresholds crossed."""
    mask = _criteria(policy, person, fit, total)
    if policy.on_open_deal and facts.open_deal:
        return OPPORTUNITY, ("open deal",), ()
    held: tuple[str, ...] = ()
    if policy.on_bant and _bant(policy, person, facts):
        if two_way:
            return OPPORTUNITY, ("BANT met",), ("opportunity: BANT",)
        if policy.bant_promote:
            return (
                OPPORTUNITY,
                ("BANT met without two-way (rule: promote)",),
                ("opportunity: BANT",),
            )
        held = ("BANT met but no two-way communication yet (rule: hold)",)
    met, crossed, fit_ok = policy.criteria_text[mask]
    if not two_way:
        return LEAD, ("no two-way communication yet", *held), crossed
    if fit_ok:
        return PROSPECT, ("two-way + " + met, *held), crossed
    return LEAD, ("two-way but fit criteria not met", *held), crossed


def _result(
    previous: FunnelStage,
    stage: FunnelStage,
    by_rule: bool,
    reason: str | None,
    reasons: tuple[str, ...],
    thresholds: tuple[str, ...] = (),
    *,
    pinned: bool = False,
) -> StageOutcome:
    return (
        stage,
        previous,
        TRANSITIONS[(previous, stage)].move,
        by_rule,
        reason if stage is DISQUALIFIED else None,
        reasons,
        thresholds,
        pinned,
    )


def _disqualification(
    policy: StagePolicy,
    current: FunnelStage,
    current_reason: str | None,
    facts: Facts,
    fit_rule_disqualify: str | None,
) -> str | None:
    """Why the person is (or becomes) disqualified, before recycling; None if they are not."""
    if current is DISQUALIFIED:
        return current_reason or "disqualified"  # an existing reason is kept
    if policy.disqualify_on_status and facts.disqualified_reason is not None:
        return facts.disqualified_reason
    if policy.disqualify_on_fit and fit_rule_disqualify is not None:
        return fit_rule_disqualify
    if (
        facts.closed_lost
        and policy.closed_lost is ClosedLost.DISQUALIFY
        and current is not CUSTOMER
    ):
        return policy.closed_lost_reason
    return None


def _recycles(policy: StagePolicy, reason: str, facts: Facts, since_points: float) -> bool:
    if reason in policy.never_recycle:
        return False
    if policy.recycle_on_status and facts.recycle_requested:
        return True
    return (
        policy.recycle_engagement_min is not None
        and facts.disqualified_at is not None
        and since_points >= policy.recycle_engagement_min
    )


def decide_stage(
    policy: StagePolicy,
    person: Person,
    facts: Facts,
    fit: float,
    total: float,
    two_way: bool,
    fit_rule_disqualify: str | None,
    since_points: float,
) -> StageOutcome:
    """Decide the stage for one person; see the module docstring for the order of rules.

    ``since_points`` is the (decayed) positive engagement after ``facts.disqualified_at``.
    """
    previous = current = person.stage
    current_reason = person.disqualified_reason
    by_rule = False
    manual = _manual(facts) if facts.stages and policy.manual is not ManualStage.IGNORE else None
    pinned = policy.manual is ManualStage.PIN and not facts.closed_won
    # A stage pinned on an earlier run: the CRMs show it without a fresh edit now. A pinned
    # disqualification goes through the rules below, which keep it but let an explicit recycle
    # rule or a new deal bring the person back, as for any disqualified person.
    held = pinned and person.stage_pinned
    if manual is not None:
        if manual.stage is current:
            if pinned:
                reasons = ("set by hand (pin)",)
                return _result(previous, current, False, current_reason, reasons, pinned=True)
        elif not _allowed(current, manual.stage, by_rule=True):
            note = f"{manual.system} shows {manual.stage} set by hand; {current} cannot move there"
            return _result(previous, current, False, current_reason, (note,), pinned=held)
        else:
            manual_reason = facts.disqualified_reason or f"set by hand in {manual.system}"
            if pinned:
                pin = f"{manual.stage} set by hand in {manual.system} (rule: pin)"
                return _result(previous, manual.stage, True, manual_reason, (pin,), pinned=True)
            by_rule = TRANSITIONS[(current, manual.stage)].permission is _RULE_ONLY
            current, current_reason = manual.stage, manual_reason
    elif held and current is not DISQUALIFIED:
        reasons = ("set by hand (pin)",)
        return _result(previous, current, False, current_reason, reasons, pinned=True)

    if facts.closed_won:
        return _result(previous, CUSTOMER, by_rule, None, ("closed-won",))

    notes: tuple[str, ...] = ()
    reason: str | None = None
    # The common case (nothing disqualifies, no lost deal) skips the disqualification rules.
    if (
        current is DISQUALIFIED
        or facts.disqualified_reason is not None
        or fit_rule_disqualify is not None
        or facts.closed_lost
    ):
        reason = _disqualification(policy, current, current_reason, facts, fit_rule_disqualify)
    if reason is not None and _recycles(policy, reason, facts, since_points):
        notes = (f"recycled to lead by rule (was disqualified: {reason})",)
        if current is DISQUALIFIED:
            current, by_rule = LEAD, True
        reason = None

    if facts.closed_lost and policy.closed_lost is ClosedLost.LEAD and _RANK[current] in (1, 2):
        notes = (*notes, f"closed-lost: back to lead by rule (was {current})")
        current, by_rule = LEAD, True

    target, why, thresholds = _evidence(policy, person, facts, fit, total, two_way)
    if reason is not None:
        explicit = policy.disqualify_on_status and facts.disqualified_reason is not None
        if (
            current is DISQUALIFIED
            and not explicit
            and fit_rule_disqualify is None
            and _RANK[target] >= 2
            and _allowed(current, target, False)
        ):
            # New evidence the funnel table lets revive a disqualified person (a deal).
            return _result(previous, target, by_rule, None, (f"revived: {why[0]}", *notes))
        if current is DISQUALIFIED or _allowed(current, DISQUALIFIED, by_rule):
            return _result(
                previous,
                DISQUALIFIED,
                by_rule,
                reason,
                (f"disqualified: {reason}",),
                thresholds,
                pinned=held and current is DISQUALIFIED,
            )
        notes = (*notes, f"{current} cannot be disqualified ({reason})")
    if target is current or (_RANK[target] > _RANK[current] and _allowed(current, target, by_rule)):
        return _result(previous, target, by_rule, None, why + notes, thresholds)
    kept = f"stays {current}: evidence supports {target}; backward moves need a rule"
    return _result(previous, current, by_rule, None, (kept, *why[1:], *notes), thresholds)
