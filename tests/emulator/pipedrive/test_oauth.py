"""Companies, API tokens and OAuth: code exchange, refresh rotation, hourly expiry, api_domain."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from pdmc import Secret
from pdmc.clients import PipedriveClient, RetryPolicy
from pdmc.clients.pipedrive.oauth import PipedriveOAuthApp, PipedriveOAuthAuth, PipedriveTokens
from pdmc.errors import AuthenticationError, OAuthError
from tests.emulator.pipedrive.conftest import API, Rig, basic

TOKEN_URL = "https://oauth.pipedrive.com/oauth/token"


def _app(rig: Rig) -> PipedriveOAuthApp:
    app = rig.pipedrive.default_oauth_app
    return PipedriveOAuthApp(
        client_id=app.client_id,
        client_secret=app.client_secret,
        redirect_uri=app.redirect_uri,
        clock=rig.clock.now,
    )


def _tokens(rig: Rig, app: PipedriveOAuthApp) -> PipedriveTokens:
    with httpx.Client(transport=rig.checked) as http:
        return app.exchange_code(rig.pipedrive.authorize(), http_client=http)


def test_an_authorization_code_trades_for_tokens_on_the_company_domain(rig: Rig) -> None:
    """The code exchange answers an hour-long token pair and the company's api_domain."""
    app = _app(rig)
    tokens = _tokens(rig, app)
    company = rig.pipedrive.default_company
    assert tokens.api_domain == f"https://{company.domain}.pipedrive.com"
    assert tokens.expires_at == rig.clock.now() + timedelta(seconds=3599)
    with PipedriveClient(oauth=PipedriveOAuthAuth(app, tokens), transport=rig.checked) as client:
        assert client.get_current_user().company_id == company.id


def test_codes_are_single_use_and_bound_to_the_app(rig: Rig) -> None:
    """A used code, a wrong redirect URI or wrong client secret is refused."""
    app = _app(rig)
    code = rig.pipedrive.authorize()
    with httpx.Client(transport=rig.checked) as http:
        app.exchange_code(code, http_client=http)
        with pytest.raises(OAuthError, match="invalid_grant"):
            app.exchange_code(code, http_client=http)
        other = PipedriveOAuthApp(
            client_id=app.client_id,
            client_secret=app.client_secret,
            redirect_uri="https://elsewhere.example/cb",
        )
        with pytest.raises(OAuthError, match="invalid_grant"):
            other.exchange_code(rig.pipedrive.authorize(), http_client=http)
        wrong = PipedriveOAuthApp(
            client_id=app.client_id, client_secret=Secret("nope"), redirect_uri=app.redirect_uri
        )
        with pytest.raises(OAuthError, match="invalid_client"):
            wrong.exchange_code(rig.pipedrive.authorize(), http_client=http)


def test_a_refresh_rotates_the_refresh_token(rig: Rig) -> None:
    """Each refresh issues a new pair; the old refresh token stops working."""
    app = _app(rig)
    tokens = _tokens(rig, app)
    with httpx.Client(transport=rig.checked) as http:
        fresh = app.refresh(tokens, http_client=http)
        assert fresh.refresh_token != tokens.refresh_token
        assert fresh.access_token != tokens.access_token
        with pytest.raises(OAuthError, match="invalid_grant"):
            app.refresh(tokens, http_client=http)
        assert app.refresh(fresh, http_client=http).api_domain == tokens.api_domain


def test_an_access_token_expires_after_an_hour_on_the_clock(rig: Rig) -> None:
    """A bearer token works until 3599 emulated seconds have passed, then answers 401."""
    access, _ = rig.pipedrive.issue_oauth_tokens()
    headers = {"authorization": f"Bearer {access.reveal()}"}
    with httpx.Client(base_url=API, transport=rig.checked, headers=headers) as http:
        assert http.get("/v1/users/me").status_code == 200
        rig.clock.advance(3598)
        assert http.get("/v1/users/me").status_code == 200
        rig.clock.advance(1)
        expired = http.get("/v1/users/me")
    assert expired.status_code == 401
    assert expired.json() == {
        "success": False,
        "error": "unauthorized access",
        "errorCode": 401,
        "error_info": expired.json()["error_info"],
        "data": None,
        "additional_data": None,
    }


def test_pdmc_refreshes_by_itself_across_hours(rig: Rig) -> None:
    """pdmc's OAuth auth refreshes before expiry on the emulator clock, storing each pair."""
    app = _app(rig)
    stored: list[PipedriveTokens] = []
    auth = PipedriveOAuthAuth(app, _tokens(rig, app), on_refresh=stored.append)
    with PipedriveClient(
        oauth=auth, transport=rig.checked, retry=RetryPolicy.no_wait(attempts=1)
    ) as client:
        for _ in range(3):
            assert client.get_current_user().id == rig.pipedrive.default_company.user_id
            rig.clock.advance(3600)
    assert len(stored) == 2
    assert len({t.refresh_token for t in stored}) == 2


