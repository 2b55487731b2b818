"""Fault injection: scripted or seeded-random failures on either fake service."""

from __future__ import annotations

import enum
import random
import threading
from collections import Counter, deque
from collections.abc import Iterable

from attrs import frozen

__all__ = ["Fault", "FaultKind", "FaultPlan"]


class FaultKind(enum.Enum):
    """The failures the emulator can inject, each as the real services show them."""

    RATE_LIMIT = "rate_limit"
    """429 with ``Retry-After`` and the vendor's error body."""
    RATE_LIMIT_NO_HEADERS = "rate_limit_no_headers"
    """429 with neither body nor headers."""
    SERVER_ERROR = "server_error"
    """503 with the vendor's error body."""
    FORBIDDEN_NO_BODY = "forbidden_no_body"
    """403 with an empty body (Mailchimp under load)."""
    FORBIDDEN_HTML = "forbidden_html"
    """403 with an HTML page (Pipedrive after ignored 429s)."""
    TIMEOUT_BEFORE_COMMIT = "timeout_before_commit"
    """The client times out; the request never reached the service."""
    TIMEOUT_AFTER_COMMIT = "timeout_after_commit"
    """The service acted on the request, then the client timed out."""
    CONNECTION_RESET = "connection_reset"
    """The connection breaks before the request is read."""
    TRUNCATED_JSON = "truncated_json"
    """The service acted; the body arrives cut in half."""
    SLOW = "slow"
    """The answer takes ``seconds`` of emulated time."""


@frozen
class Fault:
    """One injected failure; ``seconds`` is the delay of SLOW and the advice of RATE_LIMIT."""

    kind: FaultKind
    seconds: float = 2.0


@frozen
class _Rule:
    service: str | None
    operation: str | None

    def applies(self, service: str, operation: str) -> bool:
        return self.service in {None, service} and self.operation in {None, operation}


class FaultPlan:
    """Which requests fail, and how.

    Scripted faults are used first, in the order given, by the first request that
    matches their service and operation. Random faults then fail each matching
    request with a probability, drawn from a seeded generator, so a run with the same
    seed and the same traffic fails the same requests. :attr:`injected` counts what
    was injected.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripted: deque[tuple[_Rule, Fault]] = deque()
        self._random: list[tuple[_Rule, float, tuple[Fault, ...], random.Random]] = []
        self.injected: Counter[FaultKind] = Counter()

    def script(
        self,
        fault: Fault | FaultKind,
        *,
        service: str | None = None,
        operation: str | None = None,
        times: int = 1,
    ) -> None:
        """Fail the next ``times`` matching requests with ``fault``."""
        chosen = fault if isinstance(fault, Fault) else Fault(fault)
        with self._lock:
            self._scripted.extend((_Rule(service, operation), chosen) for _ in range(times))

    def random(
        self,
        rate: float,
        *,
        kinds: Iterable[Fault | FaultKind] = (FaultKind.RATE_LIMIT, FaultKind.SERVER_ERROR),
        seed: int = 0,
        service: str | None = None,
        operation: str | None = None,
    ) -> None:
        """Fail each matching request with probability ``rate``, kinds drawn by ``seed``."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate is a probability between 0 and 1")
        faults = tuple(k if isinstance(k, Fault) else Fault(k) for k in kinds)
        with self._lock:
            self._random.append(
                (_Rule(service, operation), rate, faults, random.Random(seed))  # noqa: S311 - not crypto
            )

    def clear(self) -> None:
        """Remove every scripted and random fault (the counts stay)."""
        with self._lock:
            self._scripted.clear()
            self._random.clear()

    def draw(self, service: str, operation: str) -> Fault | None:
        """Return the fault for this request, if any, and count it."""
        with self._lock:
            chosen = self._take_scripted(service, operation) or self._take_random(
                service, operation
            )
            if chosen is not None:
                self.injected[chosen.kind] += 1
            return chosen

    def _take_scripted(self, service: str, operation: str) -> Fault | None:
        for index, (rule, fault) in enumerate(self._scripted):
            if rule.applies(service, operation):
                del self._scripted[index]
                return fault
        return None

    def _take_random(self, service: str, operation: str) -> Fault | None:
        for rule, rate, faults, rng in self._random:
            if rule.applies(service, operation) and rng.random() < rate:
                return rng.choice(faults)
        return None
