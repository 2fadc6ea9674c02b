"""Rules evaluation throughput: people per second with N activities each, on one core.

    .venv/bin/python bench/bench_rules.py [--people 20000] [--activities 20] [--repeat 3]

People come from the sandbox's synthetic world (varied fit); each gets exactly ``--activities``
activities drawn from a fixed seed (one-way and two-way mixed, up to 180 days old). Inputs are
built before timing starts as the sync engine builds them from the state store (a
``Timeline`` per person, straight from the stored values); the timed loop is only
``evaluate``. A second figure times evaluation from ``Activity`` models, the conversion to a
``Timeline`` included (what an API caller holding models pays). Peak memory is measured in a
separate pass with tracemalloc (which slows evaluation, so it is not timed) and as the
process's peak RSS. On a shared machine, the CPU-time figure is the steadier one.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
import tracemalloc
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from connector.funnel import (
    Activity,
    ActivityKind,
    Direction,
    Outcome,
    SourceRef,
    System,
    Timeline,
)
from connector.rules import evaluate, load_rules
from connector.rules.backtest import Example
from connector.rules.synthetic import synthetic_examples
from connector.sandbox.seed import DEFAULT_AS_OF

SPECS = (
    (ActivityKind.EMAIL, Direction.OUTBOUND, Outcome.SENT),
    (ActivityKind.EMAIL, Direction.OUTBOUND, Outcome.OPENED),
    (ActivityKind.EMAIL, Direction.OUTBOUND, Outcome.CLICKED),
    (ActivityKind.PAGE_VIEW, Direction.NONE, Outcome.VIEWED),
    (ActivityKind.FORM_SUBMISSION, Direction.INBOUND, Outcome.SUBMITTED),
    (ActivityKind.CALL, Direction.OUTBOUND, Outcome.NO_ANSWER),
    (ActivityKind.CAMPAIGN_RESPONSE, Direction.NONE, Outcome.RESPONDED),
    (ActivityKind.EMAIL, Direction.INBOUND, Outcome.REPLIED),
    (ActivityKind.CALL, Direction.OUTBOUND, Outcome.CONNECTED),
    (ActivityKind.MEETING, Direction.OUTBOUND, Outcome.HELD),
)


def _timeline(activities: Timeline | Sequence[Activity]) -> Timeline:
    """The activities as the sync engine hands them to the rules."""
    if isinstance(activities, Timeline):
        return activities
    return Timeline.from_values(
        (a.kind.value, a.direction.value, a.outcome.value, a.occurred_at) for a in activities
    )


def build(people: int, activities: int) -> list[Example]:
    rng = random.Random(11)
    out: list[Example] = []
    for example in synthetic_examples(seed=3, people=people):
        ref = SourceRef(system=System.HUBSPOT, object_type="contacts", record_id=example.person.id)
        drawn = []
        for index in range(activities):
            kind, direction, outcome = SPECS[rng.randrange(len(SPECS))]
            drawn.append(
                Activity(
                    system=System.HUBSPOT,
                    id=f"{example.person.id}-{index}",
                    person=ref,
                    kind=kind,
                    direction=direction,
                    outcome=outcome,
                    occurred_at=DEFAULT_AS_OF - timedelta(seconds=rng.randrange(60, 180 * 86400)),
                )
            )
        out.append(example._replace(activities=tuple(drawn)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--activities", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rules", type=Path, default=Path("config/rules.yaml"))
    args = parser.parse_args(argv)

    rules = load_rules(args.rules)
    modelled = build(args.people, args.activities)
    examples = [example._replace(activities=_timeline(example.activities)) for example in modelled]
    as_of = DEFAULT_AS_OF

    best = best_cpu = float("inf")
    for _ in range(args.repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        for person, activities, facts, _outcome in examples:
            evaluate(person, activities, facts, rules, as_of)
        best = min(best, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.process_time() - started_cpu)
    rate = len(examples) / best
    from_models = float("inf")
    for _ in range(args.repeat):
        started_cpu = time.process_time()
        for person, activities, facts, _outcome in modelled:
            evaluate(person, activities, facts, rules, as_of)
        from_models = min(from_models, time.process_time() - started_cpu)

    tracemalloc.start()
    decisions = [evaluate(p, a, f, rules, as_of) for p, a, f, _ in examples[:10_000]]
    explained = max(len(decision.explanation) for decision in decisions)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    print(f"rules version     {rules.version}")
    print(f"people            {len(examples):,} x {args.activities} activities")
    print(f"best of {args.repeat}         {best:.3f} s")
    print(f"throughput        {rate:,.0f} people/s (one core, wall clock)")
    print(f"                  {len(examples) / best_cpu:,.0f} people per CPU second")
    print(f"per person        {1e6 / rate:.1f} us")
    print(f"from models       {len(modelled) / from_models:,.0f} people per CPU second")
    print(f"tracemalloc peak  {peak / 2**20:.1f} MiB for {len(decisions):,} decisions kept")
    print(f"process peak RSS  {rss_kib / 1024:.0f} MiB (inputs included)")
    print(f"longest explanation {explained} chars")
    return 0


if __name__ == "__main__":
    sys.exit(main())
