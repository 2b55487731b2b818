"""OAuth for both vendors: authorization URLs, code exchange, and Pipedrive's token rotation."""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from pdmc import Secret
from pdmc.clients import AsyncPipedriveClient, MailchimpClient, PipedriveClient, RetryPolicy
from pdmc.clients.mailchimp import MailchimpOAuthApp
from pdmc.clients.pipedrive import PipedriveOAuthApp, PipedriveOAuthAuth, PipedriveTokens
from pdmc.errors import AuthenticationError, OAuthError
from tests.cassettes.build_cassettes import ADA, LIST_ID, member_json
from tests.clients._fakes import Script, person_body
from tests.contracts import documented_example, validate_request

API_DOMAIN = "https://acme.pipedrive.com"
CLIENT_SECRET = "canary-CLIENT-SECRET-4242"
THREADS = 20


class Clock:
    """A wall clock for token expiry that moves only when told."""

    def __init__(self) -> None:
        self.now = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class PipedriveOAuthServer:
    """Pipedrive's token endpoint and one API resource, with rotating tokens.

    Each refresh issues ``access-N``/``refresh-N`` and retires the refresh token used;
    a retired refresh token is refused (``invalid_grant``), as is an old access token.
    """

    def __init__(self) -> None:
        self.generation = 0
        self.refreshes = 0
        self.refused_refreshes = 0
        self.log: list[str] = []
        self.revoked: set[str] = set()
        self.hold_api: threading.Barrier | None = None
        self.hold_refresh = 0.0
        self._lock = threading.Lock()

    def tokens(self) -> dict[str, Any]:
        body = documented_example("get-tokens")
        body.update(
            access_token=f"access-{self.generation}",
            refresh_token=f"refresh-{self.generation}",
            api_domain=API_DOMAIN,
        )
        return body

    def token_endpoint(self, request: httpx.Request) -> httpx.Response:
        expected = base64.b64encode(f"app-id:{CLIENT_SECRET}".encode()).decode()
        assert request.headers["authorization"] == f"Basic {expected}"
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        time.sleep(self.hold_refresh)
        with self._lock:
            if form["grant_type"] == "refresh_token":
                if form["refresh_token"] != f"refresh-{self.generation}":
                    self.refused_refreshes += 1
                    return httpx.Response(400, json={"error": "invalid_grant"})
                self.refreshes += 1
            else:
                assert (form["code"], form["redirect_uri"]) == ("code-1", "https://app.example/cb")
            self.generation += 1
            self.log.append(f"token {form['grant_type']}")
            return httpx.Response(200, json=self.tokens())

    def accepts(self, request: httpx.Request) -> bool:
        scheme, _, token = request.headers["authorization"].partition(" ")
        with self._lock:
            valid = token == f"access-{self.generation}" and token not in self.revoked
            self.log.append(f"api {valid}")
        return scheme == "Bearer" and valid

    def api(self, request: httpx.Request) -> httpx.Response:
        accepted = self.accepts(request)
        if self.hold_api is not None and not accepted:
            self.hold_api.wait()  # every thread's first try is out before any 401 returns
        if not accepted:
            return httpx.Response(401, json=documented_example("getCurrentUser", "401"))
        return httpx.Response(200, json=person_body())

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "oauth.pipedrive.com":
            return self.token_endpoint(request)
        return self.api(request)


@pytest.fixture
def clock() -> Clock:
    """The OAuth app's clock."""
    return Clock()


@pytest.fixture
def app(clock: Clock) -> PipedriveOAuthApp:
    """A registered Pipedrive app with a fake clock."""
    return PipedriveOAuthApp(
        client_id="app-id",
        client_secret=Secret(CLIENT_SECRET),
        redirect_uri="https://app.example/cb",
        clock=clock,
    )


def _tokens(clock: Clock, *, generation: int = 0, expires_in: timedelta) -> PipedriveTokens:
    return PipedriveTokens(
        access_token=Secret(f"access-{generation}"),
        refresh_token=Secret(f"refresh-{generation}"),
        expires_at=clock.now + expires_in,
        api_domain=API_DOMAIN,
    )


