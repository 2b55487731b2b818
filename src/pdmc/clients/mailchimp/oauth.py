"""Mailchimp OAuth 2.0: the authorization URL, code exchange and the metadata lookup.

Mailchimp access tokens do not expire and come without a refresh token; a 401 means
the user revoked access. The account's data centre comes from the metadata endpoint.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlencode

import httpx
from attrs import frozen

from pdmc._secret import Secret
from pdmc.clients._auth import borrowed_client
from pdmc.errors import OAuthError

__all__ = ["MailchimpOAuthApp", "MailchimpTokenMetadata"]

AUTHORIZE_URL: Final = "https://login.mailchimp.com/oauth2/authorize"
TOKEN_URL: Final = "https://login.mailchimp.com/oauth2/token"  # noqa: S105 - a URL
METADATA_URL: Final = "https://login.mailchimp.com/oauth2/metadata"


@frozen(kw_only=True)
class MailchimpTokenMetadata:
    """What the metadata endpoint says of a token: the data centre and API endpoint."""

    dc: str
    api_endpoint: str
    login_email: str | None = None
    account_name: str | None = None


@frozen(kw_only=True)
class MailchimpOAuthApp:
    """A registered Mailchimp app: builds the OAuth requests and reads their answers."""

    client_id: str
    client_secret: Secret
    redirect_uri: str
    authorize_url: str = AUTHORIZE_URL
    token_url: str = TOKEN_URL
    metadata_url: str = METADATA_URL

    def authorization_url(self, state: str) -> str:
        """Return the URL to send the user to; ``state`` comes back on the redirect."""
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "state": state,
        }
        return f"{self.authorize_url}?{urlencode(query)}"

    def exchange_request(self, code: str) -> httpx.Request:
        """Return the request that trades an authorization code for an access token."""
        form = {
            "grant_type": "authorization_code",
            "client_id": self.client_id,
            "client_secret": self.client_secret.reveal(),
            "redirect_uri": self.redirect_uri,
            "code": code,
        }
        return httpx.Request("POST", self.token_url, data=form)

    def metadata_request(self, token: Secret) -> httpx.Request:
        """Return the request that asks which data centre a token belongs to."""
        return httpx.Request(
            "GET", self.metadata_url, headers={"authorization": f"OAuth {token.reveal()}"}
        )

    def read_token(self, response: httpx.Response) -> Secret:
        """Return the access token of a token-endpoint response, or raise OAuthError."""
        body = _json(response)
        if not response.is_success or "access_token" not in body:
            raise OAuthError(
                f"the token endpoint answered {response.status_code}: {body.get('error')}"
            )
        return Secret(str(body["access_token"]))

    def read_metadata(self, response: httpx.Response) -> MailchimpTokenMetadata:
        """Return the metadata of a metadata-endpoint response, or raise OAuthError."""
        body = _json(response)
        if not response.is_success or "dc" not in body:
            raise OAuthError(f"the metadata endpoint answered {response.status_code}")
        return MailchimpTokenMetadata(
            dc=str(body["dc"]),
            api_endpoint=str(body.get("api_endpoint") or f"https://{body['dc']}.api.mailchimp.com"),
            login_email=(body.get("login") or {}).get("login_email"),
            account_name=body.get("accountname"),
        )

    def exchange_code(self, code: str, *, http_client: httpx.Client | None = None) -> Secret:
        """Trade an authorization code for an access token (sync)."""
        with borrowed_client(http_client) as client:
            return self.read_token(client.send(self.exchange_request(code)))

    def metadata(
        self, token: Secret, *, http_client: httpx.Client | None = None
    ) -> MailchimpTokenMetadata:
        """Look up the data centre of a token (sync)."""
        with borrowed_client(http_client) as client:
            return self.read_metadata(client.send(self.metadata_request(token)))


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
