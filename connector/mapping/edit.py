"""Edit mapping files in place, keeping the admin's comments, ordering and quoting.

Each edit changes one value through ruamel.yaml's round trip, writes the file, and re-validates
the whole mapping directory; if the result is invalid the file is put back as it was and the
:class:`~connector.errors.MappingError` is raised, so an edit never leaves a broken mapping.
"""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml.comments import CommentedMap

from connector.errors import MappingError, Problem, display_path
from connector.funnel import FunnelStage
from connector.mapping.loader import load_mappings, mapping_files
from connector.mapping.model import MappingSet
from connector.mapping.rules import SyncRule
from connector.yamlfile import YamlDocument, did_you_mean, dump_yaml, load_yaml

__all__ = ["add_inbound_value", "set_sync_rule"]


def _files(mappings_dir: Path) -> list[Path]:
    return [mappings_dir] if mappings_dir.is_file() else mapping_files(mappings_dir)


def _find(
    mappings_dir: Path, section: str, name: str, noun: str
) -> tuple[YamlDocument, CommentedMap]:
    known: list[str] = []
    for path in _files(mappings_dir):
        document = load_yaml(path, MappingError)
        entries = document.data.get(section) if isinstance(document.data, CommentedMap) else None
        if not isinstance(entries, CommentedMap):
            continue
        entry = entries.get(name)
        if isinstance(entry, CommentedMap):
            return document, entry
        known.extend(str(key) for key in entries)
    raise MappingError(
        [
            Problem(
                display_path(mappings_dir),
                f"no {noun} {name!r}",
                hint=did_you_mean(name, known) or f"{noun}s: " + ", ".join(known),
            )
        ]
    )


def _write_checked(mappings_dir: Path, document: YamlDocument) -> MappingSet:
    original = document.path.read_text(encoding="utf-8")
    dump_yaml(document)
    try:
        return load_mappings(mappings_dir)
    except MappingError:
        document.path.write_text(original, encoding="utf-8")
        raise


def set_sync_rule(mappings_dir: Path, mapping: str, rule: SyncRule) -> MappingSet:
    """Set the sync rule of ``mapping``; return the re-validated mapping set."""
    document, entry = _find(mappings_dir, "fields", mapping, "mapping")
    entry["sync"] = rule.value
    return _write_checked(mappings_dir, document)


def add_inbound_value(
    mappings_dir: Path, value_map: str, value: str, stage: FunnelStage | None
) -> MappingSet:
    """Teach ``value_map`` that reading ``value`` means ``stage`` (``None``: means nothing)."""
    document, entry = _find(mappings_dir, "value_maps", value_map, "value map")
    inbound = entry.get("inbound")
    if not isinstance(inbound, CommentedMap):
        inbound = CommentedMap()
        position = list(entry).index("outbound") + 1 if "outbound" in entry else len(entry)
        entry.insert(position, "inbound", inbound)
    inbound[value] = None if stage is None else stage.value
    return _write_checked(mappings_dir, document)