def _client(
    app: PipedriveOAuthApp, tokens: PipedriveTokens, server: PipedriveOAuthServer
) -> tuple[PipedriveClient, list[PipedriveTokens]]:
    stored: list[PipedriveTokens] = []
    auth = PipedriveOAuthAuth(app, tokens, on_refresh=stored.append)
    client = PipedriveClient(
        oauth=auth, transport=httpx.MockTransport(server), retry=RetryPolicy(attempts=1)
    )
    return client, stored


def test_pipedrive_authorization_url_follows_the_contract(app: PipedriveOAuthApp) -> None:
    """The authorization URL carries client_id, redirect_uri and state, and nothing else."""
    url = app.authorization_url("state-123")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "oauth.pipedrive.com",
        "/oauth/authorize",
    )
    assert parse_qs(parts.query) == {
        "client_id": ["app-id"],
        "redirect_uri": ["https://app.example/cb"],
        "state": ["state-123"],
    }
    validate_request(httpx.Request("GET", url)).raise_for_errors()


def test_pipedrive_code_exchange(app: PipedriveOAuthApp, clock: Clock) -> None:
    """A code is traded (Basic client auth, form body) for tokens that expire on the app clock."""
    server = PipedriveOAuthServer()
    with httpx.Client(transport=httpx.MockTransport(server)) as http:
        tokens = app.exchange_code("code-1", http_client=http)
    assert tokens.access_token == Secret("access-1")
    assert tokens.refresh_token == Secret("refresh-1")
    assert tokens.api_domain == API_DOMAIN
    assert tokens.expires_at == clock.now + timedelta(seconds=3599)
    assert tokens.scope == "base"
    assert server.log == ["token authorization_code"]


async def test_pipedrive_async_code_exchange(app: PipedriveOAuthApp) -> None:
    """The async exchange trades the code the same way."""
    server = PipedriveOAuthServer()
    async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http:
        tokens = await app.aexchange_code("code-1", http_client=http)
    assert tokens.access_token == Secret("access-1")


def test_pipedrive_refused_exchange_is_an_oauth_error(app: PipedriveOAuthApp) -> None:
    """A refusal of the token endpoint is an OAuthError naming the reason, not the secret."""
    script = Script([httpx.Response(400, json={"error": "invalid_grant"})])
    with (
        httpx.Client(transport=script.transport) as http,
        pytest.raises(OAuthError, match="invalid_grant") as raised,
    ):
        app.exchange_code("stale-code", http_client=http)
    assert CLIENT_SECRET not in str(raised.value)


def test_refresh_before_expiry(app: PipedriveOAuthApp, clock: Clock) -> None:
    """A token expiring within a minute is refreshed before the request goes out."""
    server = PipedriveOAuthServer()
    client, stored = _client(app, _tokens(clock, expires_in=timedelta(seconds=30)), server)
    assert client.get_person(1).id == 1
    assert server.log == ["token refresh_token", "api True"]
    assert [t.refresh_token for t in stored] == [Secret("refresh-1")]
    assert repr(client) == f"PipedriveClient(base_url={API_DOMAIN!r})"


def test_refresh_after_a_401(app: PipedriveOAuthApp, clock: Clock) -> None:
    """A 401 to a token that looked valid triggers one refresh and one repeat of the request."""
    server = PipedriveOAuthServer()
    server.revoked.add("access-0")
    client, stored = _client(app, _tokens(clock, expires_in=timedelta(hours=1)), server)
    assert client.get_person(1).id == 1
    assert server.log == ["api False", "token refresh_token", "api True"]
    assert [t.access_token for t in stored] == [Secret("access-1")]


def test_a_401_after_refreshing_is_an_authentication_error(
    app: PipedriveOAuthApp, clock: Clock
) -> None:
    """If even the fresh token is refused, the call fails with AuthenticationError."""
    server = PipedriveOAuthServer()
    server.revoked.update({"access-0", "access-1"})
    client, _ = _client(app, _tokens(clock, expires_in=timedelta(hours=1)), server)
    with pytest.raises(AuthenticationError):
        client.get_person(1)
    assert server.refreshes == 1


