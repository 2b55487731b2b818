"""Small shared types: the UNSET sentinel that tells "leave out" from "send null"."""

from __future__ import annotations

import enum
from typing import Final, Literal, TypeAlias, TypeVar

__all__ = ["UNSET", "Unset", "UnsetType", "is_set"]

_T = TypeVar("_T")


class UnsetType(enum.Enum):
    """The type of :data:`UNSET`; a one-member enum so type checkers can narrow it."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> Literal[False]:
        return False


UNSET: Final = UnsetType.UNSET
"""Leave this field out of the request (``None`` means "send null", which clears it)."""

Unset: TypeAlias = UnsetType


def is_set(value: _T | UnsetType) -> bool:
    """Return whether ``value`` was given (``None`` counts as given)."""
    return value is not UNSET
