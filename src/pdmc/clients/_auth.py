"""``httpx.Auth`` implementations that add a :class:`~pdmc.Secret` to each request.

The secret is revealed only into the outgoing header; these objects' reprs show
the header name, never the value.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Generator, Iterator

import httpx

from pdmc._secret import Secret

__all__ = ["BasicAuth", "BearerAuth", "HeaderTokenAuth", "borrowed_client"]


class HeaderTokenAuth(httpx.Auth):
    """Sends the token in a header of its own (Pipedrive: ``x-api-token``)."""

    def __init__(self, header: str, token: Secret) -> None:
        self.header = header
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self.header] = self._token.reveal()
        yield request

    def __repr__(self) -> str:
        return f"HeaderTokenAuth(header={self.header!r})"


class BearerAuth(httpx.Auth):
    """Sends ``Authorization: Bearer <token>``."""

    def __init__(self, token: Secret) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["authorization"] = f"Bearer {self._token.reveal()}"
        yield request

    def __repr__(self) -> str:
        return "BearerAuth()"


class BasicAuth(httpx.Auth):
    """Sends HTTP Basic credentials (Mailchimp: any user name, the API key as password)."""

    def __init__(self, username: str, password: Secret) -> None:
        self.username = username
        self._password = password

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        pair = f"{self.username}:{self._password.reveal()}".encode()
        request.headers["authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        yield request

    def __repr__(self) -> str:
        return f"BasicAuth(username={self.username!r})"


@contextlib.contextmanager
def borrowed_client(client: httpx.Client | None) -> Iterator[httpx.Client]:
    """Use the caller's client for an OAuth call, or a short-lived one of our own."""
    if client is not None:
        yield client
        return
    with httpx.Client() as own:
        yield own
