"""Admin-edited YAML: loading with line numbers, strict validation, precise errors, round trips.

YAML here is data, not a language: files are parsed with ruamel.yaml's round-trip loader (YAML
1.2, so ``no`` stays a string; duplicate keys are errors), validated against strict pydantic
models, and every problem is reported with file, line, column, the dotted path of the offending
entry, and a hint (including "did you mean ...?" for near-miss keys). All problems are reported
at once. Writing back keeps the admin's comments and ordering.

Every file is untrusted input: one over :data:`MAX_FILE_BYTES`, nested deeper than
:data:`MAX_DEPTH`, or whose aliases repeat more than :data:`MAX_ALIAS_ENTRIES` entries is
refused while it is read, naming the line (see :mod:`connector._yamlbounds` for why each bound
exists and why it is set where it is).
"""

from __future__ import annotations

import difflib
import hashlib
import types
import typing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from connector._yamlbounds import (
    MAX_ALIAS_ENTRIES,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    BoundedComposer,
    YamlBoundError,
)
from connector.errors import ConfigError, DefinitionError, Problem, display_path

__all__ = [
    "MAX_ALIAS_ENTRIES",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "YamlDocument",
    "did_you_mean",
    "dump_yaml",
    "load_yaml",
    "problems_from_validation",
    "validate_document",
]

M = TypeVar("M", bound=BaseModel)
Loc = tuple[int | str, ...]


def _represent_none(representer: Any, _: None) -> Any:
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.Composer = BoundedComposer
    yaml.allow_duplicate_keys = False
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 100
    # ruamel writes None as an empty value; an admin who wrote ``null`` must get ``null`` back.
    yaml.representer.add_representer(type(None), _represent_none)
    return yaml


@dataclass(frozen=True)
class YamlDocument:
    """A parsed YAML file that remembers where every key and item came from."""

    path: Path
    data: Any  # CommentedMap / CommentedSeq / scalar, as ruamel.yaml returns it
    # SHA-256 of the exact bytes parsed: a plan records it, so that applying the plan under
    # an edited file is refused (connector/sync/plan_seal.py).
    sha256: str = ""

    @property
    def name(self) -> str:
        return display_path(self.path)

    def position(self, loc: Sequence[int | str]) -> tuple[int | None, int | None]:
        """1-based (line, column) of the entry at ``loc``, or of its nearest known ancestor."""
        node: Any = self.data
        line: int | None = None
        column: int | None = None
        if isinstance(node, CommentedMap | CommentedSeq) and node.lc.line is not None:
            line, column = node.lc.line + 1, node.lc.col + 1
        for part in loc:
            if isinstance(node, CommentedMap) and part in node:
                key_line, key_col = node.lc.key(part)
                line, column = key_line + 1, key_col + 1
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
                item_line, item_col = node.lc.item(part)
                line, column = item_line + 1, item_col + 1
                node = node[part]
            else:
                break
        return line, column

    def plain(self) -> Any:
        """The document as plain dicts, lists and scalars (what pydantic validates)."""
        return _plain(self.data)


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(item) for item in node]
    if isinstance(node, str):
        return str(node)  # drop ruamel's quoted-string subclasses
    return node


def load_yaml(
    path: Path, error: type[DefinitionError] | type[ConfigError] = DefinitionError
) -> YamlDocument:
    """Parse ``path``; raise ``error`` with the line and column of a syntax problem.

    ``error`` is the :class:`DefinitionError` for the kind of file, or :class:`ConfigError` for
    a YAML file given as a setting (a sandbox fault plan).
    """
    name = display_path(path)
    try:
        # Read one byte past the limit, not the whole file: it may be huge, or endless (a pipe).
        with path.open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise error([Problem(where=name, message="file not found")]) from None
    except OSError as exc:
        raise error([Problem(where=name, message=f"cannot read file: {exc}")]) from None
    # Before decoding: the limit may fall inside a character.
    if len(raw) > MAX_FILE_BYTES:
        raise error(
            [
                Problem(
                    where=name,
                    message=f"file is larger than {MAX_FILE_BYTES // (1 << 20)} MiB, "
                    "the most crmsync reads from one YAML file",
                    hint="check this is the file you meant: crmsync's own are a few KiB "
                    "(mappings may be split across several files)",
                )
            ]
        )
    try:
        # Universal newlines, as a text-mode read would give.
        text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        raise error([Problem(where=name, message=f"cannot read file: {exc}")]) from None
    try:
        data = _yaml().load(text)
    except YamlBoundError as exc:
        raise error(
            [
                Problem(
                    where=name,
                    line=exc.line,
                    column=exc.column,
                    message=exc.message,
                    hint=exc.hint,
                )
            ]
        ) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(part for part in (exc.context, exc.problem) if part) or "invalid YAML"
        if "duplicate key" in message or "found duplicate key" in str(exc):
            message = "duplicate key (each key may appear once per mapping)"
        raise error(
            [
                Problem(
                    where=name,
                    line=mark.line + 1 if mark else None,
                    column=mark.column + 1 if mark else None,
                    message=f"not valid YAML: {message}",
                    hint="check indentation and quoting near this line",
                )
            ]
        ) from None
    except YAMLError as exc:
        raise error([Problem(where=name, message=f"not valid YAML: {exc}")]) from None
    if data is None:
        raise error([Problem(where=name, message="file is empty", hint="see the shipped example")])
    return YamlDocument(path=path, data=data, sha256=hashlib.sha256(raw).hexdigest())


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A "did you mean ...?" hint for a near miss, or an empty string."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"did you mean {matches[0]!r}?" if matches else ""


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types an annotation may hold (through Optional, Union and Annotated)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        found: list[Any] = []
        for arg in typing.get_args(annotation):
            found.extend(_unwrap(arg))
        return found
    return [annotation]


