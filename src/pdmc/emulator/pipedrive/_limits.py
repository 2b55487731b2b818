"""Pipedrive's rate limits on the emulator clock.

* A burst window of 2 seconds per token: the plan's requests per window (more for
  OAuth access tokens), and 10 per window for search on every plan.
* A daily token budget per company (30,000 x plan multiplier x seats), charged each
  operation's ``x-token-cost`` and reset at midnight UTC.
* A client that keeps sending while refused is blocked: after
  :data:`STRIKES_BEFORE_BLOCK` refusals in a row without an admitted request in
  between, the token gets an HTML 403 for :data:`BLOCK_SECONDS` (the emulator's
  documented choice; Pipedrive does not publish its threshold).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final

from attrs import define, frozen

__all__ = [
    "BLOCK_SECONDS",
    "STRIKES_BEFORE_BLOCK",
    "WINDOW_SECONDS",
    "Budget",
    "BurstLimiter",
    "BurstUse",
    "Refusal",
    "WindowState",
]

WINDOW_SECONDS: Final = 2.0
STRIKES_BEFORE_BLOCK: Final = 10
"""Consecutive refused requests (429) a token may send before it is blocked."""
BLOCK_SECONDS: Final = 60.0
"""How long a blocked token gets HTML 403 answers, in emulated seconds."""


@frozen
class WindowState:
    """A token's burst window after a request: the headers Pipedrive sends."""

    limit: int
    remaining: int
    reset: int


@frozen
class Refusal:
    """A request the burst window refused: the wait to advise and the window's state."""

    retry_after: int
    window: WindowState


@frozen
class BurstUse:
    """How a bucket's 2-second windows were used, summed over every token.

    ``admitted / (windows * limit)`` is the share of the request slots a client used
    in the windows it opened; ``refused`` counts the requests the windows turned away.
    """

    windows: int
    admitted: int
    refused: int


@define
class _Window:
    started: float
    used: int = 0


@define
class _Strikes:
    count: int = 0
    blocked_until: float = -math.inf


class BurstLimiter:
    """The 2-second windows of every token, and the blocks of tokens that ignore 429s.

    ``clock`` is a monotonic clock in seconds (the emulator clock's ``monotonic``).
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._windows: dict[tuple[str, str], _Window] = {}
        self._strikes: dict[str, _Strikes] = {}
        self._opened: Counter[str] = Counter()
        self._admitted: Counter[str] = Counter()
        self._refused: Counter[str] = Counter()

    def _window(self, key: str, bucket: str, now: float) -> _Window:
        window = self._windows.get((key, bucket))
        if window is None or now - window.started >= WINDOW_SECONDS:
            window = _Window(now)
            self._windows[(key, bucket)] = window
            self._opened[bucket] += 1
        return window

    def use(self) -> dict[str, BurstUse]:
        """Windows opened, requests admitted and refused per bucket, since the start."""
        return {
            bucket: BurstUse(opened, self._admitted[bucket], self._refused[bucket])
            for bucket, opened in self._opened.items()
        }

    def is_blocked(self, key: str) -> bool:
        """Whether the token is blocked for having ignored too many refusals."""
        strikes = self._strikes.get(key)
        return strikes is not None and self._clock() < strikes.blocked_until

    def strike(self, key: str) -> bool:
        """Count a refused request; return whether the token is now blocked."""
        strikes = self._strikes.setdefault(key, _Strikes())
        strikes.count += 1
        if strikes.count >= STRIKES_BEFORE_BLOCK:
            strikes.blocked_until = self._clock() + BLOCK_SECONDS
            strikes.count = 0
            return True
        return False

    def admit(self, key: str, limits: dict[str, int]) -> WindowState | Refusal:
        """Take one request from each named window (``{"general": 80, "search": 10}``).

        Returns the state of the tightest window when admitted, or a refusal (the
        request then uses nothing).
        """
        now = self._clock()
        windows = {bucket: self._window(key, bucket, now) for bucket in limits}
        for bucket, window in windows.items():
            if window.used >= limits[bucket]:
                reset = max(1, math.ceil(window.started + WINDOW_SECONDS - now))
                self._refused[bucket] += 1
                return Refusal(reset, WindowState(limits[bucket], 0, reset))
        for bucket, window in windows.items():
            window.used += 1
            self._admitted[bucket] += 1
        self._strikes.pop(key, None)
        states = [
            WindowState(
                limits[bucket],
                limits[bucket] - window.used,
                max(1, math.ceil(window.started + WINDOW_SECONDS - now)),
            )
            for bucket, window in windows.items()
        ]
        return min(states, key=lambda state: state.remaining)


class Budget:
    """A company's daily token budget, reset at midnight UTC on the emulator clock."""

    def __init__(self, size: int, now: Callable[[], datetime]) -> None:
        self.size = size
        self._now = now
        self._day = now().date()
        self._spent = 0

    def _roll(self) -> None:
        today = self._now().date()
        if today != self._day:
            self._day = today
            self._spent = 0

    @property
    def spent(self) -> int:
        """Tokens charged today."""
        self._roll()
        return self._spent

    @property
    def left(self) -> int:
        """Tokens left today."""
        return max(0, self.size - self.spent)

    def affords(self, cost: int) -> bool:
        """Whether ``cost`` more tokens fit in today's budget."""
        return self.spent + cost <= self.size

    def charge(self, cost: int) -> None:
        """Spend ``cost`` tokens."""
        self._roll()
        self._spent += cost

    def seconds_to_reset(self) -> int:
        """Whole seconds until midnight UTC."""
        now = self._now().astimezone(UTC)
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
        return max(1, math.ceil((midnight - now).total_seconds()))