def test_rotated_refresh_tokens_are_each_used_once_and_handed_over(
    app: PipedriveOAuthApp, clock: Clock
) -> None:
    """Across two expiries each new pair reaches the callback; no refresh token is reused."""
    server = PipedriveOAuthServer()
    client, stored = _client(app, _tokens(clock, expires_in=timedelta(seconds=10)), server)
    client.get_person(1)
    clock.now += timedelta(hours=1)
    client.get_person(1)
    client.get_person(1)
    assert [t.refresh_token for t in stored] == [Secret("refresh-1"), Secret("refresh-2")]
    assert (server.refreshes, server.refused_refreshes) == (2, 0)
    assert stored[-1].expires_at == clock.now + timedelta(seconds=3599)


def _in_threads(client: PipedriveClient) -> list[int]:
    start = threading.Barrier(THREADS)

    def call(_: int) -> int:
        start.wait()
        return client.get_person(1).id

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(call, range(THREADS)))


@pytest.mark.parametrize("trigger", ["expiry", "401"])
def test_threads_rotate_the_token_exactly_once(
    app: PipedriveOAuthApp, clock: Clock, trigger: str
) -> None:
    """Many threads hitting an expired or refused token share one refresh and lose nothing."""
    server = PipedriveOAuthServer()
    if trigger == "401":
        server.revoked.add("access-0")
        server.hold_api = threading.Barrier(THREADS, timeout=5)
    else:
        server.hold_refresh = 0.05  # the other threads reach the auth's lock meanwhile
    expires_in = timedelta(seconds=5) if trigger == "expiry" else timedelta(hours=1)
    client, stored = _client(app, _tokens(clock, expires_in=expires_in), server)
    assert _in_threads(client) == [1] * THREADS
    assert (server.refreshes, server.refused_refreshes) == (1, 0)
    assert [t.refresh_token for t in stored] == [Secret("refresh-1")]
    assert server.log.count("token refresh_token") == 1


@pytest.mark.parametrize("trigger", ["expiry", "401"])
async def test_tasks_rotate_the_token_exactly_once(
    app: PipedriveOAuthApp, clock: Clock, trigger: str
) -> None:
    """Many asyncio tasks hitting an expired or refused token share one refresh."""
    server = PipedriveOAuthServer()
    if trigger == "401":
        server.revoked.add("access-0")
    all_out = asyncio.Event()
    first_tries = 0

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal first_tries
        if request.url.host == "oauth.pipedrive.com":
            await asyncio.sleep(0)  # let the other tasks pile up behind the refresh
            return server.token_endpoint(request)
        if trigger == "401" and not server.accepts(request):
            first_tries += 1
            if first_tries == THREADS:
                all_out.set()
            await all_out.wait()
            return httpx.Response(401, json=documented_example("getCurrentUser", "401"))
        await asyncio.sleep(0)
        return server.api(request)

    stored: list[PipedriveTokens] = []
    expires_in = timedelta(seconds=5) if trigger == "expiry" else timedelta(hours=1)
    auth = PipedriveOAuthAuth(app, _tokens(clock, expires_in=expires_in), on_refresh=stored.append)
    async with AsyncPipedriveClient(
        oauth=auth, transport=httpx.MockTransport(answer), retry=RetryPolicy(attempts=1)
    ) as client:
        people = await asyncio.gather(*(client.get_person(1) for _ in range(THREADS)))
    assert [p.id for p in people] == [1] * THREADS
    assert (server.refreshes, server.refused_refreshes) == (1, 0)
    assert [t.refresh_token for t in stored] == [Secret("refresh-1")]
    assert auth.tokens.access_token == Secret("access-1")


def test_auth_and_tokens_never_show_a_token(app: PipedriveOAuthApp, clock: Clock) -> None:
    """Reprs of the app, the tokens and the auth show no token or client secret."""
    tokens = _tokens(clock, expires_in=timedelta(hours=1))
    auth = PipedriveOAuthAuth(app, tokens)
    for text in (repr(app), repr(tokens), repr(auth), str(tokens)):
        for secret in (CLIENT_SECRET, "access-0", "refresh-0"):
            assert secret not in text


