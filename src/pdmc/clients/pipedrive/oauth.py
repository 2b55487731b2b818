"""Pipedrive OAuth 2.0: the authorization URL, code exchange, refresh, and an auth
that refreshes expired tokens by itself.

Pipedrive access tokens expire after an hour and every refresh rotates the refresh
token. :class:`PipedriveOAuthAuth` refreshes before expiry or after a 401, one
refresh at a time per auth object, and hands each new token pair to the caller's
``on_refresh`` callback so it can be stored before the old refresh token is lost.
"""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import AsyncGenerator, Callable, Generator
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import urlencode

import httpx
from attrs import field, frozen

from pdmc._secret import Secret
from pdmc.clients._auth import borrowed_client
from pdmc.errors import OAuthError

__all__ = ["PipedriveOAuthApp", "PipedriveOAuthAuth", "PipedriveTokens"]

AUTHORIZE_URL: Final = "https://oauth.pipedrive.com/oauth/authorize"
TOKEN_URL: Final = "https://oauth.pipedrive.com/oauth/token"  # noqa: S105 - a URL, not a secret
_UNAUTHORIZED: Final = 401
_EARLY_REFRESH: Final = timedelta(seconds=60)


@frozen(kw_only=True)
class PipedriveTokens:
    """An OAuth token pair and the company domain the access token works on."""

    access_token: Secret
    refresh_token: Secret
    expires_at: datetime
    api_domain: str
    scope: str | None = None

    def expires_soon(self, now: datetime) -> bool:
        """Whether the access token expires within a minute of ``now``."""
        return now >= self.expires_at - _EARLY_REFRESH


