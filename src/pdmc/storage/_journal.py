"""An undo log, so a batch applied to in-memory structures can be taken back whole."""

from __future__ import annotations

from typing import Any, Final, TypeVar

__all__ = ["Journal"]

_K = TypeVar("_K")
_V = TypeVar("_V")
_ABSENT: Final = object()


class Journal:
    """Records how to undo each change made through it; :meth:`rollback` undoes them all."""

    def __init__(self) -> None:
        # (mapping, key, value before) for a mapping change, (list, None, _ABSENT) for an append
        self._undo: list[tuple[Any, Any, Any]] = []

    def set(self, mapping: dict[_K, _V], key: _K, value: _V) -> None:
        """Set ``mapping[key] = value``, remembering what was there."""
        self._undo.append((mapping, key, mapping.get(key, _ABSENT)))
        mapping[key] = value

    def setdefault(self, mapping: dict[_K, _V], key: _K, default: _V) -> _V:
        """Return ``mapping[key]``, first setting it to ``default`` if absent."""
        if key not in mapping:
            self.set(mapping, key, default)
        return mapping[key]

    def delete(self, mapping: dict[_K, _V], key: _K) -> None:
        """Remove ``key`` from ``mapping`` if present, remembering its value."""
        if key in mapping:
            self._undo.append((mapping, key, mapping.pop(key)))

    def append(self, items: list[_V], item: _V) -> None:
        """Append ``item`` to ``items``, remembering to take it off again."""
        items.append(item)
        self._undo.append((items, None, _ABSENT))

    def rollback(self) -> None:
        """Undo every recorded change, newest first."""
        while self._undo:
            container, key, before = self._undo.pop()
            if isinstance(container, list):
                container.pop()
            elif before is _ABSENT:
                container.pop(key, None)
            else:
                container[key] = before
