"""The shared HTTP core: no I/O and no vendor knowledge.

It describes operations and requests, builds ``httpx.Request`` objects, maps error
responses to :mod:`pdmc.errors`, paces requests by rate-limit headers, and counts
requests and tokens. The sync and async shells in ``_http`` do the sending; the
vendor clients supply a :class:`Vendor` that knows their error bodies.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from attrs import evolve, field, frozen

from pdmc._types import UNSET, UnsetType
from pdmc.clients._pagination import Pagination
from pdmc.clients._retry import RetryPolicy, advised_wait
from pdmc.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExhaustedError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    ThrottledError,
    UnprocessableEntityError,
)

__all__ = [
    "APIRequest",
    "Call",
    "ClientCore",
    "Listing",
    "Operation",
    "OperationUsage",
    "RateLimitPacer",
    "ServerClock",
    "Usage",
    "UsageCounter",
    "Vendor",
]

logger = logging.getLogger("pdmc.http")

T = TypeVar("T")

_ERROR_CLASSES: Mapping[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: ThrottledError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}
_SERVER_ERROR_FLOOR = 500
_FORBIDDEN = 403
_TOO_MANY_REQUESTS = 429


@frozen
class Operation:
    """One vendor operation: its ``operationId``, method, path template and token cost.

    ``cost`` is Pipedrive's ``x-token-cost`` (zero for Mailchimp). ``idempotent``
    says whether repeating the request can change nothing more than the first did;
    it defaults to ``True`` for every method but POST.
    """

    id: str
    method: str
    path: str
    cost: int = 0
    idempotent: bool = field()

    @idempotent.default
    def _idempotent_unless_post(self) -> bool:
        return self.method != "POST"


@frozen(kw_only=True)
class APIRequest:
    """A request to send: an operation plus its path parameters, query and body."""

    operation: Operation
    path_params: Mapping[str, str | int] = field(factory=dict)
    params: Mapping[str, Any] = field(factory=dict)
    json: Any = UNSET

    @property
    def path(self) -> str:
        """The path with every ``{name}`` replaced by its percent-encoded value."""
        path = self.operation.path
        for name, value in self.path_params.items():
            path = path.replace("{" + name + "}", quote(str(value), safe=""))
        return path

    def with_params(self, params: Mapping[str, Any]) -> APIRequest:
        """Return a copy whose query is ``params`` (used to walk pages)."""
        return evolve(self, params=params)


@frozen
class Call(Generic[T]):
    """A request and how to turn its decoded body into the caller's result."""

    request: APIRequest
    structure: Callable[[Any], T]


@frozen
class Listing(Generic[T]):
    """A paginated request: the first page's request, the paging scheme, one item's type."""

    request: APIRequest
    pagination: Pagination
    structure: Callable[[Any], T]


@frozen
class OperationUsage:
    """Requests sent and Pipedrive tokens spent for one operation."""

    requests: int = 0
    tokens: int = 0


@frozen
class Usage:
    """A snapshot of a client's counters; subtract two snapshots to price a run.

    Attributes:
        requests: HTTP requests sent, retries included.
        tokens: Pipedrive tokens spent (each request's ``x-token-cost``).
        retries: requests that repeated an earlier failed try.
        rate_limited: responses that were 429 or a throttling 403.
        waited: seconds spent waiting on pacing and backoff.
        by_operation: the same counts per ``operationId``.
    """

    requests: int = 0
    tokens: int = 0
    retries: int = 0
    rate_limited: int = 0
    waited: float = 0.0
    by_operation: Mapping[str, OperationUsage] = field(factory=dict)

    def __sub__(self, other: Usage) -> Usage:
        ops = {
            name: OperationUsage(
                now.requests - other.by_operation.get(name, OperationUsage()).requests,
                now.tokens - other.by_operation.get(name, OperationUsage()).tokens,
            )
            for name, now in self.by_operation.items()
        }
        return Usage(
            requests=self.requests - other.requests,
            tokens=self.tokens - other.tokens,
            retries=self.retries - other.retries,
            rate_limited=self.rate_limited - other.rate_limited,
            waited=self.waited - other.waited,
            by_operation={name: use for name, use in ops.items() if use.requests},
        )


