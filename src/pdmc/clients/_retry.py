"""The retry policy: what is transient, how long to wait, and when to give up.

Nothing here does I/O. The HTTP shells build a tenacity ``Retrying`` (or
``AsyncRetrying``) from a :class:`RetryPolicy` and the exception a call raised.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from datetime import UTC
from typing import Final

import httpx
from attrs import field, frozen, validators

from pdmc.errors import (
    ConnectError,
    QuotaExhaustedError,
    RateLimitError,
    RetryableError,
    ThrottledError,
)

__all__ = ["RetryPolicy", "advised_wait", "parse_retry_after"]

_MAX_ATTEMPTS_CEILING: Final = 20


def parse_retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """Return the seconds a ``Retry-After`` header asks for, or ``None``.

    The header holds either a number of seconds or an HTTP date. A date in the past
    gives ``0.0``; a value that is neither gives ``None``.
    """
    if value is None:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now())


def _positive(_instance: object, attribute: object, value: float) -> None:
    if value < 0:
        raise ValueError(f"{getattr(attribute, 'name', 'value')} must not be negative")


@frozen(kw_only=True)
class RetryPolicy:
    """How a client retries transient failures.

    Transient: connection errors, timeouts, 408, 429, 5xx, a 403 without a JSON body
    (Mailchimp under load, Pipedrive after ignored 429s), and truncated JSON. Never
    retried: 400, 401, 404, 409, 422 and a 403 with an error body.

    Waits honour ``Retry-After`` (seconds or HTTP date) and the vendor's rate-limit
    reset header, capped at ``max_wait``; otherwise the wait grows exponentially from
    ``initial_wait`` with full jitter, also capped at ``max_wait``.

    A request that may have changed something on the server (a non-idempotent POST)
    is only retried when the service surely did not act on it: a refused connection,
    429, or a throttling 403. A timeout or 5xx on such a request surfaces at once so
    the caller can look before writing again.

    Attributes:
        attempts: total tries of one call, the first included (1 disables retries).
        initial_wait: the first backoff step, in seconds.
        max_wait: the cap on any single wait, advised or computed, in seconds.
        backoff: ``False`` turns every wait into zero: the documented switch for tests.
        jitter: a random source for the backoff (``random.random`` by default); pass a
            seeded ``random.Random().random`` for reproducible waits.
    """

    attempts: int = field(default=5, validator=validators.in_(range(1, _MAX_ATTEMPTS_CEILING + 1)))
    initial_wait: float = field(default=0.5, validator=_positive)
    max_wait: float = field(default=60.0, validator=_positive)
    backoff: bool = True
    jitter: Callable[[], float] = field(default=random.random, repr=False, eq=False)

    @classmethod
    def no_wait(cls, attempts: int = 5) -> RetryPolicy:
        """A policy that retries as usual but never waits: use it in tests."""
        return cls(attempts=attempts, backoff=False)

    def is_retryable(self, error: BaseException, *, idempotent: bool) -> bool:
        """Return whether ``error`` may be retried for a request of this kind."""
        if not isinstance(error, RetryableError) or isinstance(error, QuotaExhaustedError):
            return False
        if idempotent:
            return True
        return isinstance(error, ConnectError | RateLimitError | ThrottledError)

    def wait_seconds(self, error: BaseException | None, attempt: int) -> float:
        """Return how long to wait before try number ``attempt + 1``."""
        if not self.backoff:
            return 0.0
        advised = getattr(error, "retry_after", None)
        if isinstance(advised, int | float):
            return min(float(advised), self.max_wait)
        ceiling: float = min(self.initial_wait * 2.0 ** max(0, attempt - 1), self.max_wait)
        return ceiling * self.jitter()


def advised_wait(response: httpx.Response, reset_header: str | None) -> float | None:
    """Return the wait a response advises: ``Retry-After``, else the reset header."""
    advised = parse_retry_after(response.headers.get("retry-after"))
    if advised is not None:
        return advised
    if reset_header is not None:
        raw = response.headers.get(reset_header)
        if raw is not None:
            try:
                return max(0.0, float(raw))
            except ValueError:
                return None
    return None
