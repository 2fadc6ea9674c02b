"""Loading: several files, duplicates across them, and the typed result."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.errors import MappingError, System
from connector.funnel import FunnelStage
from connector.mapping import UNCHANGED, CanonicalValue, FieldMapping, MappingSet, load_mappings

ROOT = Path(__file__).parents[2]

EMAIL = "version: 1\nfields:\n  email:\n    hubspot: email\n    sync: two_way\n"


def test_a_mapping_defined_in_two_files_names_both(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(EMAIL)
    (tmp_path / "b.yaml").write_text(EMAIL.replace("two_way", "prefer_hubspot"))
    with pytest.raises(MappingError) as caught:
        load_mappings(tmp_path)
    [problem] = caught.value.problems
    assert (problem.where.endswith("b.yaml"), problem.line, problem.column) == (True, 3, 3)
    assert problem.message == "mapping defined twice"
    assert problem.hint.startswith("first defined at ")
    assert "a.yaml:3" in problem.hint


def test_an_empty_directory_and_a_missing_one_are_errors(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="no mapping files"):
        load_mappings(tmp_path)
    with pytest.raises(MappingError, match="mappings directory not found"):
        load_mappings(tmp_path / "absent")


def test_a_file_that_is_a_list_is_refused_at_line_one(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text("- email\n- phone\n")
    with pytest.raises(MappingError) as caught:
        load_mappings(tmp_path)
    [problem] = caught.value.problems
    assert (problem.line, problem.column) == (1, 1)
    assert "a mapping file is a YAML mapping" in problem.message


def test_the_mapping_set_is_immutable(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(EMAIL)
    mappings = load_mappings(tmp_path)
    email = mappings.get("email")
    with pytest.raises(AttributeError):
        email.hubspot = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        email.salesforce["Lead"] = "Email"  # type: ignore[index]
    assert email.origin.line == 3
    assert email.reads_from(System.HUBSPOT)
    assert not email.reads_from(System.SALESFORCE)


SHIPPED: MappingSet = load_mappings(ROOT / "mappings")


@given(st.sampled_from(list(FunnelStage)), st.sampled_from(SHIPPED.for_field("stage")))
def test_every_stage_written_reads_back_as_itself_or_a_stated_stage(
    stage: FunnelStage, mapping: FieldMapping
) -> None:
    for system in System:
        if mapping.target(system, "Lead" if system is System.SALESFORCE else "contacts") is None:
            continue
        read: CanonicalValue
        if system is System.SALESFORCE:
            written = mapping.to_salesforce(stage)
            read = None if written is UNCHANGED else mapping.from_salesforce(written)
        else:
            hs_written = mapping.to_hubspot(stage)
            read = None if hs_written is UNCHANGED else mapping.from_hubspot(hs_written)
        value_map = mapping.value_maps[system]
        if read is None:
            assert value_map.outbound[stage.value] is None
        elif read is not stage:
            # Two stages share one value; the map's inbound entry says which one it reads as.
            shared = value_map.outbound[stage.value]
            assert shared is not None
            assert isinstance(read, FunnelStage)
            assert value_map.inbound[shared] == read.value
