"""What every fake service shares: requests and responses, routing, the request log.

A service declares its operations with :func:`operation`; the transport hands it
an :class:`EmulatedRequest` and gets an :class:`EmulatedResponse` back. Services
never see ``httpx`` objects, so the same handlers serve in-process and over HTTP.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar
from urllib.parse import parse_qs

from attrs import field, frozen

__all__ = [
    "APIProblem",
    "EmulatedRequest",
    "EmulatedResponse",
    "OperationCounts",
    "RequestLog",
    "Route",
    "Service",
    "operation",
]

_Handler = TypeVar("_Handler", bound=Callable[..., "EmulatedResponse"])


@frozen(kw_only=True)
class EmulatedRequest:
    """A request as a fake service sees it (header names are lower-case)."""

    method: str
    host: str
    path: str
    query: Mapping[str, list[str]] = field(factory=dict)
    headers: Mapping[str, str] = field(factory=dict)
    body: bytes = b""
    path_params: Mapping[str, str] = field(factory=dict)

    @classmethod
    def parse_query(cls, raw: str) -> dict[str, list[str]]:
        """Split a raw query string into lists of values per name."""
        return parse_qs(raw, keep_blank_values=True)

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The first value of query parameter ``name``."""
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        """The body decoded as JSON (``None`` when empty).

        Raises:
            ValueError: the body is not JSON.
        """
        return json.loads(self.body) if self.body else None

    def form(self) -> dict[str, str]:
        """The body decoded as ``application/x-www-form-urlencoded``."""
        return {k: v[-1] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


@frozen(kw_only=True)
class EmulatedResponse:
    """A response from a fake service."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(factory=dict)

    @classmethod
    def json(
        cls, status: int, payload: Any, *, content_type: str = "application/json", **headers: str
    ) -> EmulatedResponse:
        """A JSON response."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        return cls(status=status, body=body, headers={"content-type": content_type, **headers})

    def with_headers(self, **headers: str) -> EmulatedResponse:
        """A copy with more headers."""
        return EmulatedResponse(
            status=self.status, body=self.body, headers={**self.headers, **headers}
        )


@frozen
class Route:
    """One operation: method, path template, ``operationId`` and handler name."""

    method: str
    template: str
    operation_id: str
    handler: str
    pattern: re.Pattern[str]

    @classmethod
    def compile(cls, method: str, template: str, operation_id: str, handler: str) -> Route:
        """Turn ``/persons/{id}`` into a regex with a named group per parameter."""
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
        return cls(method, template, operation_id, handler, re.compile(f"^{regex}$"))


def operation(method: str, template: str, operation_id: str) -> Callable[[_Handler], _Handler]:
    """Mark a service method as the handler of one vendor operation."""

    def mark(handler: _Handler) -> _Handler:
        handler.__dict__.setdefault("_pdmc_routes", []).append((method, template, operation_id))
        return handler

    return mark


@frozen
class OperationCounts:
    """Requests answered and Pipedrive tokens charged for one operation."""

    requests: int
    tokens: int


class RequestLog:
    """Counts of what a service answered: per operation, with tokens and statuses.

    It keeps counters, not a list of requests, so memory does not grow with traffic.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._tokens: Counter[str] = Counter()
        self._statuses: Counter[int] = Counter()

    def record(self, operation_id: str, status: int, tokens: int) -> None:
        """Count one answered request."""
        with self._lock:
            self._requests[operation_id] += 1
            self._tokens[operation_id] += tokens
            self._statuses[status] += 1

    def by_operation(self) -> dict[str, OperationCounts]:
        """Requests and tokens per ``operationId``."""
        with self._lock:
            return {op: OperationCounts(n, self._tokens[op]) for op, n in self._requests.items()}

    @property
    def requests(self) -> int:
        """All requests answered."""
        with self._lock:
            return sum(self._requests.values())

    @property
    def tokens(self) -> int:
        """All tokens charged."""
        with self._lock:
            return sum(self._tokens.values())

    def statuses(self) -> dict[int, int]:
        """How many responses had each status."""
        with self._lock:
            return dict(self._statuses)

    def count(self, operation_id: str) -> int:
        """Requests answered for one operation."""
        with self._lock:
            return self._requests[operation_id]

    def reset(self) -> None:
        """Forget every count."""
        with self._lock:
            self._requests.clear()
            self._tokens.clear()
            self._statuses.clear()


class APIProblem(Exception):  # noqa: N818 - reads as what the service answers
    """Raised by a handler to answer with an error in the vendor's format."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        *,
        errors: list[dict[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = dict(headers or {})


class Service:
    """The base of a fake service: routes requests to its ``@operation`` handlers.

    The transport calls :meth:`execute`, which matches the route, asks :meth:`admit`
    (credentials, rate limits), runs the handler under :attr:`lock`, renders an
    :class:`APIProblem` with :meth:`render_problem`, lets :meth:`finish` add headers
    and charge the request, and counts it in :attr:`log`. Subclasses override the
    hooks and add handlers with :func:`operation`.
    """

    name: ClassVar[str] = "service"
    routes: ClassVar[tuple[Route, ...]] = ()
    #: the host name requests served over local HTTP are answered as
    default_host: str = "localhost"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        found = []
        for attr, member in vars(cls).items():
            for method, template, operation_id in getattr(member, "_pdmc_routes", ()):
                found.append(Route.compile(method, template, operation_id, attr))
        # Literal segments beat parameters: "/persons/search" before "/persons/{id}".
        found.sort(key=lambda r: (r.template.count("{"), -len(r.template)))
        cls.routes = (*cls.routes, *found)

    #: the most requests in flight at once; past it a request gets 429 (None: no limit)
    connection_limit: ClassVar[int | None] = None

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.log = RequestLog()
        self._connections = 0
        self._connections_lock = threading.Lock()
        self.peak_connections = 0

    def open_connection(self) -> EmulatedResponse | None:
        """Count a request in flight; return a 429 when it is one too many."""
        with self._connections_lock:
            if self.connection_limit is not None and self._connections >= self.connection_limit:
                refused = True
            else:
                refused = False
                self._connections += 1
                self.peak_connections = max(self.peak_connections, self._connections)
        if refused:
            self.log.record("connection_limit", 429, 0)
            return self.render_problem(
                APIProblem(429, "Too Many Requests", "Too many simultaneous connections.")
            )
        return None

    def close_connection(self) -> None:
        """Count a request as finished."""
        with self._connections_lock:
            self._connections -= 1

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """Return the route and path parameters of a request, or ``None``."""
        for route in self.routes:
            if route.method == method and (found := route.pattern.match(path)):
                return route, found.groupdict()
        return None

    def serves(self, host: str) -> bool:
        """Whether requests to ``host`` belong to this service."""
        del host
        return False

    def admit(self, route: Route, request: EmulatedRequest) -> EmulatedResponse | None:
        """Refuse a request before its handler runs (bad credentials, rate limits)."""
        del route, request
        return None

    def finish(
        self, route: Route | None, request: EmulatedRequest, response: EmulatedResponse
    ) -> tuple[EmulatedResponse, int]:
        """Add headers to a response and return it with the tokens it costs."""
        del route, request
        return response, 0

    def render_problem(self, problem: APIProblem) -> EmulatedResponse:
        """Render an error in the vendor's format (the default is a plain JSON body)."""
        return EmulatedResponse.json(
            problem.status, {"title": problem.title, "detail": problem.detail}, **problem.headers
        )

    def execute(self, request: EmulatedRequest) -> EmulatedResponse:
        """Answer one request: route, admit, run the handler, finish, count."""
        found = self.match(request.method, request.path)
        route = found[0] if found else None
        with self.lock:
            if found is None:
                response = self.render_problem(
                    APIProblem(404, "Resource Not Found", f"no operation at {request.path}")
                )
            elif (refusal := self.admit(found[0], request)) is not None:
                response = refusal
            else:
                handler: Callable[[EmulatedRequest], EmulatedResponse] = getattr(
                    self, found[0].handler
                )
                routed = EmulatedRequest(
                    method=request.method,
                    host=request.host,
                    path=request.path,
                    query=request.query,
                    headers=request.headers,
                    body=request.body,
                    path_params=found[1],
                )
                try:
                    response = handler(routed)
                except APIProblem as problem:
                    response = self.render_problem(problem)
            response, tokens = self.finish(route, request, response)
        self.log.record(route.operation_id if route else "unknown", response.status, tokens)
        return response