def _allowed_keys(model: type[BaseModel], loc: Loc) -> list[str]:
    """Field names valid at the mapping that contains ``loc[-1]`` (for "did you mean")."""
    candidates: list[Any] = [model]
    for part in loc[:-1]:
        following: list[Any] = []
        for candidate in candidates:
            for concrete in _unwrap(candidate):
                origin = typing.get_origin(concrete)
                args = typing.get_args(concrete)
                if isinstance(concrete, type) and issubclass(concrete, BaseModel):
                    field = concrete.model_fields.get(str(part))
                    if field is not None:
                        following.append(field.annotation)
                elif origin in (list, tuple, Sequence) and args:
                    following.append(args[0])
                elif origin is dict and len(args) == 2:
                    following.append(args[1])
        candidates = following
    keys: list[str] = []
    for candidate in candidates:
        for concrete in _unwrap(candidate):
            if isinstance(concrete, type) and issubclass(concrete, BaseModel):
                keys.extend(field.alias or name for name, field in concrete.model_fields.items())
    return keys


_TYPE_TAGS = frozenset({"str", "int", "float", "bool", "list", "dict", "none", "is-instance"})


def _document_loc(document: YamlDocument, loc: Loc) -> Loc:
    """Drop pydantic's union-member tags from a loc, keeping only real document positions.

    A part absent from the document is a tag unless it is the last part (a missing or unknown
    key), because nothing below a missing key can produce its own error.
    """
    node: Any = document.data
    kept: list[int | str] = []
    for index, part in enumerate(loc):
        if isinstance(node, CommentedMap) and part in node:
            kept.append(part)
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            kept.append(part)
            node = node[part]
        elif index == len(loc) - 1 and not (
            isinstance(part, str) and ("[" in part or part in _TYPE_TAGS)
        ):
            kept.append(part)
    return tuple(kept)


def problems_from_validation(
    document: YamlDocument,
    error: ValidationError,
    model: type[BaseModel],
    *,
    subject: Callable[[Loc], str] | None = None,
) -> list[Problem]:
    """Turn a pydantic error into problems with line numbers and hints.

    ``subject`` names the entry a location belongs to (e.g. ``mapping 'email'``); by default the
    dotted path is used.
    """
    problems: list[Problem] = []
    for detail in error.errors(include_url=False, include_input=False):
        loc = _document_loc(document, tuple(detail["loc"]))
        line, column = document.position(loc)
        dotted = ".".join(str(part) for part in loc)
        field = subject(loc) if subject else dotted
        message = str(detail["msg"]).removeprefix("Value error, ")
        hint = ""
        kind = detail["type"]
        if kind == "extra_forbidden" and loc:
            message = f"unknown key {str(loc[-1])!r}"
            allowed = _allowed_keys(model, loc)
            hint = did_you_mean(str(loc[-1]), allowed) or (
                "allowed keys: " + ", ".join(sorted(allowed)) if allowed else ""
            )
        elif kind == "missing":
            message = f"required key {str(loc[-1])!r} is missing" if loc else "missing"
            hint = "add it (see the shipped example file)"
        elif kind in ("literal_error", "enum"):
            expected = (detail.get("ctx") or {}).get("expected", "")
            hint = f"expected {expected}" if expected else ""
        problems.append(
            Problem(
                where=document.name,
                line=line,
                column=column,
                field=field,
                message=message,
                hint=hint,
            )
        )
    return problems


def validate_document(
    document: YamlDocument,
    model: type[M],
    error: type[DefinitionError] = DefinitionError,
    *,
    context: dict[str, Any] | None = None,
    subject: Callable[[Loc], str] | None = None,
) -> M:
    """Validate a document against a strict model; raise ``error`` listing every problem."""
    try:
        return model.model_validate(document.plain(), context=context)
    except ValidationError as exc:
        raise error(problems_from_validation(document, exc, model, subject=subject)) from None


def dump_yaml(document: YamlDocument, path: Path | None = None) -> str:
    """Write the (possibly edited) document back, comments and ordering intact; return the text."""
    stream = StringIO()
    _yaml().dump(document.data, stream)
    text = stream.getvalue()
    target = path or document.path
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    return text