@frozen(kw_only=True)
class PipedriveOAuthApp:
    """A registered Pipedrive app: builds the OAuth requests and reads their answers.

    The ``*_request`` methods do no I/O, so they serve both the sync and the async
    helpers and the refreshing auth.
    """

    client_id: str
    client_secret: Secret
    redirect_uri: str
    authorize_url: str = AUTHORIZE_URL
    token_url: str = TOKEN_URL
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC), repr=False)

    def authorization_url(self, state: str) -> str:
        """Return the URL to send the user to; ``state`` comes back on the redirect.

        The URL carries ``client_id``, ``redirect_uri`` and ``state``, the parameters
        the contract documents; an app's scopes are chosen in its Developer Hub
        settings, not in this URL.
        """
        query = {"client_id": self.client_id, "redirect_uri": self.redirect_uri, "state": state}
        return f"{self.authorize_url}?{urlencode(query)}"

    def exchange_request(self, code: str) -> httpx.Request:
        """Return the request that trades an authorization code for tokens."""
        return self._token_request(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri}
        )

    def refresh_request(self, tokens: PipedriveTokens) -> httpx.Request:
        """Return the request that trades a refresh token for a new pair."""
        return self._token_request(
            {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token.reveal()}
        )

    def read_tokens(self, response: httpx.Response) -> PipedriveTokens:
        """Return the tokens of a token-endpoint response.

        Raises:
            OAuthError: the endpoint refused, or answered without the fields a token needs.
        """
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        if not response.is_success or not isinstance(body, dict):
            reason = body.get("error") if isinstance(body, dict) else response.reason_phrase
            raise OAuthError(f"the token endpoint answered {response.status_code}: {reason}")
        try:
            return PipedriveTokens(
                access_token=Secret(str(body["access_token"])),
                refresh_token=Secret(str(body["refresh_token"])),
                expires_at=self.clock() + timedelta(seconds=int(body["expires_in"])),
                api_domain=str(body["api_domain"]).rstrip("/"),
                scope=body.get("scope"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise OAuthError(f"the token response lacks a field: {exc}") from None

    def exchange_code(
        self, code: str, *, http_client: httpx.Client | None = None
    ) -> PipedriveTokens:
        """Trade an authorization code for tokens (sync)."""
        with borrowed_client(http_client) as client:
            return self.read_tokens(client.send(self.exchange_request(code)))

    async def aexchange_code(
        self, code: str, *, http_client: httpx.AsyncClient | None = None
    ) -> PipedriveTokens:
        """Trade an authorization code for tokens (async)."""
        client = http_client or httpx.AsyncClient()
        try:
            return self.read_tokens(await client.send(self.exchange_request(code)))
        finally:
            if http_client is None:
                await client.aclose()

    def refresh(
        self, tokens: PipedriveTokens, *, http_client: httpx.Client | None = None
    ) -> PipedriveTokens:
        """Trade a refresh token for a new pair (sync)."""
        with borrowed_client(http_client) as client:
            return self.read_tokens(client.send(self.refresh_request(tokens)))

    def _token_request(self, form: dict[str, str]) -> httpx.Request:
        return httpx.Request(
            "POST",
            self.token_url,
            data=form,
            headers={"authorization": _basic(self.client_id, self.client_secret)},
        )


def _basic(user: str, password: Secret) -> str:
    pair = f"{user}:{password.reveal()}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


class PipedriveOAuthAuth(httpx.Auth):
    """An ``httpx.Auth`` that sends the bearer token and refreshes it when needed.

    It refreshes before sending when the token expires within a minute, and once
    after a 401. Concurrent requests share one refresh: the first takes a lock and
    refreshes, the others wait and then use the new token. ``on_refresh`` receives
    every new pair; store it, since Pipedrive rotates the refresh token.
    """

    requires_response_body = True

    def __init__(
        self,
        app: PipedriveOAuthApp,
        tokens: PipedriveTokens,
        *,
        on_refresh: Callable[[PipedriveTokens], None] | None = None,
    ) -> None:
        self.app = app
        self._tokens = tokens
        self._on_refresh = on_refresh
        self._thread_lock = threading.Lock()
        self._async_lock: asyncio.Lock | None = None
        self.refreshes = 0

    @property
    def tokens(self) -> PipedriveTokens:
        """The current token pair."""
        return self._tokens

    def __repr__(self) -> str:
        return f"PipedriveOAuthAuth(api_domain={self._tokens.api_domain!r})"

    def _accept(self, response: httpx.Response) -> None:
        # The auth flows below are driven by httpx directly, which streams responses:
        # the caller reads the token response's body (``read``/``aread``) first.
        self._tokens = self.app.read_tokens(response)
        self.refreshes += 1
        if self._on_refresh is not None:
            self._on_refresh(self._tokens)

    def _sign(self, request: httpx.Request) -> PipedriveTokens:
        used = self._tokens
        request.headers["authorization"] = f"Bearer {used.access_token.reveal()}"
        return used

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        if self._tokens.expires_soon(self.app.clock()):
            with self._thread_lock:
                if self._tokens.expires_soon(self.app.clock()):
                    refreshed = yield self.app.refresh_request(self._tokens)
                    refreshed.read()
                    self._accept(refreshed)
        used = self._sign(request)
        response = yield request
        if response.status_code != _UNAUTHORIZED:
            return
        with self._thread_lock:
            if self._tokens is used:  # nobody refreshed while this request was out
                refreshed = yield self.app.refresh_request(self._tokens)
                refreshed.read()
                self._accept(refreshed)
        self._sign(request)
        yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self._async_lock is None:
            self._async_lock = asyncio.Lock()
        lock = self._async_lock
        if self._tokens.expires_soon(self.app.clock()):
            async with lock:
                if self._tokens.expires_soon(self.app.clock()):
                    refreshed = yield self.app.refresh_request(self._tokens)
                    await refreshed.aread()
                    self._accept(refreshed)
        used = self._sign(request)
        response = yield request
        if response.status_code != _UNAUTHORIZED:
            return
        async with lock:
            if self._tokens is used:
                refreshed = yield self.app.refresh_request(self._tokens)
                await refreshed.aread()
                self._accept(refreshed)
        self._sign(request)
        yield request
