"""The funnel definitions, pinned: what makes a prospect, an opportunity, a customer, and when
stages may not move."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.errors import System
from connector.funnel import (
    ActivityKind,
    Direction,
    FunnelStage,
    Move,
    Outcome,
    Seniority,
    check_transition,
)
from connector.rules import Facts, SystemStage, evaluate, load_rules
from tests.rules._build import (
    AS_OF,
    activity,
    default_rules,
    default_text_with,
    one_way_touches,
    person,
    poor_fit,
    reply,
    write_rules,
)

TWO_WAY_KINDS = [
    activity(ActivityKind.EMAIL, Outcome.REPLIED, direction=Direction.INBOUND),
    activity(ActivityKind.CALL, Outcome.CONNECTED),
    activity(ActivityKind.MEETING, Outcome.HELD),
    activity(ActivityKind.FORM_SUBMISSION, Outcome.DEMO_REQUESTED, direction=Direction.INBOUND),
]


def test_one_way_engagement_alone_never_makes_a_prospect() -> None:
    decision = evaluate(person(), one_way_touches(), None, default_rules(), AS_OF)

    assert decision.engagement > 0
    assert decision.fit >= 60
    assert not decision.two_way
    assert decision.stage is FunnelStage.LEAD
    assert decision.reasons[0] == "no two-way communication yet"


@pytest.mark.parametrize("conversation", TWO_WAY_KINDS, ids=lambda a: f"{a.kind}-{a.outcome}")
def test_two_way_communication_plus_fit_makes_a_prospect(conversation: object) -> None:
    decision = evaluate(person(), [conversation], None, default_rules(), AS_OF)  # type: ignore[list-item]

    assert decision.two_way
    assert decision.stage is FunnelStage.PROSPECT
    assert decision.move is Move.FORWARD
    assert "prospect: fit score >= 40" in decision.thresholds


def test_two_way_communication_without_fit_stays_a_lead() -> None:
    decision = evaluate(poor_fit(), [reply(), reply(2)], None, default_rules(), AS_OF)

    assert decision.two_way
    assert decision.fit == 0
    assert decision.stage is FunnelStage.LEAD
    assert decision.reasons[0] == "two-way but fit criteria not met"


def test_authority_is_a_fit_criterion_on_its_own() -> None:
    # Poor company fit, but a director: `require: any` over [fit_score, authority].
    director = poor_fit(seniority=Seniority.DIRECTOR, title="Director of IT")
    decision = evaluate(director, [reply()], None, default_rules(), AS_OF)

    assert decision.fit < 40
    assert decision.stage is FunnelStage.PROSPECT
    assert "prospect: authority" in decision.thresholds


def test_future_activity_is_ignored_at_as_of() -> None:
    tomorrow = reply(days_ago=-1)
    decision = evaluate(person(), [tomorrow], None, default_rules(), AS_OF)

    assert not decision.two_way
    assert decision.stage is FunnelStage.LEAD
    assert decision.engagement == 0


BANT = (True, True, True, True)


def test_bant_with_two_way_communication_makes_an_opportunity() -> None:
    decision = evaluate(person(bant=BANT), [reply()], None, default_rules(), AS_OF)

    assert decision.stage is FunnelStage.OPPORTUNITY
    assert decision.reasons[0] == "BANT met"


def test_bant_without_two_way_is_held_under_the_default_rule() -> None:
    decision = evaluate(person(bant=BANT), one_way_touches(), None, default_rules(), AS_OF)

    assert decision.stage is FunnelStage.LEAD
    assert "BANT met but no two-way communication yet (rule: hold)" in decision.reasons


def test_bant_without_two_way_is_promoted_when_the_rules_say_so(tmp_path: Path) -> None:
    promote = load_rules(
        write_rules(
            tmp_path,
            default_text_with("bant_without_two_way: hold", "bant_without_two_way: promote"),
        )
    )
    decision = evaluate(person(bant=BANT), [], None, promote, AS_OF)

    assert decision.stage is FunnelStage.OPPORTUNITY
    assert decision.reasons[0] == "BANT met without two-way (rule: promote)"


def test_bant_timeline_beyond_the_window_is_not_bant() -> None:
    facts = Facts(timeline_days=180)
    decision = evaluate(person(bant=BANT), [reply()], facts, default_rules(), AS_OF)

    assert decision.stage is FunnelStage.PROSPECT


def test_open_deal_makes_an_opportunity_even_without_conversation() -> None:
    decision = evaluate(poor_fit(), [], Facts(open_deal=True), default_rules(), AS_OF)

    assert decision.stage is FunnelStage.OPPORTUNITY
    assert decision.reasons[0] == "open deal"


def test_closed_won_makes_a_customer_from_any_stage() -> None:
    for stage, reason in [
        (FunnelStage.LEAD, None),
        (FunnelStage.OPPORTUNITY, None),
        (FunnelStage.DISQUALIFIED, "No budget"),
    ]:
        who = person(stage=stage, disqualified_reason=reason)
        decision = evaluate(who, [], Facts(closed_won=True), default_rules(), AS_OF)
        assert decision.stage is FunnelStage.CUSTOMER
        check_transition(stage, decision.stage, by_rule=decision.by_rule)


def test_crm_disqualification_keeps_its_reason() -> None:
    facts = Facts(disqualified_reason="No budget")
    decision = evaluate(person(), [reply()], facts, default_rules(), AS_OF)

    assert decision.stage is FunnelStage.DISQUALIFIED
    assert decision.disqualified_reason == "No budget"
    assert decision.reasons[0] == "disqualified: No budget"


def test_a_disqualified_person_keeps_the_original_reason_despite_new_engagement() -> None:
    gone = person(stage=FunnelStage.DISQUALIFIED, disqualified_reason="Bought elsewhere")
    decision = evaluate(gone, [reply(), reply(3)], None, default_rules(), AS_OF)

    assert decision.stage is FunnelStage.DISQUALIFIED
    assert decision.disqualified_reason == "Bought elsewhere"
    assert decision.move is Move.NONE


def test_a_disqualifying_fit_rule_disqualifies_with_its_reason() -> None:
    student = person(seniority=Seniority.STUDENT, title="Student")
    decision = evaluate(student, [reply()], None, default_rules(), AS_OF)

    assert decision.stage is FunnelStage.DISQUALIFIED
    assert decision.disqualified_reason == "Student or job seeker"


def test_recycling_to_lead_happens_only_by_an_explicit_rule() -> None:
    gone = person(stage=FunnelStage.DISQUALIFIED, disqualified_reason="Unresponsive")
    recycled = evaluate(gone, [], Facts(recycle_requested=True), default_rules(), AS_OF)

    assert recycled.stage is FunnelStage.LEAD
    assert recycled.by_rule
    check_transition(FunnelStage.DISQUALIFIED, FunnelStage.LEAD, by_rule=recycled.by_rule)


def test_recycling_never_applies_to_excluded_reasons() -> None:
    rival = person(stage=FunnelStage.DISQUALIFIED, disqualified_reason="Competitor")
    decision = evaluate(rival, [], Facts(recycle_requested=True), default_rules(), AS_OF)

    assert decision.stage is FunnelStage.DISQUALIFIED
    assert decision.disqualified_reason == "Competitor"


def test_fresh_engagement_after_disqualification_recycles() -> None:
    gone = person(stage=FunnelStage.DISQUALIFIED, disqualified_reason="Unresponsive")
    facts = Facts(disqualified_reason="Unresponsive", disqualified_at=AS_OF.replace(month=9))
    before = [reply(days_ago=90)]  # before the disqualification: does not count
    after = [activity(ActivityKind.MEETING, Outcome.HELD, days_ago=2)]

    stays = evaluate(gone, before, facts, default_rules(), AS_OF)
    recycled = evaluate(gone, before + after, facts, default_rules(), AS_OF)

    assert stays.stage is FunnelStage.DISQUALIFIED
    # Back to lead by rule, and the same evaluation carries the evidence forward: a fitting
    # person who just met us is a prospect again.
    assert recycled.stage is FunnelStage.PROSPECT
    assert recycled.by_rule
    assert any(reason.startswith("recycled to lead by rule") for reason in recycled.reasons)


@pytest.mark.parametrize("stage", [FunnelStage.PROSPECT, FunnelStage.OPPORTUNITY])
def test_no_backward_move_without_a_rule(stage: FunnelStage) -> None:
    # The evidence now supports only "lead" (no conversation, no deal), but stages do not go
    # back on their own.
    decision = evaluate(poor_fit(stage=stage), [], None, default_rules(), AS_OF)

    assert decision.stage is stage
    assert decision.move is Move.NONE
    assert decision.reasons[0].startswith(f"stays {stage}: evidence supports lead")


def test_customer_is_never_disqualified() -> None:
    facts = Facts(disqualified_reason="Not a fit")
    decision = evaluate(person(stage=FunnelStage.CUSTOMER), [], facts, default_rules(), AS_OF)

    assert decision.stage is FunnelStage.CUSTOMER
    assert decision.disqualified_reason is None
    assert "customer cannot be disqualified (Not a fit)" in decision.reasons


def test_closed_lost_demotes_only_when_the_rules_say_so(tmp_path: Path) -> None:
    who = poor_fit(stage=FunnelStage.OPPORTUNITY)
    kept = evaluate(who, [], Facts(closed_lost=True), default_rules(), AS_OF)
    demote = load_rules(
        write_rules(tmp_path, default_text_with("closed_lost: keep ", "closed_lost: lead "))
    )
    demoted = evaluate(who, [], Facts(closed_lost=True), demote, AS_OF)

    assert kept.stage is FunnelStage.OPPORTUNITY
    assert demoted.stage is FunnelStage.LEAD
    assert demoted.move is Move.BACKWARD
    assert demoted.by_rule
    check_transition(FunnelStage.OPPORTUNITY, FunnelStage.LEAD, by_rule=demoted.by_rule)


def test_a_pinned_manual_stage_is_kept() -> None:
    facts = Facts(stages=(SystemStage(system=System.SALESFORCE, stage=FunnelStage.LEAD,
                                      manual=True),))  # fmt: skip
    decision = evaluate(person(), [reply()], facts, default_rules(), AS_OF)

    assert decision.stage is FunnelStage.LEAD
    assert decision.reasons == ("set by hand (pin)",)


def _shown(*stages: tuple[System, FunnelStage, bool]) -> Facts:
    """What the CRMs show: a stage per system, and whether a rep just set it by hand."""
    return Facts(stages=tuple(SystemStage(system=s, stage=t, manual=m) for s, t, m in stages))


def test_a_pin_holds_on_the_runs_after_the_crms_showed_it_as_set_by_hand(
    tmp_path: Path,
) -> None:
    """The run after a hand-set stage sees no edit any more (both CRMs show the stage), only
    the pin remembered on the person. Evidence that would promote the person must not."""
    lead = FunnelStage.LEAD
    shown = _shown((System.SALESFORCE, lead, False), (System.HUBSPOT, lead, False))
    fresh = evaluate(
        person(stage=FunnelStage.PROSPECT),
        [reply()],
        _shown((System.SALESFORCE, lead, True)),
        default_rules(),
        AS_OF,
    )
    held = evaluate(person(stage_pinned=True), [reply()], shown, default_rules(), AS_OF)
    forgotten = evaluate(person(), [reply()], shown, default_rules(), AS_OF)

    assert (fresh.stage, fresh.pinned) == (FunnelStage.LEAD, True)
    assert (held.stage, held.pinned, held.reasons) == (
        FunnelStage.LEAD,
        True,
        ("set by hand (pin)",),
    )
    assert (forgotten.stage, forgotten.pinned) == (FunnelStage.PROSPECT, False)

    # Closed-won still makes a customer, and ends the pin.
    won = evaluate(person(stage_pinned=True), [reply()], Facts(closed_won=True), default_rules(),
                   AS_OF)  # fmt: skip
    assert (won.stage, won.pinned) == (FunnelStage.CUSTOMER, False)
    # A stage set by hand again moves the pin there.
    moved = evaluate(
        person(stage_pinned=True),
        [],
        _shown((System.HUBSPOT, FunnelStage.OPPORTUNITY, True)),
        default_rules(),
        AS_OF,
    )
    assert (moved.stage, moved.pinned) == (FunnelStage.OPPORTUNITY, True)
    # A pinned disqualification holds like any disqualification: kept (and still pinned),
    # unless new evidence the funnel allows to revive it appears (a deal).
    out = FunnelStage.DISQUALIFIED
    gone = person(stage=out, disqualified_reason="Not a fit", stage_pinned=True)
    dq = _shown((System.SALESFORCE, out, False))
    kept = evaluate(gone, [reply()], dq, default_rules(), AS_OF)
    assert (kept.stage, kept.pinned, kept.disqualified_reason) == (out, True, "Not a fit")
    deal = Facts(open_deal=True, stages=dq.stages)
    revived = evaluate(gone, [reply()], deal, default_rules(), AS_OF)
    assert (revived.stage, revived.pinned) == (FunnelStage.OPPORTUNITY, False)
    # Under ``floor`` and ``ignore`` nothing is pinned, and a stored pin does not hold.
    for policy in ("floor", "ignore"):
        rules = load_rules(
            write_rules(tmp_path, default_text_with("manual_stage: pin", f"manual_stage: {policy}"))
        )
        loose = evaluate(person(stage_pinned=True), [reply()], shown, rules, AS_OF)
        assert (loose.stage, loose.pinned) == (FunnelStage.PROSPECT, False), policy


def test_a_manual_stage_set_backward_is_a_rule_move(tmp_path: Path) -> None:
    facts = Facts(stages=(SystemStage(system=System.HUBSPOT, stage=FunnelStage.LEAD,
                                      manual=True),))  # fmt: skip
    who = poor_fit(stage=FunnelStage.PROSPECT)
    pinned = evaluate(who, [], facts, default_rules(), AS_OF)
    ignore = load_rules(
        write_rules(tmp_path, default_text_with("manual_stage: pin", "manual_stage: ignore"))
    )
    ignored = evaluate(who, [], facts, ignore, AS_OF)

    assert (pinned.stage, pinned.move, pinned.by_rule) == (
        FunnelStage.LEAD,
        Move.BACKWARD,
        True,
    )
    assert ignored.stage is FunnelStage.PROSPECT


def test_every_decision_is_a_transition_the_funnel_table_allows() -> None:
    people = [person(stage=stage, disqualified_reason="Not a fit" if stage == "disqualified"
                     else None) for stage in FunnelStage]  # fmt: skip
    facts_options = [
        None,
        Facts(open_deal=True),
        Facts(closed_won=True),
        Facts(disqualified_reason="No budget"),
        Facts(recycle_requested=True),
        Facts(closed_lost=True),
    ]
    for who in people:
        for facts in facts_options:
            for activities in ([], [reply()], one_way_touches()):
                decision = evaluate(who, activities, facts, default_rules(), AS_OF)
                check_transition(who.stage, decision.stage, by_rule=decision.by_rule)


def test_deciding_again_from_the_decided_stage_changes_nothing() -> None:
    """A fixpoint: a second sync with the same facts writes nothing."""
    for facts in [None, Facts(open_deal=True), Facts(disqualified_reason="No budget"),
                  Facts(recycle_requested=True)]:  # fmt: skip
        for activities in ([], [reply()], one_way_touches()):
            first = evaluate(person(), activities, facts, default_rules(), AS_OF)
            again = person(stage=first.stage, disqualified_reason=first.disqualified_reason)
            second = evaluate(again, activities, facts, default_rules(), AS_OF)
            assert second.stage is first.stage
            assert second.disqualified_reason == first.disqualified_reason


def test_a_manual_floor_is_a_starting_point_evidence_can_move_on_from(tmp_path: Path) -> None:
    floor = load_rules(
        write_rules(tmp_path, default_text_with("manual_stage: pin", "manual_stage: floor"))
    )
    facts = Facts(stages=(SystemStage(system=System.SALESFORCE, stage=FunnelStage.PROSPECT,
                                      manual=True),))  # fmt: skip
    moved_on = evaluate(person(), [reply()], Facts(open_deal=True, stages=facts.stages), floor,
                        AS_OF)  # fmt: skip
    kept = evaluate(poor_fit(), [], facts, floor, AS_OF)

    assert moved_on.stage is FunnelStage.OPPORTUNITY
    assert kept.stage is FunnelStage.PROSPECT  # the rep's stage, though evidence says lead