class UsageCounter:
    """Thread-safe counters of one client; :meth:`snapshot` reads them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests = 0
        self._tokens = 0
        self._retries = 0
        self._rate_limited = 0
        self._waited = 0.0
        self._ops: dict[str, list[int]] = {}

    def record(self, operation: Operation, *, retry: bool, rate_limited: bool) -> None:
        """Count one request sent for ``operation``."""
        tokens = 0 if rate_limited else operation.cost
        with self._lock:
            self._requests += 1
            self._tokens += tokens
            self._retries += retry
            self._rate_limited += rate_limited
            counts = self._ops.setdefault(operation.id, [0, 0])
            counts[0] += 1
            counts[1] += tokens

    def record_wait(self, seconds: float) -> None:
        """Count time spent waiting before a request."""
        with self._lock:
            self._waited += seconds

    def snapshot(self) -> Usage:
        """Return the counts so far."""
        with self._lock:
            return Usage(
                requests=self._requests,
                tokens=self._tokens,
                retries=self._retries,
                rate_limited=self._rate_limited,
                waited=self._waited,
                by_operation={k: OperationUsage(v[0], v[1]) for k, v in self._ops.items()},
            )


class ServerClock:
    """The service's own time, as the ``Date`` header of its responses tells it.

    Thread-safe. Responses may arrive out of order, so the latest time seen wins;
    a missing or malformed header is ignored.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: datetime | None = None

    def observe(self, headers: httpx.Headers) -> None:
        """Read the ``Date`` header of one response (ignored when absent or malformed)."""
        raw = headers.get("date")
        if raw is None:
            return
        try:
            moment = parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return
        if moment.tzinfo is None:  # RFC 7231 dates are GMT; an older form may omit it
            moment = moment.replace(tzinfo=UTC)
        with self._lock:
            if self._latest is None or moment > self._latest:
                self._latest = moment

    def latest(self) -> datetime | None:
        """The latest server time seen (UTC, whole seconds), or ``None`` before any."""
        with self._lock:
            return None if self._latest is None else self._latest.astimezone(UTC)


