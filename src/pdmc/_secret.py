"""A wrapper that keeps credentials out of reprs, logs, exceptions and fixtures."""

from __future__ import annotations

import hmac
from typing import Final, final

__all__ = ["Secret", "reveal"]

_MASK: Final = "**********"


@final
class Secret:
    """A credential (API key, OAuth token, client or webhook secret).

    ``str()``, ``repr()`` and formatting show a mask; only :meth:`reveal` returns the
    value, and pdmc calls it only where the value goes on the wire. Two secrets
    compare equal in constant time. A secret cannot be pickled by accident into a
    log or a cache: it refuses to be pickled at all.

    >>> key = Secret("abc123-us6")
    >>> key
    Secret('**********')
    >>> f"key={key}"
    'key=**********'
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):  # a runtime guard for untyped callers
            raise TypeError("a Secret wraps a str")
        self._value = value

    def reveal(self) -> str:
        """Return the wrapped value; call it only to put the value on the wire."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return f"Secret({_MASK!r})"

    def __str__(self) -> str:
        return _MASK

    def __format__(self, format_spec: str) -> str:
        return format(_MASK, format_spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")


def reveal(value: Secret | str) -> str:
    """Return the plain value of a secret, or the string itself."""
    return value.reveal() if isinstance(value, Secret) else value
