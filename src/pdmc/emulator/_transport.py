"""The ``httpx`` transport that carries requests to the fake services, faults included."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from email.utils import format_datetime

import httpx

from pdmc.emulator._faults import Fault, FaultKind, FaultPlan
from pdmc.emulator._service import APIProblem, EmulatedRequest, EmulatedResponse, Service

__all__ = ["EmulatorTransport"]

_HTML_403 = (
    b"<html><head><title>403 Forbidden</title></head>"
    b"<body><h1>403 Forbidden</h1><p>Request blocked.</p></body></html>"
)


def to_emulated(request: httpx.Request) -> EmulatedRequest:
    """Turn an ``httpx`` request into what a fake service reads."""
    return EmulatedRequest(
        method=request.method,
        host=request.url.host,
        path=request.url.path,
        query=EmulatedRequest.parse_query(request.url.query.decode()),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=request.read(),
    )


class EmulatorTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Routes each request to the service that serves its host, through the fault plan.

    One instance serves sync and async clients alike. Requests to hosts no service
    serves fail like an unreachable host (``httpx.ConnectError``). With ``now``, every
    response carries a ``Date`` header from that clock, as a real server's does.
    """

    def __init__(
        self,
        services: Sequence[Service],
        faults: FaultPlan,
        *,
        advance: Callable[[float], object],
        after_request: Callable[[], object] | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self._services = tuple(services)
        self._faults = faults
        self._advance = advance
        self._after_request = after_request
        self._now = now

    def service_for(self, host: str) -> Service | None:
        """The service that answers ``host``, if any."""
        return next((s for s in self._services if s.serves(host)), None)

    def answer(self, request: EmulatedRequest) -> EmulatedResponse:
        """Answer an emulated request with faults applied; raise ``httpx`` errors for
        faults that leave no response (timeouts, resets)."""
        service = self.service_for(request.host)
        if service is None:
            raise httpx.ConnectError(f"no emulated service at {request.host}")
        found = service.match(request.method, request.path)
        operation = found[0].operation_id if found else "unknown"
        fault = self._faults.draw(service.name, operation)
        try:
            return self._with_fault(service, request, fault)
        finally:
            # Even when the client timed out after the write, the service acted on it.
            if self._after_request is not None:
                self._after_request()

    def _with_fault(
        self, service: Service, request: EmulatedRequest, fault: Fault | None
    ) -> EmulatedResponse:
        kind = fault.kind if fault else None
        if fault is not None and kind is FaultKind.SLOW:
            self._advance(fault.seconds)
        refused = _refusal(service, fault)
        if refused is not None:
            return refused
        if kind in {FaultKind.TIMEOUT_BEFORE_COMMIT, FaultKind.CONNECTION_RESET}:
            if kind is FaultKind.CONNECTION_RESET:
                raise httpx.ConnectError("connection reset by peer (emulated)")
            raise httpx.ReadTimeout("timed out before the service read the request (emulated)")
        response = service.execute(request)
        if kind is FaultKind.TIMEOUT_AFTER_COMMIT:
            raise httpx.ReadTimeout("timed out after the service acted (emulated)")
        if kind is FaultKind.TRUNCATED_JSON:
            return EmulatedResponse(
                status=response.status,
                body=response.body[: max(1, len(response.body) // 2)],
                headers=response.headers,
            )
        return response

    @contextlib.contextmanager
    def _connection(self, host: str) -> Iterator[EmulatedResponse | None]:
        service = self.service_for(host)
        refusal = service.open_connection() if service is not None else None
        try:
            yield refusal
        finally:
            if service is not None and refusal is None:
                service.close_connection()

    def handle_emulated(self, request: EmulatedRequest) -> EmulatedResponse:
        """Answer one request as a connection of its own (the HTTP server uses this)."""
        with self._connection(request.host) as refusal:
            return self._dated(refusal or self.answer(request))

    def _dated(self, response: EmulatedResponse) -> EmulatedResponse:
        """The response with the service's ``Date`` header (RFC 7231), if a clock is set."""
        if self._now is None:
            return response
        return response.with_headers(date=format_datetime(self._now(), usegmt=True))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return _to_httpx(self.handle_emulated(to_emulated(request)), request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        emulated = to_emulated(request)
        with self._connection(emulated.host) as refusal:
            if refusal is not None:
                return _to_httpx(self._dated(refusal), request)
            # Yield once so other tasks open their connections too, as on a real network.
            await asyncio.sleep(0)
            return _to_httpx(self._dated(self.answer(emulated)), request)


def _refusal(service: Service, fault: Fault | None) -> EmulatedResponse | None:
    """The response of a fault that answers without running the handler, if any."""
    kind = fault.kind if fault is not None else None
    problems = {
        FaultKind.RATE_LIMIT: (429, "Too Many Requests", "You have exceeded the rate limit."),
        FaultKind.SERVER_ERROR: (503, "Service Unavailable", "The service is down for a moment."),
    }
    bare = {
        FaultKind.RATE_LIMIT_NO_HEADERS: EmulatedResponse(status=429),
        FaultKind.FORBIDDEN_NO_BODY: EmulatedResponse(status=403),
        FaultKind.FORBIDDEN_HTML: EmulatedResponse(
            status=403, body=_HTML_403, headers={"content-type": "text/html"}
        ),
    }
    if fault is None or kind is None:
        return None
    if kind in problems:
        status, title, detail = problems[kind]
        advice = {"retry-after": str(int(fault.seconds))} if status == 429 else {}  # noqa: PLR2004
        return service.render_problem(APIProblem(status, title, detail, headers=advice))
    return bare.get(kind)


def _to_httpx(response: EmulatedResponse, request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        response.status, headers=dict(response.headers), content=response.body, request=request
    )
