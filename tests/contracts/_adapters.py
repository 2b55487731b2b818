"""httpx requests and responses seen through openapi-core's request/response protocols."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from ._routing import Operation


def _request_body(request: httpx.Request) -> bytes:
    try:
        return request.content
    except httpx.RequestNotRead:
        # A streamed sync body; an async one must be awaited (`aread`) by the caller.
        return request.read()


def _response_body(response: httpx.Response) -> bytes:
    try:
        return response.content
    except httpx.ResponseNotRead:
        return response.read()


class HttpxOpenAPIRequest:
    """An httpx request as openapi-core's ``Request`` protocol, pinned to one operation.

    The harness routes the request itself (any data centre, company domain or bare
    host), so the URL is rewritten onto the server the contract declares, and
    ``path_pattern`` (openapi-core's ``SupportsPathPattern``) names the operation's
    template so openapi-core cannot pick another one.
    """

    def __init__(
        self,
        request: httpx.Request,
        operation: Operation,
        path: str,
        path_variables: dict[str, str],
    ) -> None:
        server = urlsplit(operation.server_url)
        self.host_url = f"{server.scheme}://{server.netloc}"
        self.path = server.path + path
        self.path_pattern = operation.url_template
        self.method = request.method.lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(request.url.params.multi_items()),
            header=Headers(request.headers.multi_items()),
            path=path_variables,
        )
        self.content_type = request.headers.get("content-type", "")
        self.body: bytes | None = _request_body(request) or None


class HttpxOpenAPIResponse:
    """An httpx response as openapi-core's ``Response`` protocol."""

    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        self.content_type = response.headers.get("content-type", "")
        self.headers = Headers(response.headers.multi_items())
        self.data: bytes | None = _response_body(response) or None
