"""Argument checks shared by the records, the batch and the stores.

They take ``object`` on purpose: callers may be untyped, and bad input must end in a
:class:`~pdmc.errors.ConfigurationError` that names the argument, never in a crash
deeper down.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pdmc.errors import ConfigurationError

__all__ = ["require_positive", "require_text", "require_time", "require_ttl"]


def require_text(what: str, value: object) -> str:
    """Return ``value`` if it is a non-empty ``str``."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{what} must be a non-empty str, got {value!r}")
    return value


def require_time(what: str, value: object) -> datetime:
    """Return ``value`` if it is a timezone-aware ``datetime``."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ConfigurationError(f"{what} must be a timezone-aware datetime, got {value!r}")
    return value


def require_positive(what: str, value: object) -> int:
    """Return ``value`` if it is an ``int`` of at least 1 (``bool`` is refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"{what} must be an int >= 1, got {value!r}")
    return value


def require_ttl(what: str, value: object) -> timedelta:
    """Return ``value`` if it is a positive ``timedelta``."""
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ConfigurationError(f"{what} must be a positive timedelta, got {value!r}")
    return value
