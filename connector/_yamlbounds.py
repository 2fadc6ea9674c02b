"""Bounds on an admin-edited YAML file, checked while it is parsed, before anything walks it.

A YAML file that an admin can edit is untrusted input, and three things in one cost far more
than its size suggests:

- **aliases**: ``*name`` repeats the block anchored ``&name``. ruamel.yaml shares the repeated
  object, but everything that reads the document (our plain-data copy, pydantic, the checks)
  walks it expanded, so ten lines of nested aliases ("billion laughs") hold 10**11 entries;
- **an alias inside the block it names**: ruamel.yaml quietly reads it as null, a value nobody
  wrote;
- **nesting**: ruamel.yaml composes and constructs recursively, so a few hundred levels overflow
  Python's stack in the middle of a load.

:class:`BoundedComposer` counts as it composes and stops at the first node over a bound, so
the refusal names the alias or the bracket an admin must look at, and comes in milliseconds.
The file size bound is applied before parsing, in :func:`connector.yamlfile.load_yaml`.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml.composer import Composer
from ruamel.yaml.events import AliasEvent, CollectionStartEvent, NodeEvent

__all__ = ["MAX_ALIAS_ENTRIES", "MAX_DEPTH", "MAX_FILE_BYTES", "BoundedComposer", "YamlBoundError"]

# The shipped files are 0.4 to 11 KiB and a mapping file with a few hundred commented entries
# stays under 200 KiB; 1 MiB leaves room for that five times over, while keeping a load (about
# 3 s per MiB in ruamel.yaml's pure-Python parser) and its memory (tens of MiB) bounded.
MAX_FILE_BYTES = 1 << 20

# The shipped files nest at most 7 levels (rules.yaml's conditions); 32 leaves room for deeper
# any/all conditions and keeps every recursive walk (composer, constructor, pydantic, our own
# copies) far from Python's recursion limit.
MAX_DEPTH = 32

# How many entries (scalars, lists and mappings) aliases may repeat in one file, counting each
# alias as the size of the block it repeats. Reusing a small anchor, e.g. a 10-entry block
# a hundred times, costs 1,000; ten times that is still read in well under a second.
MAX_ALIAS_ENTRIES = 10_000

# What ``_entries_by_anchor`` holds for an anchored block still being composed.
_OPEN = -1


class YamlBoundError(Exception):
    """A file exceeds a bound; carries the 1-based position to report and how to fix it."""

    def __init__(self, message: str, hint: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.line = line
        self.column = column


class BoundedComposer(Composer):
    """ruamel.yaml's composer, refusing deep nesting and aliases that repeat too much.

    Install it with ``yaml.Composer = BoundedComposer`` on a fresh ``YAML`` object per load:
    it keeps counts for one document.
    """

    def __init__(self, loader: Any = None) -> None:
        super().__init__(loader)
        self._nesting = 0
        self._composed = 0  # entries so far, each alias counted as the size of what it repeats
        self._repeated = 0  # of which repeated by aliases
        # Entries in the block each anchor names, as aliases to it would repeat them.
        self._entries_by_anchor: dict[str, int] = {}

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        if isinstance(event, AliasEvent):
            self._count_alias(event)
            return super().compose_node(parent, index)
        collection = isinstance(event, CollectionStartEvent)
        if collection:
            self._nesting += 1
            if self._nesting > MAX_DEPTH:
                raise _bound_error(
                    event,
                    f"nested more than {MAX_DEPTH} levels deep",
                    "flatten this part; no crmsync file needs more than a few levels",
                )
        anchor = event.anchor if isinstance(event, NodeEvent) else None
        if anchor is not None:
            self._entries_by_anchor[anchor] = _OPEN
        before = self._composed
        node = super().compose_node(parent, index)
        self._composed += 1
        # If the block redefined its own anchor inside, aliases after it repeat the inner block
        # (as ruamel.yaml resolves them), whose size is already recorded.
        if anchor is not None and self._entries_by_anchor.get(anchor) == _OPEN:
            self._entries_by_anchor[anchor] = self._composed - before
        if collection:
            self._nesting -= 1
        return node

    def _count_alias(self, event: AliasEvent) -> None:
        name = event.anchor
        entries = self._entries_by_anchor.get(name)
        if entries is None:
            return  # an undefined alias: ruamel.yaml reports it with its position
        if entries == _OPEN:
            raise _bound_error(
                event,
                f"alias *{name} is used inside the block it names (&{name}), "
                "so that block would contain itself",
                f"write the entries out instead of *{name}",
            )
        self._repeated += entries
        self._composed += entries
        if self._repeated > MAX_ALIAS_ENTRIES:
            raise _bound_error(
                event,
                f"aliases repeat more than {MAX_ALIAS_ENTRIES:,} entries in this file "
                f"(*{name} here repeats {entries:,})",
                "an anchor (&name) is for reusing a small block a few times; "
                "write the entries out instead",
            )


def _bound_error(event: NodeEvent, message: str, hint: str) -> YamlBoundError:
    mark = event.start_mark
    return YamlBoundError(message, hint, line=mark.line + 1, column=mark.column + 1)