class RateLimitPacer:
    """Paces requests by a service's rate-limit headers, before it says 429.

    After each response it reads how many requests the window has left and when the
    window resets. Each request reserves one of the remaining slots; when none is
    left, :meth:`reserve` returns how long to wait for the reset. The clock is
    injectable (``time.monotonic`` by default) so tests and the emulator control it.
    """

    def __init__(
        self,
        *,
        remaining_header: str,
        reset_header: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.remaining_header = remaining_header
        self.reset_header = reset_header
        self._clock = clock
        self._lock = threading.Lock()
        self._remaining: int | None = None
        self._reset_at = 0.0

    def reserve(self) -> float:
        """Take a slot for one request; return 0.0, or the seconds to wait first."""
        with self._lock:
            now = self._clock()
            if self._remaining is None or now >= self._reset_at:
                self._remaining = None
                return 0.0
            if self._remaining > 0:
                self._remaining -= 1
                return 0.0
            return self._reset_at - now

    def observe(self, headers: httpx.Headers) -> None:
        """Update the window from a response's headers (ignored when absent)."""
        remaining = _header_number(headers, self.remaining_header)
        reset = _header_number(headers, self.reset_header)
        if remaining is None or reset is None:
            return
        with self._lock:
            reset_at = self._clock() + reset
            # Concurrent responses arrive out of order: keep the most pessimistic view.
            if self._remaining is None or reset_at > self._reset_at + 0.5:
                self._remaining = int(remaining)
            else:
                self._remaining = min(self._remaining, int(remaining))
            self._reset_at = max(self._reset_at, reset_at)


def _header_number(headers: httpx.Headers, name: str) -> float | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        return None


class Vendor:
    """What a vendor client tells the core about its error bodies.

    Subclasses override :meth:`describe` (title and detail of an error body),
    :meth:`refine` (a more precise error class for a known body) and
    :meth:`body_request_id` (a request id carried in the body).
    """

    #: response headers that carry the service's request id, in order of preference
    request_id_headers: tuple[str, ...] = ("x-request-id",)
    #: the header naming seconds until the rate-limit window resets, if any
    reset_header: str | None = None

    def describe(self, body: Any) -> tuple[str | None, str | None]:
        """Return ``(title, detail)`` of an error body (both ``None`` if unknown)."""
        del body
        return None, None

    def refine(self, error: APIError) -> APIError:
        """Return a more precise error for a known vendor error (default: as is)."""
        return error

    def body_request_id(self, body: Any) -> str | None:
        """Return the request id an error body names, when no header carried one."""
        del body
        return None


@frozen(kw_only=True)
class ClientCore:
    """Everything a client shell needs that does no I/O.

    Attributes:
        base_url: scheme and host (and port) of the service; paths are absolute.
        auth: the ``httpx.Auth`` that adds the credential to each request.
        vendor: the vendor's error knowledge.
        retry: the retry policy.
        pacer: an optional rate-limit pacer.
        max_concurrency: the most requests in flight at once, or ``None``.
        usage: the counters the shells update.
        server_clock: the service's time from its responses' ``Date`` headers.
        headers: extra headers sent with every request.
    """

    base_url: str
    auth: httpx.Auth = field(repr=False)
    vendor: Vendor
    retry: RetryPolicy = field(factory=RetryPolicy)
    pacer: RateLimitPacer | None = None
    max_concurrency: int | None = None
    usage: UsageCounter = field(factory=UsageCounter, repr=False)
    server_clock: ServerClock = field(factory=ServerClock, repr=False)
    headers: Mapping[str, str] = field(factory=dict)

    def build(self, request: APIRequest) -> httpx.Request:
        """Return the ``httpx.Request`` for ``request`` (the auth is added on send)."""
        params = {k: _query_value(v) for k, v in request.params.items() if v is not UNSET}
        content = None
        headers = {"accept": "application/json", **self.headers}
        if not isinstance(request.json, UnsetType):
            content = json.dumps(request.json, separators=(",", ":")).encode()
            headers["content-type"] = "application/json"
        return httpx.Request(
            request.operation.method,
            self.base_url.rstrip("/") + request.path,
            params=params,
            content=content,
            headers=headers,
        )

    def observe(self, request: APIRequest, response: httpx.Response, *, retry: bool) -> None:
        """Update the pacer, the counters and the server clock after a response."""
        if self.pacer is not None:
            self.pacer.observe(response.headers)
        self.server_clock.observe(response.headers)
        rate_limited = response.status_code == _TOO_MANY_REQUESTS or (
            response.status_code == _FORBIDDEN and not _is_json(response)
        )
        self.usage.record(request.operation, retry=retry, rate_limited=rate_limited)
        logger.debug(
            "%s %s -> %s (%s)",
            request.operation.method,
            request.path,
            response.status_code,
            request.operation.id,
        )

    def decode(self, request: APIRequest, response: httpx.Response) -> Any:
        """Return the decoded body of a success, or raise the mapped error."""
        if response.is_success:
            if response.status_code == httpx.codes.NO_CONTENT or not response.content:
                return None
            try:
                return response.json()
            except ValueError as exc:
                raise ResponseDecodeError(
                    f"{request.operation.method} {request.path}: the response is not valid JSON",
                    method=request.operation.method,
                    url=request.path,
                    status_code=response.status_code,
                ) from exc
        raise self.error_for(request, response)

    def error_for(self, request: APIRequest, response: httpx.Response) -> APIError:
        """Map an error response to the most precise :class:`~pdmc.errors.APIError`."""
        status = response.status_code
        body: Any = None
        if response.content:
            try:
                body = response.json()
            except ValueError:
                body = response.text
        if status >= _SERVER_ERROR_FLOOR:
            cls: type[APIError] = ServerError
        elif status == _FORBIDDEN and not isinstance(body, dict):
            cls = ThrottledError
        else:
            cls = _ERROR_CLASSES.get(status, APIError)
        advised = advised_wait(response, self.vendor.reset_header)
        if cls is RateLimitError and advised is not None and advised > self.retry.max_wait:
            cls = QuotaExhaustedError
        title, detail = self.vendor.describe(body) if isinstance(body, dict) else (None, None)
        summary = ": ".join(part for part in (title, detail) if part) or response.reason_phrase
        ids = [response.headers.get(name) for name in self.vendor.request_id_headers]
        request_id = next((value for value in ids if value), None)
        if request_id is None and isinstance(body, dict):
            request_id = self.vendor.body_request_id(body)
        error = cls(
            f"{request.operation.method} {request.path} failed with {status}: {summary}",
            status_code=status,
            method=request.operation.method,
            url=request.path,
            body=body,
            request_id=request_id,
            title=title,
            detail=detail,
        )
        error.retry_after = advised
        return self.vendor.refine(error)

    def quota_exhausted(self, request: APIRequest, seconds: float) -> QuotaExhaustedError:
        """The error for a request the pacer will not send: its window resets too late."""
        error = QuotaExhaustedError(
            f"{request.operation.method} {request.path} not sent: the service's rate limit "
            f"resets in {seconds:.0f} s, beyond the retry policy's max_wait",
            status_code=429,
            method=request.operation.method,
            url=request.path,
        )
        error.retry_after = seconds
        return error


def _is_json(response: httpx.Response) -> bool:
    return "json" in response.headers.get("content-type", "")


def _query_value(value: Any) -> str | int | float:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("query datetimes must be timezone-aware")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(str(item) for item in value)
    return str(value)
