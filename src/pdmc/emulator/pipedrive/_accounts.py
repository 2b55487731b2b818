"""Companies, their plans and users, API tokens, OAuth apps and OAuth tokens.

Pipedrive access tokens live an hour and every refresh rotates the refresh token;
both run on the emulator clock. Tokens are random strings drawn from the
emulator's seeded generator, wrapped in :class:`~pdmc.Secret` wherever they leave.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from types import MappingProxyType
from typing import Final, Literal

from attrs import define, field, frozen

from pdmc._secret import Secret
from pdmc.errors import ConfigurationError

__all__ = [
    "ACCESS_TOKEN_SECONDS",
    "BASE_DAILY_TOKENS",
    "PLANS",
    "SEARCH_BURST",
    "Accounts",
    "Caller",
    "Company",
    "IssuedTokens",
    "OAuthApp",
    "OAuthRefusal",
    "Plan",
]

BASE_DAILY_TOKENS: Final = 30_000
"""The daily token budget per seat before the plan multiplier."""
SEARCH_BURST: Final = 10
"""Search requests allowed per 2-second window on every plan, per token."""
ACCESS_TOKEN_SECONDS: Final = 3599
"""``expires_in`` of an access token (Pipedrive's documented example)."""
_CODE_SECONDS: Final = 300


@frozen
class Plan:
    """A Pipedrive plan: requests per 2-second window per token, and the budget multiplier."""

    name: str
    api_token_burst: int
    oauth_burst: int
    multiplier: int


PLANS: Final = MappingProxyType(
    {
        plan.name: plan
        for plan in (
            Plan("essential", 20, 80, 1),
            Plan("advanced", 40, 160, 2),
            Plan("professional", 80, 320, 3),
            Plan("power", 100, 400, 5),
            Plan("enterprise", 120, 480, 7),
        )
    }
)
"""Bursts from Pipedrive's rate-limiting guide; multipliers from its usage-limits page
(API tokens per seat: 30,000, 60,000, 90,000, 150,000 and 210,000)."""


@frozen(kw_only=True)
class Company:
    """A Pipedrive company account and the one user its API token belongs to.

    Attributes:
        id: the company id.
        name: the company name.
        domain: the company domain; the API answers at ``https://<domain>.pipedrive.com``.
        api_token: the user's API token (send it in ``x-api-token``).
        plan: the plan name, which sets the rate limits.
        seats: paid seats, which scale the daily token budget.
        user_id: the user behind the API token and the OAuth grants.
        user_name: that user's name.
        user_email: that user's login email.
    """

    id: int
    name: str
    domain: str
    api_token: Secret
    plan: str
    seats: int
    user_id: int
    user_name: str
    user_email: str

    @property
    def api_domain(self) -> str:
        """The base URL OAuth token responses point to."""
        return f"https://{self.domain}.pipedrive.com"

    @property
    def daily_token_budget(self) -> int:
        """30,000 tokens x the plan multiplier x seats."""
        return BASE_DAILY_TOKENS * PLANS[self.plan].multiplier * self.seats


@frozen(kw_only=True)
class OAuthApp:
    """A registered Marketplace app: its client credentials and redirect URI."""

    client_id: str
    client_secret: Secret
    redirect_uri: str


@frozen
class Caller:
    """Who sent a request: the company, how it authenticated, and the token's window key."""

    company_id: int
    kind: Literal["api_token", "oauth"]
    key: str = field(repr=False)


@frozen(kw_only=True)
class IssuedTokens:
    """A new OAuth token pair, the company it acts for and the granted scope."""

    company: Company
    access_token: Secret
    refresh_token: Secret
    scope: str


@define
class _Grant:
    company_id: int
    client_id: str
    scope: str
    expires_at: float = 0.0
    redirect_uri: str = ""


class OAuthRefusal(Exception):  # noqa: N818 - what the token endpoint answers
    """The token endpoint refuses: ``error`` is the OAuth error code."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description


class Accounts:
    """Every company, API token, OAuth app and OAuth grant of one emulator."""

    DEFAULT_SCOPE: Final = "base contacts:full deals:full admin recents:read search:read"

    def __init__(self, rng: random.Random, clock: Callable[[], float]) -> None:
        self._rng = rng
        self._clock = clock
        self.companies: dict[int, Company] = {}
        self._by_domain: dict[str, int] = {}
        self._api_tokens: dict[str, int] = {}
        self.apps: dict[str, OAuthApp] = {}
        self._codes: dict[str, _Grant] = {}
        self._access: dict[str, _Grant] = {}
        self._refresh: dict[str, _Grant] = {}

    def _hex(self, length: int) -> str:
        return "".join(self._rng.choice("0123456789abcdef") for _ in range(length))

    def add_company(self, name: str, *, plan: str, seats: int) -> Company:
        """Create a company with a user and an API token.

        Raises:
            ConfigurationError: an unknown plan, fewer than one seat, or an empty name.
        """
        if plan not in PLANS:
            raise ConfigurationError(
                f"company {name!r}: unknown plan {plan!r} ({', '.join(PLANS)})"
            )
        if seats < 1:
            raise ConfigurationError(f"company {name!r}: seats must be at least 1, got {seats}")
        if not name.strip():
            raise ConfigurationError("a company needs a name")
        number = len(self.companies) + 1
        slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-") or "company"
        domain = f"{slug}-{number}" if f"{slug}" in self._by_domain else slug
        company = Company(
            id=8_087_000 + number,
            name=name,
            domain=domain,
            api_token=Secret(self._hex(40)),
            plan=plan,
            seats=seats,
            user_id=12_094_000 + number,
            user_name=f"{name} Admin",
            user_email=f"admin@{domain}.example.com",
        )
        self.companies[company.id] = company
        self._by_domain[domain] = company.id
        self._api_tokens[company.api_token.reveal()] = company.id
        return company

    def company_at(self, host: str) -> Company | None:
        """The company whose domain host this is (``<domain>.pipedrive.com``)."""
        domain = host.removesuffix(".pipedrive.com")
        found = self._by_domain.get(domain) if domain != host else None
        return None if found is None else self.companies[found]

    def caller_for_api_token(self, token: str) -> Caller | None:
        """The caller an API token identifies, if it is known."""
        company_id = self._api_tokens.get(token)
        return None if company_id is None else Caller(company_id, "api_token", token)

    def caller_for_access_token(self, token: str) -> Caller | None:
        """The caller a live (unexpired) OAuth access token identifies."""
        grant = self._access.get(token)
        if grant is None or self._clock() >= grant.expires_at:
            return None
        return Caller(grant.company_id, "oauth", token)

    # OAuth --------------------------------------------------------------------------

    def register_app(self, client_id: str, client_secret: Secret, redirect_uri: str) -> OAuthApp:
        """Register a Marketplace app whose credentials the token endpoint accepts."""
        if not client_id or not client_secret:
            raise ConfigurationError("an OAuth app needs a client id and a client secret")
        app = OAuthApp(client_id=client_id, client_secret=client_secret, redirect_uri=redirect_uri)
        self.apps[client_id] = app
        return app

    def authorize(self, company: Company, app: OAuthApp, scope: str) -> str:
        """An authorization code, as the redirect after a user's consent carries it."""
        code = f"{company.id}.{self._hex(32)}"
        self._codes[code] = _Grant(
            company.id, app.client_id, scope, self._clock() + _CODE_SECONDS, app.redirect_uri
        )
        return code

    def issue(self, company_id: int, client_id: str, scope: str) -> IssuedTokens:
        """A new access token (one hour) and refresh token for a company and app."""
        access = f"v1u:{self._hex(64)}"
        refresh = f"{company_id}:{self._hex(40)}"
        self._access[access] = _Grant(
            company_id, client_id, scope, self._clock() + ACCESS_TOKEN_SECONDS
        )
        self._refresh[refresh] = _Grant(company_id, client_id, scope)
        return IssuedTokens(
            company=self.companies[company_id],
            access_token=Secret(access),
            refresh_token=Secret(refresh),
            scope=scope,
        )

    def app_for(self, client_id: str, client_secret: str) -> OAuthApp:
        """The app these client credentials belong to.

        Raises:
            OAuthRefusal: unknown client or wrong secret (401 ``invalid_client``).
        """
        app = self.apps.get(client_id)
        if app is None or app.client_secret.reveal() != client_secret:
            raise OAuthRefusal(401, "invalid_client", "Invalid client credentials")
        return app

    def exchange_code(self, app: OAuthApp, code: str, redirect_uri: str) -> IssuedTokens:
        """Trade a one-time authorization code for tokens.

        Raises:
            OAuthRefusal: unknown, used or expired code, or another app's or redirect's.
        """
        grant = self._codes.pop(code, None)
        if grant is None or grant.client_id != app.client_id or self._clock() >= grant.expires_at:
            raise OAuthRefusal(400, "invalid_grant", "Invalid or expired authorization code")
        if redirect_uri != grant.redirect_uri:
            raise OAuthRefusal(400, "invalid_grant", "redirect_uri does not match the app's")
        return self.issue(grant.company_id, app.client_id, grant.scope)

    def refresh(self, app: OAuthApp, refresh_token: str) -> IssuedTokens:
        """Rotate a refresh token: the old one stops working, a new pair is issued.

        Raises:
            OAuthRefusal: unknown or already used refresh token, or another app's.
        """
        grant = self._refresh.get(refresh_token)
        if grant is None or grant.client_id != app.client_id:
            raise OAuthRefusal(400, "invalid_grant", "Invalid refresh token")
        del self._refresh[refresh_token]
        return self.issue(grant.company_id, app.client_id, grant.scope)
