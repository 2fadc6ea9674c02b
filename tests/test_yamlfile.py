from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from connector.errors import MappingError
from connector.yamlfile import did_you_mean, dump_yaml, load_yaml, validate_document


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