# Mailchimp ------------------------------------------------------------------------

MC_SECRET = "canary-MC-CLIENT-SECRET-4242"
MC_TOKEN = "canary-MC-OAUTH-TOKEN-4242"


@pytest.fixture
def mailchimp_app() -> MailchimpOAuthApp:
    """A registered Mailchimp app."""
    return MailchimpOAuthApp(
        client_id="mc-app", client_secret=Secret(MC_SECRET), redirect_uri="https://app.example/mc"
    )


def test_mailchimp_authorization_url(mailchimp_app: MailchimpOAuthApp) -> None:
    """The authorization URL asks for a code for the app's redirect URI and state."""
    parts = urlsplit(mailchimp_app.authorization_url("s-9"))
    assert (parts.netloc, parts.path) == ("login.mailchimp.com", "/oauth2/authorize")
    assert parse_qs(parts.query) == {
        "response_type": ["code"],
        "client_id": ["mc-app"],
        "redirect_uri": ["https://app.example/mc"],
        "state": ["s-9"],
    }


def test_mailchimp_code_exchange_metadata_and_client(mailchimp_app: MailchimpOAuthApp) -> None:
    """A code becomes a token, the metadata names its data centre, and a client uses both."""

    def login(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            assert form == {
                "grant_type": "authorization_code",
                "client_id": "mc-app",
                "client_secret": MC_SECRET,
                "redirect_uri": "https://app.example/mc",
                "code": "mc-code",
            }
            return httpx.Response(
                200, json={"access_token": MC_TOKEN, "expires_in": 0, "scope": None}
            )
        assert request.headers["authorization"] == f"OAuth {MC_TOKEN}"
        return httpx.Response(
            200,
            json={
                "dc": "us6",
                "api_endpoint": "https://us6.api.mailchimp.com",
                "accountname": "Example Ltd",
                "login": {"login_email": "owner@example.com"},
            },
        )

    with httpx.Client(transport=httpx.MockTransport(login)) as http:
        token = mailchimp_app.exchange_code("mc-code", http_client=http)
        metadata = mailchimp_app.metadata(token, http_client=http)
    assert isinstance(token, Secret)
    assert token.reveal() == MC_TOKEN
    assert (metadata.dc, metadata.api_endpoint, metadata.login_email) == (
        "us6",
        "https://us6.api.mailchimp.com",
        "owner@example.com",
    )
    script = Script([httpx.Response(200, json=member_json(ADA))])
    with MailchimpClient(
        oauth_token=token, data_center=metadata.dc, transport=script.transport
    ) as client:
        client.get_member(LIST_ID, ADA)
    (sent,) = script.requests
    assert sent.url.host == "us6.api.mailchimp.com"
    assert sent.headers["authorization"] == f"Bearer {MC_TOKEN}"


@pytest.mark.parametrize(
    "answer",
    [httpx.Response(400, json={"error": "invalid_grant"}), httpx.Response(200, json={})],
    ids=["refused", "no-token"],
)
def test_mailchimp_failed_exchange_is_an_oauth_error(
    mailchimp_app: MailchimpOAuthApp, answer: httpx.Response
) -> None:
    """A refused or empty token answer is an OAuthError without the client secret."""
    with (
        httpx.Client(transport=Script([answer]).transport) as http,
        pytest.raises(OAuthError) as raised,
    ):
        mailchimp_app.exchange_code("mc-code", http_client=http)
    assert MC_SECRET not in str(raised.value)


def test_mailchimp_metadata_without_a_data_centre_is_an_oauth_error(
    mailchimp_app: MailchimpOAuthApp,
) -> None:
    """Metadata that names no data centre is an OAuthError."""
    with (
        httpx.Client(transport=Script([httpx.Response(401, json={})]).transport) as http,
        pytest.raises(OAuthError, match="401"),
    ):
        mailchimp_app.metadata(Secret(MC_TOKEN), http_client=http)
