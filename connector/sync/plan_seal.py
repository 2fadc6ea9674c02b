"""The seal on a plan: a keyed digest over the plan and the definitions it was made with.

``crmsync plan`` seals the plan it makes. It records the SHA-256 of every mappings file and
of the rules file, as they were read for the run; names the state store it was made against
(a fingerprint of the store's plan key, which says nothing of the key); and signs all of it,
every record and field included, with HMAC-SHA256 under that key. The key is made on first
use and kept in the state store (``store_keys``), never in a file or a message.

``crmsync apply`` checks the seal before it reads or writes anything, and refuses, with exit 2:

* a plan made against another state store (or against a store that has made no plans);
* a plan whose digest does not match its contents: it was changed after it was made. A
  digest cannot say where, so the message says how to recover: make a new plan;
* a plan made under other mappings or rules: each changed, added or missing file is named.

What the seal protects: the plan as crmsync made it, from edits by anyone who cannot read the
state store (a reviewer, a shared folder, a careless editor), from stale definitions, and from
a plan crossing over from another environment. What it does not: anyone who can read the state
store can sign a plan (they can run a sync anyway); the plan's personal data is not hidden (the
file is owner-only); and a plan that still matches may be applied late, or twice. Records
changed in the CRM since the plan are refused as stale all the same.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

from connector.errors import Problem, display_path
from connector.mapping.model import MappingSet
from connector.rules import Rules
from connector.state import StateStore
from connector.sync.plan import DefinitionFile, DefinitionKind, Plan, PlanFormatError

__all__ = ["PLAN_KEY", "check_plan", "definitions_of", "seal_plan"]

PLAN_KEY = "plan"  # the name of the state store's key that signs plans
_DOMAIN = b"crmsync plan 2\n"  # this key signs plans of this format and nothing else
_REPLAN = "make a new plan with `crmsync plan --out FILE`"
_EDITED = f"{_REPLAN}; a plan is applied only as crmsync wrote it"
_OTHER_STORE = f"point CRMSYNC_STATE_URL at the store the plan was made with, or {_REPLAN}"
_OTHER_DEFINITIONS = f"apply it with the mappings and rules it was made with, or {_REPLAN}"
_NOUN = {DefinitionKind.MAPPINGS: "mapping file", DefinitionKind.RULES: "rules file"}


def definitions_of(mappings: MappingSet, rules: Rules) -> tuple[DefinitionFile, ...]:
    """The mappings and rules files in use, as they were read, by name."""
    files = [
        DefinitionFile(kind=DefinitionKind.MAPPINGS, name=Path(name).name, sha256=sha256)
        for name, sha256 in mappings.sha256.items()
    ]
    rules_name = rules.path.name if rules.path is not None else "rules"
    files.append(DefinitionFile(kind=DefinitionKind.RULES, name=rules_name, sha256=rules.sha256))
    return tuple(files)


def seal_plan(plan: Plan, store: StateStore, mappings: MappingSet, rules: Rules) -> Plan:
    """``plan`` with the definitions it was made under, the store's name, and its digest."""
    key = store.keys.get_or_create(PLAN_KEY)
    named = plan.model_copy(
        update={
            "definitions": definitions_of(mappings, rules),
            "state_store": _fingerprint(key),
            "digest": "",
        }
    )
    return named.model_copy(update={"digest": _digest(key, named)})


def check_plan(
    plan: Plan, where: str, store: StateStore, mappings: MappingSet, rules: Rules
) -> None:
    """Refuse (``PlanFormatError``, exit 2) a plan whose seal does not hold here and now.

    ``where`` names the plan in messages (its file). Reads the store's key; writes nothing.
    """
    key = store.keys.get(PLAN_KEY)
    if key is None or not hmac.compare_digest(_fingerprint(key), plan.state_store):
        raise PlanFormatError(
            [
                Problem(
                    where=where,
                    message="the plan was made against another state store",
                    hint=_OTHER_STORE,
                )
            ]
        )
    if not hmac.compare_digest(_digest(key, plan), plan.digest):
        raise PlanFormatError(
            [
                Problem(
                    where=where,
                    message="the plan file was changed after it was made: its digest does "
                    "not match its contents",
                    hint=_EDITED,
                )
            ]
        )
    problems = _changed_definitions(plan, mappings, rules, where)
    if plan.rules_version != rules.version:
        problems.append(
            Problem(
                where=where,
                field="rules_version",
                message=f"the plan was made with rules version {plan.rules_version}; "
                f"the rules in use are version {rules.version}",
                hint=_OTHER_DEFINITIONS,
            )
        )
    if problems:
        raise PlanFormatError(problems)


def _changed_definitions(
    plan: Plan, mappings: MappingSet, rules: Rules, where: str
) -> list[Problem]:
    """One problem per mappings or rules file that differs from the one the plan was made
    with, naming the file as the admin finds it now."""
    made = {(item.kind, item.name): item.sha256 for item in plan.definitions}
    now = {(item.kind, item.name): item.sha256 for item in definitions_of(mappings, rules)}
    shown = {Path(name).name: name for name in mappings.files}
    if rules.path is not None:
        shown[rules.path.name] = display_path(rules.path)
    problems: list[Problem] = []
    for kind, name in sorted(made.keys() | now.keys()):
        noun, path = _NOUN[kind], shown.get(name, name)
        if (kind, name) not in now:
            message = f"the plan was made with {noun} {name}, which is not in use now"
        elif (kind, name) not in made:
            message = f"{noun} {path} is new since the plan was made"
        elif not hmac.compare_digest(made[kind, name], now[kind, name]):
            message = f"{noun} {path} has changed since the plan was made"
        else:
            continue
        problems.append(
            Problem(where=where, field="definitions", message=message, hint=_OTHER_DEFINITIONS)
        )
    return problems


def _fingerprint(key: bytes) -> str:
    """Names the store in a plan without revealing anything about its key."""
    return hmac.new(key, b"crmsync state store", hashlib.sha256).hexdigest()[:16]


def _digest(key: bytes, plan: Plan) -> str:
    """HMAC-SHA256 of the plan without its digest, serialised canonically: sorted keys, no
    whitespace, ASCII only (so the bytes do not depend on how the file was formatted)."""
    body = plan.model_dump(mode="json", exclude={"digest"})
    canonical = json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")
    return hmac.new(key, _DOMAIN + canonical, hashlib.sha256).hexdigest()
