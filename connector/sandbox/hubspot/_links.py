"""Associations between records, kept both ways with HubSpot's type ids (reference §2.3)."""

from __future__ import annotations

__all__ = ["Links"]

# (from type, to type) -> from id -> to id -> association type ids
_Table = dict[tuple[str, str], dict[str, dict[str, set[int]]]]


class Links:
    """Which record is associated with which; callers hold the store lock."""

    def __init__(self) -> None:
        self._by_pair: _Table = {}

    def add(self, a: str, from_id: str, b: str, to_id: str, *, forward: int, backward: int) -> None:
        """Link ``from_id`` (type ``a``) and ``to_id`` (type ``b``) both ways."""
        self._by_pair.setdefault((a, b), {}).setdefault(from_id, {}).setdefault(to_id, set()).add(
            forward
        )
        self._by_pair.setdefault((b, a), {}).setdefault(to_id, {}).setdefault(from_id, set()).add(
            backward
        )

    def targets(self, a: str, from_id: str, b: str) -> dict[str, set[int]]:
        """``to id -> type ids`` of one record's associations to type ``b``."""
        return self._by_pair.get((a, b), {}).get(from_id, {})

    def kinds_from(self, a: str) -> list[str]:
        """The types records of type ``a`` have ever been linked to."""
        return [b for (first, b) in self._by_pair if first == a]

    def move(self, kind: str, old: str, new: str) -> None:
        """A merge: every association of ``old`` now belongs to ``new``."""
        for (a, b), by_from in self._by_pair.items():
            if a == kind and old in by_from:
                for to_id, types in by_from.pop(old).items():
                    by_from.setdefault(new, {}).setdefault(to_id, set()).update(types)
                    back = self._by_pair[(b, a)].get(to_id, {})
                    back.setdefault(new, set()).update(back.pop(old, set()))
