from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from connector.errors import (
    ConfigError,
    DefinitionError,
    JobDefinitionError,
    MappingError,
    RulesError,
)
from connector.jobs import load_jobs
from connector.mapping import load_mappings
from connector.rules import load_rules
from connector.sandbox.faults import load_fault_plan
from connector.yamlfile import (
    MAX_ALIAS_ENTRIES,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    did_you_mean,
    dump_yaml,
    load_yaml,
    validate_document,
)


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    points: int = Field(ge=-100, le=100)


class Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str
    items: list[Item]


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "doc.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_all_problems_with_lines_columns_and_hints(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        'version: "1"\nitems:\n  - name: a\n    pointz: 3\n  - name: b\n    points: 500\n',
    )
    with pytest.raises(MappingError) as caught:
        validate_document(load_yaml(path, MappingError), Doc, MappingError)
    by_field = {p.field: p for p in caught.value.problems}
    assert len(caught.value.problems) == 3
    assert by_field["items.0.pointz"].line == 4
    assert by_field["items.0.pointz"].column == 5
    assert by_field["items.0.pointz"].hint == "did you mean 'points'?"
    assert by_field["items.0.points"].message == "required key 'points' is missing"
    assert by_field["items.1.points"].line == 6
    assert "less than or equal to 100" in by_field["items.1.points"].message


def test_syntax_error_has_a_line(tmp_path: Path) -> None:
    path = _file(tmp_path, "version: 1\nitems:\n  - name: [unclosed\n")
    with pytest.raises(MappingError) as caught:
        load_yaml(path, MappingError)
    (problem,) = caught.value.problems
    assert problem.line is not None
    assert problem.line >= 3
    assert problem.message.startswith("not valid YAML")


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    path = _file(tmp_path, "version: 1\nversion: 2\n")
    with pytest.raises(MappingError, match="duplicate key"):
        load_yaml(path, MappingError)


def test_empty_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="file is empty"):
        load_yaml(_file(tmp_path, "# only a comment\n"), MappingError)
    with pytest.raises(MappingError, match="file not found"):
        load_yaml(tmp_path / "absent.yaml", MappingError)


def test_round_trip_keeps_comments_and_order(tmp_path: Path) -> None:
    text = (
        '# header comment\nversion: "1"  # keep me\nitems:\n  - name: a  # first\n    points: 1\n'
    )
    path = _file(tmp_path, text)
    document = load_yaml(path)
    document.data["items"][0]["points"] = 7
    dump_yaml(document)
    written = path.read_text(encoding="utf-8")
    assert "# header comment" in written
    assert "# keep me" in written
    assert "# first" in written
    assert "points: 7" in written
    assert written.index("version") < written.index("items")


def test_did_you_mean() -> None:
    assert did_you_mean("lifecyclestag", ["lifecyclestage", "email"]) == (
        "did you mean 'lifecyclestage'?"
    )
    assert did_you_mean("zzz", ["email"]) == ""


# --- Bounds: every admin-edited YAML file is untrusted input ------------------------------------


def _laughs(levels: int, fanout: int = 9) -> str:
    """A "billion laughs" document: each level is a list of ``fanout`` aliases to the one below.

    Expanded, it holds ``fanout ** levels`` strings: 9 ** 12 is about 2.8e11, far beyond any
    machine's memory, so a loader only survives it by refusing before anything expands it.
    """
    lines = ["version: 1", "lol0: &lol0 [" + ", ".join(["lol"] * fanout) + "]"]
    for level in range(1, levels):
        below = ", ".join([f"*lol{level - 1}"] * fanout)
        lines.append(f"lol{level}: &lol{level} [{below}]")
    return "\n".join(lines) + "\n"


def _points_at_an_alias(text: str, line: int | None, column: int | None) -> bool:
    assert line is not None
    assert column is not None
    return text.splitlines()[line - 1][column - 1] == "*"


def test_a_billion_laughs_is_refused_at_the_alias_before_anything_expands(tmp_path: Path) -> None:
    text = _laughs(12)
    path = _file(tmp_path, text)
    with pytest.raises(MappingError) as caught:
        load_yaml(path, MappingError)
    (problem,) = caught.value.problems
    assert problem.where.endswith("doc.yaml")
    assert _points_at_an_alias(text, problem.line, problem.column)
    assert "aliases" in problem.message
    assert "anchor" in problem.hint


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path: Path) -> None:
    # ruamel.yaml would quietly read the inner alias as null: a value nobody wrote.
    text = "version: 1\nitems: &loop\n  - name: a\n    points: 1\n  - *loop\n"
    with pytest.raises(MappingError) as caught:
        load_yaml(_file(tmp_path, text), MappingError)
    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (5, 5)
    assert "inside the block it names" in problem.message


