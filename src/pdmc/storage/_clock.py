"""Where the store reads the time: a small protocol, so tests and notebooks can control it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from pdmc.errors import ConfigurationError

__all__ = ["Clock", "SystemClock", "read_clock"]


@runtime_checkable
class Clock(Protocol):
    """Anything with a ``now()`` that returns a timezone-aware datetime."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware (UTC preferred)."""
        ...


class SystemClock:
    """The machine's clock, in UTC; the default of every store."""

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


def read_clock(clock: Clock) -> datetime:
    """Return ``clock.now()`` in UTC, refusing a naive datetime."""
    now: object = clock.now()
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise ConfigurationError(
            f"the clock {clock!r} returned {now!r}, not a timezone-aware datetime"
        )
    return now.astimezone(UTC)
