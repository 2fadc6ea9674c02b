"""Load ``mappings/*.yaml`` into a :class:`MappingSet`, or list every problem at once.

Files are read in name order. Each file is parsed with line numbers, its outline and each entry
are validated against strict models one by one (so a typo in one mapping hides no other
problem), then the cross-entry checks run over all files together. Any problem raises
:class:`~connector.errors.MappingError` and nothing is synced.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml.comments import CommentedMap

from connector.errors import MappingError, Problem, System, display_path
from connector.mapping._checks import FieldEntry, MapEntry, check, salesforce_targets
from connector.mapping._raw import FORMAT_VERSION, FieldsOnly, MapsOnly, Top
from connector.mapping.canonical import CANONICAL_FIELDS, ValueType
from connector.mapping.catalogue import HUBSPOT_OBJECT
from connector.mapping.model import FieldMapping, MappingSet
from connector.mapping.rules import SyncRule, Transform
from connector.mapping.values import Origin, ValueMap
from connector.yamlfile import (
    YamlDocument,
    did_you_mean,
    load_yaml,
    problems_from_validation,
)

__all__ = ["load_mappings", "mapping_files"]

_EXPECTED = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "string_type": "text",
    "dict_type": "a mapping (indented key: value lines)",
    "model_type": "a mapping (indented key: value lines)",
    "model_attributes_type": "a mapping (indented key: value lines)",
    "list_type": "a list",
}
_ENUMS: dict[str, tuple[str, list[str]]] = {
    "sync": ("sync rule", [rule.value for rule in SyncRule]),
    "transform": ("transform", [transform.value for transform in Transform]),
}


def mapping_files(mappings_dir: Path) -> list[Path]:
    """The mapping files in ``mappings_dir``, in the order they are loaded."""
    return sorted([*mappings_dir.glob("*.yaml"), *mappings_dir.glob("*.yml")])


def _subject(loc: tuple[int | str, ...]) -> str:
    if len(loc) >= 2 and loc[0] == "fields":
        return f"mapping {loc[1]!r}"
    if len(loc) >= 2 and loc[0] == "value_maps":
        return f"value map {loc[1]!r}"
    return ".".join(str(part) for part in loc)


def _explain(
    document: YamlDocument, error: ValidationError, model: type[BaseModel]
) -> list[Problem]:
    """pydantic's problems, with "did you mean" for misspelt sync rules and transforms."""
    problems = problems_from_validation(document, error, model, subject=_subject)
    details = error.errors(include_url=False)
    explained: list[Problem] = []
    for problem, detail in zip(problems, details, strict=True):
        loc = detail["loc"]
        key = next((str(part) for part in reversed(loc) if str(part) in _ENUMS), None)
        if detail["type"] == "enum" and key is not None and isinstance(detail["input"], str):
            noun, choices = _ENUMS[key]
            hint = did_you_mean(detail["input"], choices) or "choose one of: " + ", ".join(choices)
            problem = _replace(problem, f"unknown {noun} {detail['input']!r}", hint)
        elif detail["type"] == "missing" and loc and loc[-1] == "sync":
            problem = _replace(
                problem,
                problem.message,
                "add sync: one of " + ", ".join(_ENUMS["sync"][1]),
            )
        elif detail["type"] in _EXPECTED and loc:
            key = str(next((part for part in reversed(loc) if isinstance(part, str)), loc[-1]))
            shown = detail["input"]
            got = f"{type(shown).__name__}" if isinstance(shown, dict | list) else repr(shown)
            problem = _replace(
                problem, f"{key} must be {_EXPECTED[detail['type']]}, not {got}", problem.hint
            )
        elif loc == ("version",) and detail["type"] != "missing":
            problem = _replace(
                problem,
                f"unsupported version {detail['input']!r}",
                f"this crmsync reads mapping files with version: {FORMAT_VERSION}",
            )
        elif loc == ("version",):
            problem = _replace(
                problem, problem.message, f"add version: {FORMAT_VERSION} at the top"
            )
        explained.append(problem)
    return explained


def _replace(problem: Problem, message: str, hint: str) -> Problem:
    return Problem(problem.where, message, problem.field, problem.line, problem.column, hint)


def _entries(data: Any, key: str) -> Iterator[tuple[str, Any]]:
    section = data.get(key) if isinstance(data, CommentedMap) else None
    if isinstance(section, dict):
        yield from ((str(name), value) for name, value in section.items())