def test_small_anchors_reused_a_few_times_still_load(tmp_path: Path) -> None:
    text = (
        'version: "1"\n'
        "items:\n"
        "  - &base {name: a, points: 5}\n"
        "  - {<<: *base, name: b}\n"
        "  - *base\n"
    )
    document = load_yaml(_file(tmp_path, text), MappingError)
    loaded = validate_document(document, Doc, MappingError)
    assert [(item.name, item.points) for item in loaded.items] == [("a", 5), ("b", 5), ("a", 5)]


def test_aliases_may_repeat_up_to_the_limit_and_no_further(tmp_path: Path) -> None:
    anchor = "version: 1\nbase: &b [" + ", ".join(["x"] * 99) + "]\n"  # 100 entries
    uses = MAX_ALIAS_ENTRIES // 100
    at_limit = anchor + "uses:\n" + "  - *b\n" * uses
    assert len(load_yaml(_file(tmp_path, at_limit)).plain()["uses"]) == uses
    with pytest.raises(MappingError) as caught:
        load_yaml(_file(tmp_path, at_limit + "  - *b\n"), MappingError)
    (problem,) = caught.value.problems
    assert (problem.line, problem.column) == (4 + uses, 5)


@pytest.mark.parametrize(
    "padding",
    [
        "# " + "x" * 97 + "\n",
        # Two-byte characters, placed so that the limit falls inside one.
        "# " + "é" * 98 + "\n",
    ],
)
def test_a_file_over_the_size_limit_is_refused_before_it_is_parsed(
    tmp_path: Path, padding: str
) -> None:
    text = 'version: "1"\nitems: []\n' + padding * (MAX_FILE_BYTES // len(padding) + 1)
    assert len(text.encode()) > MAX_FILE_BYTES
    with pytest.raises(MappingError) as caught:
        load_yaml(_file(tmp_path, text), MappingError)
    (problem,) = caught.value.problems
    assert problem.where.endswith("doc.yaml")
    assert "larger than 1 MiB" in problem.message
    assert problem.hint


def test_nesting_deeper_than_the_limit_is_refused_at_the_line(tmp_path: Path) -> None:
    def nested(depth: int) -> str:
        # One level per line, in flow style so the file stays small however deep it goes.
        return "x:\n" + "".join(" [\n" for _ in range(depth - 1)) + " 1" + " ]" * (depth - 1)

    assert load_yaml(_file(tmp_path, nested(MAX_DEPTH))).plain()["x"] is not None
    for depth in (MAX_DEPTH + 1, 10_000):  # 10,000 overflows Python's stack if unchecked
        with pytest.raises(MappingError) as caught:
            load_yaml(_file(tmp_path, nested(depth)), MappingError)
        (problem,) = caught.value.problems
        assert (problem.line, problem.column) == (MAX_DEPTH + 1, 2)
        assert f"nested more than {MAX_DEPTH} levels deep" in problem.message


@pytest.mark.parametrize(
    ("place", "load", "error"),
    [
        ("mappings/m.yaml", lambda root: load_mappings(root / "mappings"), MappingError),
        ("rules.yaml", lambda root: load_rules(root / "rules.yaml"), RulesError),
        ("jobs/j.yaml", lambda root: load_jobs(root / "jobs"), JobDefinitionError),
        ("faults.yaml", lambda root: load_fault_plan(root / "faults.yaml"), ConfigError),
    ],
)
def test_every_yaml_the_product_reads_is_bounded(
    tmp_path: Path,
    place: str,
    load: Callable[[Path], object],
    error: type[Exception],
) -> None:
    # Six levels expand to 531,441 strings: unbounded loaders would take seconds, then refuse
    # the file for some other reason; bounded ones name the alias.
    text = _laughs(6)
    path = tmp_path / place
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(error) as caught:
        load(tmp_path)
    assert isinstance(caught.value, ConfigError | DefinitionError)
    (problem,) = caught.value.problems
    assert problem.where.endswith(Path(place).name)
    assert _points_at_an_alias(text, problem.line, problem.column)
