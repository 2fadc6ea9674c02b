"""The result of evaluating the rules for one person: stage, scores, and why.

:class:`Decision` is an immutable named tuple (the cheapest immutable record Python builds; a
frozen dataclass costs several times more) so the evaluator can build hundreds of thousands per
second; the pydantic :class:`~connector.funnel.Score` and its contributions are built only when
asked for (``decision.score``).
"""

from __future__ import annotations

from operator import attrgetter
from typing import NamedTuple

from connector.funnel import Contribution, FunnelStage, Move, Score, ScoreKind
from connector.rules._compile import EngagementSpec, FitSpec

__all__ = ["EXPLANATION_LIMIT", "Decision"]

_position = attrgetter("position")
EXPLANATION_LIMIT = 255  # a Salesforce Text(255) / HubSpot single-line text field


def _number(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _signed(value: float) -> str:
    text = _number(value)
    return text if text.startswith("-") else "+" + text


class Decision(NamedTuple):
    """Stage, scores, thresholds crossed and reasons for one person at one ``as_of``.

    ``reasons[0]`` says why the stage is what it is; later reasons add context (a move the
    stage machine refused, BANT held back for lack of two-way communication, ...).
    """

    stage: FunnelStage
    previous_stage: FunnelStage
    move: Move
    by_rule: bool  # the move needed an explicit rule (recycle, demotion, pinned manual stage)
    disqualified_reason: str | None
    fit: float
    engagement: float
    total: float
    band: str
    two_way: bool
    thresholds: tuple[str, ...]
    reasons: tuple[str, ...]
    rules_version: str
    fit_fired: tuple[FitSpec, ...]
    engagement_specs: tuple[EngagementSpec, ...]
    engagement_points: tuple[float, ...]  # per engagement spec, after decay and caps
    pinned: bool = False  # the stage is one a rep set by hand, pinned (Person.stage_pinned)

    def engaged(self) -> tuple[tuple[EngagementSpec, float], ...]:
        """The engagement rules that scored, with their points."""
        return tuple(
            (spec, points)
            for spec, points in zip(self.engagement_specs, self.engagement_points, strict=True)
            if points
        )

    @property
    def changed(self) -> bool:
        return self.stage is not self.previous_stage

    @property
    def contributions(self) -> tuple[Contribution, ...]:
        """Every rule that fired, with its points (after decay and caps for engagement)."""
        fit = tuple(
            Contribution(rule_id=spec.rule_id, kind=ScoreKind.FIT, points=spec.points,
                         reason=spec.reason)
            for spec in sorted(self.fit_fired, key=_position)
        )  # fmt: skip
        engagement = tuple(
            Contribution(rule_id=spec.rule_id, kind=ScoreKind.ENGAGEMENT,
                         points=round(points, 2), reason=spec.reason)
            for spec, points in self.engaged()
        )  # fmt: skip
        return fit + engagement

    @property
    def score(self) -> Score:
        """The canonical score model, contributions and rules version included."""
        return Score(
            fit=round(self.fit, 2),
            engagement=round(self.engagement, 2),
            total=round(self.total, 2),
            band=self.band,
            contributions=self.contributions,
            rules_version=self.rules_version,
        )

    @property
    def explanation(self) -> str:
        """A compact explanation that always fits a 255-character CRM text field.

        ``prospect A2 71 (fit 80, eng 62): two-way + fit score >= 40 | +30 executive,
        +18.5 inbound_reply, ..., +3 more | rules 2026.11-1``: stage, band, scores, the main
        reason, then the largest contributions first; what does not fit is counted.
        """
        head = (
            f"{self.stage} {self.band} {_number(self.total)} "
            f"(fit {_number(self.fit)}, eng {_number(self.engagement)})"
        )
        if self.reasons:
            head += f": {self.reasons[0]}"
        tail = f" | rules {self.rules_version}"
        budget = EXPLANATION_LIMIT - len(tail)
        if len(head) > budget - 10:
            head = head[: budget - 11] + "…"
        items = sorted(
            [(spec.points, spec.rule_id) for spec in self.fit_fired]
            + [(points, spec.rule_id) for spec, points in self.engaged()],
            key=lambda item: (-abs(item[0]), item[1]),
        )
        shown: list[str] = []
        for position, (points, rule_id) in enumerate(items):
            piece = f"{_signed(points)} {rule_id}"
            rest = len(items) - position - 1
            more = f", +{rest} more" if rest else ""
            candidate = ", ".join([*shown, piece])
            if len(head) + 3 + len(candidate) + len(more) > budget:
                break
            shown.append(piece)
        body = ", ".join(shown)
        if len(shown) < len(items):
            body += f"{', ' if shown else ''}+{len(items) - len(shown)} more"
        text = head + (f" | {body}" if body else "") + tail
        return text if len(text) <= EXPLANATION_LIMIT else text[: EXPLANATION_LIMIT - 1] + "…"