def _parse(
    document: YamlDocument,
) -> tuple[list[FieldEntry], list[MapEntry], list[Problem]]:
    problems: list[Problem] = []
    if not isinstance(document.data, CommentedMap):
        problems.append(
            Problem(
                document.name,
                "a mapping file is a YAML mapping with version:, fields: and value_maps:",
                line=1,
                column=1,
                hint="see the shipped mappings/ files",
            )
        )
        return [], [], problems
    try:
        Top.model_validate(document.plain())
    except ValidationError as error:
        problems.extend(_explain(document, error, Top))
    fields: list[FieldEntry] = []
    for name, entry in _entries(document.data, "fields"):
        try:
            parsed = FieldsOnly.model_validate({"fields": {name: _plain(entry)}})
        except ValidationError as error:
            problems.extend(_explain(document, error, FieldsOnly))
            continue
        fields.append(FieldEntry(document, name, parsed.fields[name]))
    maps: list[MapEntry] = []
    for name, entry in _entries(document.data, "value_maps"):
        try:
            parsed_map = MapsOnly.model_validate({"value_maps": {name: _plain(entry)}})
        except ValidationError as error:
            problems.extend(_explain(document, error, MapsOnly))
            continue
        maps.append(MapEntry(document, name, parsed_map.value_maps[name]))
    return fields, maps, problems


def _plain(node: Any) -> Any:
    return YamlDocument(Path(), node).plain()


def _origin(document: YamlDocument, loc: tuple[int | str, ...]) -> Origin:
    line, column = document.position(loc)
    return Origin(document.name, line, column)


def _value_map(entry: MapEntry, closed: bool) -> ValueMap:
    raw = entry.raw
    origins = {
        key: _origin(entry.document, ("value_maps", entry.name, "outbound", key))
        for key in raw.outbound
    }
    inbound: dict[str, str | None] = {}
    for stage, value in raw.outbound.items():
        if value is not None:
            inbound.setdefault(value, stage)
    inbound.update(raw.inbound)
    return ValueMap(entry.name, dict(raw.outbound), inbound, closed=closed, origins=origins)


def _build(fields: list[FieldEntry], maps: list[MapEntry], files: dict[str, str]) -> MappingSet:
    stage_map_names = {
        name
        for entry in fields
        if CANONICAL_FIELDS[entry.canonical].type is ValueType.STAGE and entry.raw.values
        for name in (entry.raw.values.salesforce, entry.raw.values.hubspot)
        if name is not None
    }
    value_maps = {entry.name: _value_map(entry, entry.name in stage_map_names) for entry in maps}
    mappings: list[FieldMapping] = []
    for entry in fields:
        raw = entry.raw
        base = ("fields", entry.name)
        targets = {
            obj: _origin(entry.document, (*base, "salesforce", obj.lower()))
            for obj in ("Lead", "Contact")
        }
        targets[HUBSPOT_OBJECT] = _origin(entry.document, (*base, "hubspot"))
        chosen: dict[System, ValueMap] = {}
        if raw.values is not None and Transform.MAP_VALUES in raw.transform:
            for system in System:
                name = getattr(raw.values, system.value)
                if name is not None:
                    chosen[system] = value_maps[name]
        mappings.append(
            FieldMapping(
                name=entry.name,
                canonical=CANONICAL_FIELDS[entry.canonical],
                sync=raw.sync,
                transforms=tuple(raw.transform),
                salesforce=salesforce_targets(raw),
                hubspot=raw.hubspot,
                value_maps=chosen,
                max_length=raw.max_length,
                description=raw.description,
                origin=_origin(entry.document, base),
                target_origins=targets,
            )
        )
    return MappingSet(FORMAT_VERSION, tuple(files), tuple(mappings), value_maps, sha256=files)


def load_mappings(mappings_dir: Path) -> MappingSet:
    """Read and validate every mapping file in ``mappings_dir`` (or just that file, if it is one).

    Raises :class:`MappingError` listing every problem found (file, line, column, mapping, hint).
    """
    where = display_path(mappings_dir)
    if mappings_dir.is_file():
        paths = [mappings_dir]
    elif mappings_dir.is_dir():
        paths = mapping_files(mappings_dir)
    else:
        raise MappingError(
            [Problem(where, "mappings directory not found", hint="set mappings_dir in settings")]
        )
    if not paths:
        raise MappingError(
            [Problem(where, "no mapping files (*.yaml)", hint="copy the shipped mappings/ files")]
        )
    problems: list[Problem] = []
    fields: list[FieldEntry] = []
    maps: list[MapEntry] = []
    files: dict[str, str] = {}
    for path in paths:
        try:
            document = load_yaml(path, MappingError)
        except MappingError as error:
            problems.extend(error.problems)
            continue
        files[document.name] = document.sha256
        file_fields, file_maps, file_problems = _parse(document)
        problems.extend(file_problems)
        fields.extend(file_fields)
        maps.extend(file_maps)
    problems.extend(check(fields, maps))
    if problems:
        # Sorted as an admin reads: file by file, top to bottom.
        problems.sort(key=lambda p: (p.where, p.line or 0, p.column or 0))
        raise MappingError(problems)
    return _build(fields, maps, files)