def test_pdmc_recovers_from_a_401_with_one_refresh(rig: Rig) -> None:
    """A token that expired without warning is refreshed after the 401 and the call repeated."""
    app = _app(rig)
    tokens = _tokens(rig, app)
    lying = PipedriveTokens(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_at=tokens.expires_at + timedelta(days=1),
        api_domain=tokens.api_domain,
    )
    auth = PipedriveOAuthAuth(app, lying)
    rig.clock.advance(4000)
    with PipedriveClient(oauth=auth, transport=rig.checked) as client:
        client.get_current_user()
    assert auth.refreshes == 1


def test_tokens_only_open_their_own_company(rig: Rig) -> None:
    """Another company's domain refuses a token with 401; each token sees its own data."""
    other = rig.pipedrive.add_company("Other Ltd", plan="essential")
    rig.pipedrive.add_person(name="Mine")
    rig.pipedrive.add_person(name="Theirs", company=other)
    with rig.http(base_url=f"https://{other.domain}.pipedrive.com") as foreign:
        assert foreign.get("/v1/users/me").status_code == 401
    with rig.http(token=other.api_token.reveal()) as theirs:
        names = [p["name"] for p in theirs.get("/api/v2/persons").json()["data"]]
        assert names == ["Theirs"]
        assert theirs.get("/v1/users/me").headers["x-ratelimit-limit"] == "20"
    with rig.http(base_url=other.api_domain, token=other.api_token.reveal()) as home:
        assert home.get("/v1/users/me").json()["data"]["company_domain"] == other.domain


def test_missing_and_misplaced_credentials_are_refused(rig: Rig) -> None:
    """No token, an unknown token, or an API token sent as a bearer token answers 401."""
    with httpx.Client(base_url=API, transport=rig.checked) as anonymous:
        assert anonymous.get("/v1/users/me").status_code == 401
        bearer = {"authorization": f"Bearer {rig.token}"}
        assert anonymous.get("/v1/users/me", headers=bearer).status_code == 401
        assert anonymous.get("/v1/users/me", headers={"x-api-token": "x" * 40}).status_code == 401


def test_a_bad_api_token_reaches_pdmc_as_an_authentication_error(rig: Rig) -> None:
    """pdmc maps the 401 to AuthenticationError."""
    with (
        PipedriveClient("f" * 40, transport=rig.checked, retry=RetryPolicy.no_wait(1)) as client,
        pytest.raises(AuthenticationError),
    ):
        client.get_current_user()


def test_the_legacy_query_token_still_opens_v1_only(rig: Rig) -> None:
    """``?api_token=`` is honoured on v1 paths, never on v2."""
    with httpx.Client(base_url=API, transport=rig.transport) as http:
        assert http.get("/v1/users/me", params={"api_token": rig.token}).status_code == 200
        assert http.get("/api/v2/persons", params={"api_token": rig.token}).status_code == 401


def test_the_token_endpoint_refuses_odd_requests(rig: Rig) -> None:
    """Missing Basic credentials and unknown grant types get OAuth error bodies."""
    app = rig.pipedrive.default_oauth_app
    with httpx.Client(transport=rig.checked) as http:
        anonymous = http.post(TOKEN_URL, data={"grant_type": "refresh_token"})
        assert (anonymous.status_code, anonymous.json()["error"]) == (401, "invalid_client")
        odd = http.post(
            TOKEN_URL,
            data={"grant_type": "password"},
            headers={"authorization": basic(app.client_id, app.client_secret.reveal())},
        )
        assert (odd.status_code, odd.json()["error"]) == (400, "unsupported_grant_type")


def test_other_apps_can_be_registered(rig: Rig) -> None:
    """A registered app's credentials work at the token endpoint."""
    registered = rig.pipedrive.register_oauth_app("mine", "shh", "https://app.example/cb")
    app = PipedriveOAuthApp(
        client_id="mine", client_secret=Secret("shh"), redirect_uri="https://app.example/cb"
    )
    with httpx.Client(transport=rig.checked) as http:
        tokens = app.exchange_code(rig.pipedrive.authorize(app=registered), http_client=http)
    assert tokens.scope == "base contacts:full deals:full admin recents:read search:read"


def test_unknown_hosts_are_unreachable(rig: Rig) -> None:
    """A host the emulator does not serve fails like a missing server."""
    with (
        httpx.Client(base_url="https://nowhere.example.com", transport=rig.transport) as http,
        pytest.raises(httpx.ConnectError),
    ):
        http.get("/v1/users/me")
