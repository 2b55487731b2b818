"""The emulator's clock: one controllable time shared by both fake services."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Final

__all__ = ["EmulatorClock"]

_DEFAULT_START: Final = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class EmulatorClock:
    """A clock that moves only when told to (or when a client sleeps on it).

    Wire a client's ``sleep`` and ``clock`` to :meth:`sleep` and :meth:`monotonic`, and
    retries, backoff and pacing advance emulated time instead of waiting for real.
    Thread-safe.
    """

    def __init__(self, start: datetime = _DEFAULT_START) -> None:
        if start.tzinfo is None:
            raise ValueError("the emulator clock needs a timezone-aware start")
        self._lock = threading.Lock()
        self._now = start.astimezone(UTC)
        self._elapsed = 0.0

    def __repr__(self) -> str:
        return f"EmulatorClock(now={self.now().isoformat()!r})"

    def now(self) -> datetime:
        """The current emulated time (UTC)."""
        with self._lock:
            return self._now

    def time(self) -> float:
        """The current emulated time as a POSIX timestamp."""
        return self.now().timestamp()

    def monotonic(self) -> float:
        """Seconds elapsed since the clock was made; never goes back."""
        with self._lock:
            return self._elapsed

    def advance(self, seconds: float) -> datetime:
        """Move time forward by ``seconds`` and return the new time."""
        if seconds < 0:
            raise ValueError("the emulator clock never goes back")
        with self._lock:
            self._now += timedelta(seconds=seconds)
            self._elapsed += seconds
            return self._now

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (not earlier than now)."""
        self.advance((when - self.now()).total_seconds())

    def sleep(self, seconds: float) -> None:
        """A ``time.sleep`` stand-in that advances emulated time at once."""
        self.advance(max(0.0, seconds))

    async def asleep(self, seconds: float) -> None:
        """An ``asyncio.sleep`` stand-in that advances emulated time at once."""
        self.advance(max(0.0, seconds))
