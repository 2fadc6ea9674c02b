"""The seal on a plan: any change to a plan file is refused, an untouched one checks out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connector.errors import System
from connector.funnel import FunnelStage
from connector.mapping import load_mappings
from connector.mapping.model import MappingSet
from connector.rules import Rules, load_rules
from connector.state import StateStore
from connector.sync.plan import (
    FieldChange,
    Plan,
    PlanFormatError,
    RecordPlan,
    WriteKind,
    read_plan,
)
from connector.sync.plan_seal import check_plan, seal_plan

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 4, 9, 30, 1, 250000, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    with StateStore.open(f"sqlite:///{tmp_path}/state.db") as opened:
        yield opened


@pytest.fixture(scope="module")
def definitions() -> tuple[MappingSet, Rules]:
    return load_mappings(ROOT / "mappings"), load_rules(ROOT / "config" / "rules.yaml")


def _plan(rules: Rules) -> Plan:
    """A plan holding every kind of value a plan holds, the awkward ones included."""
    update = RecordPlan(
        system=System.SALESFORCE,
        object_type="Lead",
        record_id="00QDn0000000004MAA",
        person_id="p1",
        modified_at=NOW,
        changes=(
            FieldChange(
                field="Lead_Score__c", mapping="score.total", old=None, new=0.1, value=0.1,
                reason="decided by the rules",
            ),
            FieldChange(
                field="Fit_Score__c", mapping="score.fit", old=1e16, new=-0.0, value=0,
                reason="décidé ☃ \u2028 \"quoted\" \\ \t",
            ),
            FieldChange(
                field="HasOptedOutOfEmail", mapping="opt_out", old=True, new=False,
                value=12345678901234567, reason="",
            ),
        ),
        stage_from=FunnelStage.LEAD,
        stage_to=FunnelStage.PROSPECT,
    )  # fmt: skip
    create = RecordPlan(
        system=System.HUBSPOT,
        object_type="contacts",
        record_id="p2",
        person_id="p2",
        kind=WriteKind.CREATE,
        changes=(
            FieldChange(
                field="email", mapping="email", old=None, new="ada@example.com",
                value="ada@example.com", reason="new person",
            ),
        ),
        clear_first=("hs_lead_status",),
    )  # fmt: skip
    return Plan(
        created_at=NOW,
        run_id="run-1",
        rules_version=rules.version,
        records=(update, create),
        notes=("a note",),
    )


def _leaves(node: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _leaves(value, (*path, index))
    else:
        yield path


def _changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value * 2 + 1  # + 1 alone would leave 1e16 as it is
    if isinstance(value, str):
        return value + "x"
    return "x"


def _refused(path: Path, store: StateStore, definitions: tuple[MappingSet, Rules]) -> str:
    with pytest.raises(PlanFormatError) as refused:
        check_plan(read_plan(path), "plan.json", store, *definitions)
    return str(refused.value)


def test_an_untouched_plan_survives_its_file_and_checks_out(
    store: StateStore, definitions: tuple[MappingSet, Rules], tmp_path: Path
) -> None:
    sealed = seal_plan(_plan(definitions[1]), store, *definitions)
    sealed.write(tmp_path / "plan.json")
    read = read_plan(tmp_path / "plan.json")
    assert read == sealed
    check_plan(read, "plan.json", store, *definitions)
    # The file's layout is not what is sealed: the same plan written compactly checks out.
    compact = json.dumps(json.loads((tmp_path / "plan.json").read_text()))
    (tmp_path / "compact.json").write_text(compact)
    check_plan(read_plan(tmp_path / "compact.json"), "compact.json", store, *definitions)


def test_changing_any_single_value_of_a_plan_file_is_refused(
    store: StateStore, definitions: tuple[MappingSet, Rules], tmp_path: Path
) -> None:
    sealed = seal_plan(_plan(definitions[1]), store, *definitions)
    document = json.loads(sealed.model_dump_json())
    leaves = [path for path in _leaves(document) if path != ("digest",)]
    assert len(leaves) > 40
    for leaf in leaves:
        edited = json.loads(sealed.model_dump_json())
        node = edited
        for part in leaf[:-1]:
            node = node[part]
        node[leaf[-1]] = _changed(node[leaf[-1]])
        (tmp_path / "plan.json").write_text(json.dumps(edited))
        with pytest.raises(PlanFormatError):
            check_plan(read_plan(tmp_path / "plan.json"), "plan.json", store, *definitions)


@pytest.mark.parametrize("edit", ["reorder", "drop", "duplicate", "no digest"])
def test_reordering_dropping_or_adding_records_is_refused(
    store: StateStore, definitions: tuple[MappingSet, Rules], tmp_path: Path, edit: str
) -> None:
    document = json.loads(seal_plan(_plan(definitions[1]), store, *definitions).model_dump_json())
    records = document["records"]
    if edit == "reorder":
        document["records"] = records[::-1]
    elif edit == "drop":
        document["records"] = records[:1]
    elif edit == "duplicate":
        document["records"] = [*records, records[0]]
    else:
        del document["digest"]
    (tmp_path / "plan.json").write_text(json.dumps(document))
    assert "changed after it was made" in _refused(tmp_path / "plan.json", store, definitions)


def test_a_plan_made_under_other_definitions_names_each_file_that_differs(
    store: StateStore, definitions: tuple[MappingSet, Rules], tmp_path: Path
) -> None:
    mappings, rules = definitions
    seal_plan(_plan(rules), store, mappings, rules).write(tmp_path / "plan.json")
    (contact, funnel) = mappings.files
    other = replace(mappings, sha256={contact: "0" * 64, funnel: mappings.sha256[funnel]})
    with pytest.raises(PlanFormatError) as refused:
        check_plan(read_plan(tmp_path / "plan.json"), "plan.json", store, other, rules)
    (problem,) = refused.value.problems
    assert problem.where == "plan.json"
    assert problem.message == f"mapping file {contact} has changed since the plan was made"


def test_a_seal_made_with_one_store_is_refused_by_another(
    store: StateStore, definitions: tuple[MappingSet, Rules], tmp_path: Path
) -> None:
    seal_plan(_plan(definitions[1]), store, *definitions).write(tmp_path / "plan.json")
    with StateStore.open(f"sqlite:///{tmp_path}/other.db") as other:
        other.keys.get_or_create("plan")
        message = _refused(tmp_path / "plan.json", other, definitions)
    assert "made against another state store" in message
