"""Backtest examples from the state store: the real people crmsync has synced.

A person's outcome comes from what the CRMs recorded: a won deal or the customer stage is
``closed_won``; a Salesforce Lead converted to a Contact is ``converted``; a lost deal or a
disqualification is ``closed_lost``; a lead with no activity for ``stale_days`` is ``stale``;
everyone else is ``open`` (left out of the metrics). As in the synthetic replay, each person
starts again at ``lead`` and the facts that give the outcome away (deals, the CRMs' stages) are
withheld, so the rules are judged on what they could have known.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from connector.funnel import FunnelStage, Timeline
from connector.rules import Facts
from connector.rules.backtest import Example
from connector.state import StateStore, StoredActivity
from connector.state.models import LinkReason

__all__ = ["state_examples"]


def _outcome(
    stage: FunnelStage, deals: list[StoredActivity], converted: bool, last: datetime | None,
    as_of: datetime, stale_days: int,
) -> str:  # fmt: skip
    if stage is FunnelStage.CUSTOMER or any(d.outcome == "won" for d in deals):
        return "closed_won"
    if converted:
        return "converted"
    if stage is FunnelStage.DISQUALIFIED or any(d.outcome == "lost" for d in deals):
        return "closed_lost"
    if stage is FunnelStage.LEAD and (last is None or as_of - last > timedelta(days=stale_days)):
        return "stale"
    return "open"


def state_examples(
    store: StateStore, as_of: datetime, *, stale_days: int = 90, chunk: int = 1000
) -> Iterator[Example]:
    """Every stored person as a backtest example (streamed a chunk at a time)."""
    after = ""
    while ids := store.people.ids(after=after, limit=chunk):
        after = ids[-1]
        records = store.people.get_many(ids)
        activity = store.activities.for_people(ids)
        for person_id in ids:
            record = records.get(person_id)
            if record is None:
                continue
            stored = activity.get(person_id, [])
            deals = [item for item in stored if item.category == "deal"]
            timed = [
                (item.kind, item.direction, item.outcome, item.occurred_at)
                for item in stored
                if item.category == "activity"
                and item.occurred_at is not None
                and item.occurred_at <= as_of
            ]
            last = max((when for *_, when in timed), default=None)
            converted = any(
                link.reason is LinkReason.CONVERSION
                for link in store.links.for_person(person_id, include_history=True)
            )
            person = record.person
            outcome = _outcome(person.stage, deals, converted, last, as_of, stale_days)
            replay = person.model_copy(
                update={"stage": FunnelStage.LEAD, "disqualified_reason": None, "score": None}
            )
            yield Example(replay, Timeline.from_values(timed), Facts(), outcome)
