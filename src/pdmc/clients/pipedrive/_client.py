"""PipedriveClient and AsyncPipedriveClient: thin shells over the shared core."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Final, Literal, Self

import httpx

from pdmc._secret import Secret
from pdmc.clients._auth import HeaderTokenAuth
from pdmc.clients._core import ClientCore, RateLimitPacer, Usage
from pdmc.clients._http import AsyncHTTP, SyncHTTP
from pdmc.clients._pagination import AsyncPageIterator, PageIterator
from pdmc.clients._retry import RetryPolicy
from pdmc.clients.pipedrive._api import (
    PersonSort,
    PipedriveAPI,
    PipedriveVendor,
    WebhookAction,
    WebhookObject,
)
from pdmc.clients.pipedrive.models import (
    CurrentUser,
    Deal,
    DealParticipant,
    Filter,
    FilterConditions,
    Person,
    PersonField,
    PersonInput,
    PersonSearchHit,
    Pipeline,
    RecentItem,
    Stage,
    Webhook,
)
from pdmc.clients.pipedrive.oauth import PipedriveOAuthAuth
from pdmc.errors import ConfigurationError

__all__ = ["DEFAULT_BASE_URL", "AsyncPipedriveClient", "PipedriveClient"]

DEFAULT_BASE_URL: Final = "https://api.pipedrive.com"


def _core(
    api_token: Secret | str | None,
    oauth: PipedriveOAuthAuth | None,
    base_url: str | None,
    retry: RetryPolicy | None,
    clock: Callable[[], float],
) -> ClientCore:
    if (api_token is None) == (oauth is None):
        raise ConfigurationError("give exactly one of api_token and oauth")
    auth: httpx.Auth
    if oauth is not None:
        auth = oauth
        base_url = base_url or oauth.tokens.api_domain
    else:
        token = api_token if isinstance(api_token, Secret) else Secret(str(api_token))
        if not token:
            raise ConfigurationError("the Pipedrive API token is empty")
        auth = HeaderTokenAuth("x-api-token", token)
    return ClientCore(
        base_url=base_url or DEFAULT_BASE_URL,
        auth=auth,
        vendor=PipedriveVendor(),
        retry=retry or RetryPolicy(),
        pacer=RateLimitPacer(
            remaining_header="x-ratelimit-remaining", reset_header="x-ratelimit-reset", clock=clock
        ),
        headers={"user-agent": "pdmc"},
    )


class PipedriveClient:
    """A typed client of the Pipedrive API (v2, and v1 where only v1 exists).

    Authenticate with an API token (sent in the ``x-api-token`` header, never in the
    URL) or with OAuth (a :class:`~pdmc.clients.pipedrive.oauth.PipedriveOAuthAuth`,
    which also sets the company's ``api_domain`` as base URL and refreshes tokens).

    Every call retries transient failures by ``retry``, paces itself by Pipedrive's
    ``x-ratelimit-*`` headers, and counts requests and tokens in :attr:`usage`.
    List calls return lazy iterators that fetch pages of up to ``page_size`` (500).

    Args:
        api_token: the company's API token.
        oauth: an OAuth auth instead of a token.
        base_url: scheme and host; defaults to the OAuth ``api_domain`` or the public API.
        transport: an ``httpx`` transport (the emulator's, a mock) to send through.
        http_client: an ``httpx.Client`` to borrow instead (not closed by this client).
        retry: the retry policy (:meth:`RetryPolicy.no_wait` in tests).
        timeout: per-request timeouts.
        sleep: how to wait (pacing and backoff); tests and the emulator pass their own.
        clock: a monotonic clock in seconds, for pacing.
        page_size: items per list page, 1 to 500.

    Raises:
        ConfigurationError: neither or both credentials were given, or one is empty.
    """

    def __init__(
        self,
        api_token: Secret | str | None = None,
        *,
        oauth: PipedriveOAuthAuth | None = None,
        base_url: str | None = None,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        page_size: int = 500,
    ) -> None:
        self._api = PipedriveAPI(page_size=page_size)
        self._http = SyncHTTP(
            _core(api_token, oauth, base_url, retry, clock),
            http_client=http_client,
            transport=transport,
            timeout=timeout,
            sleep=sleep,
        )

    def __repr__(self) -> str:
        return f"PipedriveClient(base_url={self._http.core.base_url!r})"

    @property
    def usage(self) -> Usage:
        """Requests sent and tokens spent so far; subtract two snapshots to price a run."""
        return self._http.core.usage.snapshot()

    def close(self) -> None:
        """Close the connection pool (unless it was borrowed)."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def list_persons(
        self,
        *,
        filter_id: int | None = None,
        ids: Sequence[int] | None = None,
        updated_since: datetime | None = None,
        updated_until: datetime | None = None,
        sort_by: PersonSort | None = None,
        sort_direction: Literal["asc", "desc"] | None = None,
        include_fields: Sequence[str] | None = None,
        custom_fields: Sequence[str] | None = None,
    ) -> PageIterator[Person]:
        """Iterate over persons (``GET /api/v2/persons``, 10 tokens a page).

        ``filter_id`` limits the walk to a saved filter's matches; ``updated_since`` and
        ``updated_until`` (timezone-aware) to a window of ``update_time``.
        """
        return self._http.listing(
            self._api.list_persons(
                filter_id=filter_id,
                ids=ids,
                updated_since=updated_since,
                updated_until=updated_until,
                sort_by=sort_by,
                sort_direction=sort_direction,
                include_fields=include_fields,
                custom_fields=custom_fields,
            )
        )

    def get_person(self, person_id: int, *, include_fields: Sequence[str] | None = None) -> Person:
        """Return one person (1 token). Raises NotFoundError if it does not exist."""
        return self._http.call(self._api.get_person(person_id, include_fields=include_fields))

    def create_person(self, person: PersonInput) -> Person:
        """Create a person (5 tokens) and return it as stored."""
        return self._http.call(self._api.create_person(person))

    def update_person(self, person_id: int, changes: PersonInput) -> Person:
        """Change the given fields of a person with PATCH (5 tokens); others stay."""
        return self._http.call(self._api.update_person(person_id, changes))

    def search_persons_by_email(self, email: str) -> list[PersonSearchHit]:
        """Return persons whose email matches exactly, ignoring case (20 tokens).

        Search is expensive and rate-limited; a sync uses it only for unknown emails.
        """
        return self._http.call(self._api.search_persons_by_email(email))

    def list_person_fields(self) -> PageIterator[PersonField]:
        """Iterate over every person field, standard and custom, with options and subfields."""
        return self._http.listing(self._api.list_person_fields())

    def list_filters(self, *, type: str = "people") -> list[Filter]:  # noqa: A002 - the API's name
        """Return the saved filters of a type (v1; conditions are not included)."""
        return self._http.call(self._api.list_filters(type=type))

    def get_filter(self, filter_id: int) -> Filter:
        """Return one filter with its conditions (v1)."""
        return self._http.call(self._api.get_filter(filter_id))

    def create_filter(
        self,
        name: str,
        conditions: FilterConditions,
        *,
        type: str = "people",  # noqa: A002
    ) -> Filter:
        """Create a filter (v1; at most 16 conditions)."""
        return self._http.call(self._api.create_filter(name, conditions, type=type))

    def update_filter(
        self, filter_id: int, conditions: FilterConditions, *, name: str | None = None
    ) -> Filter:
        """Replace a filter's conditions, and rename it if ``name`` is given (v1).

        Pipedrive requires the conditions on every update: to rename a filter, pass
        its current conditions (:meth:`get_filter` returns them).
        """
        return self._http.call(self._api.update_filter(filter_id, conditions, name=name))

    def delete_filter(self, filter_id: int) -> None:
        """Delete a filter (v1)."""
        self._http.call(self._api.delete_filter(filter_id))

    def list_pipelines(self) -> PageIterator[Pipeline]:
        """Iterate over pipelines."""
        return self._http.listing(self._api.list_pipelines())

    def list_stages(self, *, pipeline_id: int | None = None) -> PageIterator[Stage]:
        """Iterate over stages, of one pipeline or of all."""
        return self._http.listing(self._api.list_stages(pipeline_id=pipeline_id))

    def get_deal(self, deal_id: int) -> Deal:
        """Return one deal (1 token)."""
        return self._http.call(self._api.get_deal(deal_id))

    def list_deals(
        self,
        *,
        stage_id: int | None = None,
        pipeline_id: int | None = None,
        person_id: int | None = None,
        status: Literal["open", "won", "lost", "deleted"] | None = None,
        updated_since: datetime | None = None,
    ) -> PageIterator[Deal]:
        """Iterate over deals, for example those in a stage."""
        return self._http.listing(
            self._api.list_deals(
                stage_id=stage_id,
                pipeline_id=pipeline_id,
                person_id=person_id,
                status=status,
                updated_since=updated_since,
            )
        )

    def list_deal_participants(self, deal_id: int) -> PageIterator[DealParticipant]:
        """Iterate over the persons taking part in a deal (v1)."""
        return self._http.listing(self._api.list_deal_participants(deal_id))

    def list_webhooks(self) -> list[Webhook]:
        """Return the company's webhooks (v1)."""
        return self._http.call(self._api.list_webhooks())

    def create_webhook(
        self,
        *,
        subscription_url: str,
        event_action: WebhookAction,
        event_object: WebhookObject,
        name: str,
        http_auth_user: str | None = None,
        http_auth_password: Secret | None = None,
        user_id: int | None = None,
        version: Literal["1.0", "2.0"] = "2.0",
    ) -> Webhook:
        """Register a webhook (v1 API, v2 payloads by default) with Basic-auth credentials."""
        return self._http.call(
            self._api.create_webhook(
                subscription_url=subscription_url,
                event_action=event_action,
                event_object=event_object,
                name=name,
                http_auth_user=http_auth_user,
                http_auth_password=http_auth_password,
                user_id=user_id,
                version=version,
            )
        )

    def delete_webhook(self, webhook_id: int) -> None:
        """Delete a webhook (v1)."""
        self._http.call(self._api.delete_webhook(webhook_id))

    def get_current_user(self) -> CurrentUser:
        """Return the user behind the credential, with the company id."""
        return self._http.call(self._api.get_current_user())

    def list_recents(
        self,
        since: datetime,
        *,
        items: Literal["person", "deal", "filter", "stage", "pipeline", "user"] | None = None,
    ) -> PageIterator[RecentItem]:
        """Iterate over items changed since ``since`` (v1 ``/recents``)."""
        return self._http.listing(self._api.list_recents(since, items=items))


class AsyncPipedriveClient:
    """The async twin of :class:`PipedriveClient`: the same calls, awaited.

    List calls return async iterators (``async for``). Arguments are the same as
    :class:`PipedriveClient`'s, with an ``httpx.AsyncClient`` or async transport.
    """

    def __init__(
        self,
        api_token: Secret | str | None = None,
        *,
        oauth: PipedriveOAuthAuth | None = None,
        base_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        page_size: int = 500,
    ) -> None:
        self._api = PipedriveAPI(page_size=page_size)
        self._http = AsyncHTTP(
            _core(api_token, oauth, base_url, retry, clock),
            http_client=http_client,
            transport=transport,
            timeout=timeout,
            sleep=sleep,
        )

    def __repr__(self) -> str:
        return f"AsyncPipedriveClient(base_url={self._http.core.base_url!r})"

    @property
    def usage(self) -> Usage:
        """Requests sent and tokens spent so far."""
        return self._http.core.usage.snapshot()

    async def aclose(self) -> None:
        """Close the connection pool (unless it was borrowed)."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def list_persons(
        self,
        *,
        filter_id: int | None = None,
        ids: Sequence[int] | None = None,
        updated_since: datetime | None = None,
        updated_until: datetime | None = None,
        sort_by: PersonSort | None = None,
        sort_direction: Literal["asc", "desc"] | None = None,
        include_fields: Sequence[str] | None = None,
        custom_fields: Sequence[str] | None = None,
    ) -> AsyncPageIterator[Person]:
        """Iterate over persons; see :meth:`PipedriveClient.list_persons`."""
        return self._http.listing(
            self._api.list_persons(
                filter_id=filter_id,
                ids=ids,
                updated_since=updated_since,
                updated_until=updated_until,
                sort_by=sort_by,
                sort_direction=sort_direction,
                include_fields=include_fields,
                custom_fields=custom_fields,
            )
        )

    async def get_person(
        self, person_id: int, *, include_fields: Sequence[str] | None = None
    ) -> Person:
        """Return one person."""
        return await self._http.call(self._api.get_person(person_id, include_fields=include_fields))

    async def create_person(self, person: PersonInput) -> Person:
        """Create a person."""
        return await self._http.call(self._api.create_person(person))

    async def update_person(self, person_id: int, changes: PersonInput) -> Person:
        """Change the given fields of a person with PATCH."""
        return await self._http.call(self._api.update_person(person_id, changes))

    async def search_persons_by_email(self, email: str) -> list[PersonSearchHit]:
        """Return persons whose email matches exactly, ignoring case (20 tokens)."""
        return await self._http.call(self._api.search_persons_by_email(email))

    def list_person_fields(self) -> AsyncPageIterator[PersonField]:
        """Iterate over every person field."""
        return self._http.listing(self._api.list_person_fields())

    async def list_filters(self, *, type: str = "people") -> list[Filter]:  # noqa: A002
        """Return the saved filters of a type."""
        return await self._http.call(self._api.list_filters(type=type))

    async def get_filter(self, filter_id: int) -> Filter:
        """Return one filter with its conditions."""
        return await self._http.call(self._api.get_filter(filter_id))

    async def create_filter(
        self,
        name: str,
        conditions: FilterConditions,
        *,
        type: str = "people",  # noqa: A002
    ) -> Filter:
        """Create a filter."""
        return await self._http.call(self._api.create_filter(name, conditions, type=type))

    async def update_filter(
        self, filter_id: int, conditions: FilterConditions, *, name: str | None = None
    ) -> Filter:
        """Replace a filter's conditions, and rename it if ``name`` is given."""
        return await self._http.call(self._api.update_filter(filter_id, conditions, name=name))

    async def delete_filter(self, filter_id: int) -> None:
        """Delete a filter."""
        await self._http.call(self._api.delete_filter(filter_id))

    def list_pipelines(self) -> AsyncPageIterator[Pipeline]:
        """Iterate over pipelines."""
        return self._http.listing(self._api.list_pipelines())

    def list_stages(self, *, pipeline_id: int | None = None) -> AsyncPageIterator[Stage]:
        """Iterate over stages."""
        return self._http.listing(self._api.list_stages(pipeline_id=pipeline_id))

    async def get_deal(self, deal_id: int) -> Deal:
        """Return one deal."""
        return await self._http.call(self._api.get_deal(deal_id))

    def list_deals(
        self,
        *,
        stage_id: int | None = None,
        pipeline_id: int | None = None,
        person_id: int | None = None,
        status: Literal["open", "won", "lost", "deleted"] | None = None,
        updated_since: datetime | None = None,
    ) -> AsyncPageIterator[Deal]:
        """Iterate over deals."""
        return self._http.listing(
            self._api.list_deals(
                stage_id=stage_id,
                pipeline_id=pipeline_id,
                person_id=person_id,
                status=status,
                updated_since=updated_since,
            )
        )

    def list_deal_participants(self, deal_id: int) -> AsyncPageIterator[DealParticipant]:
        """Iterate over the persons taking part in a deal."""
        return self._http.listing(self._api.list_deal_participants(deal_id))

    async def list_webhooks(self) -> list[Webhook]:
        """Return the company's webhooks."""
        return await self._http.call(self._api.list_webhooks())

    async def create_webhook(
        self,
        *,
        subscription_url: str,
        event_action: WebhookAction,
        event_object: WebhookObject,
        name: str,
        http_auth_user: str | None = None,
        http_auth_password: Secret | None = None,
        user_id: int | None = None,
        version: Literal["1.0", "2.0"] = "2.0",
    ) -> Webhook:
        """Register a webhook."""
        return await self._http.call(
            self._api.create_webhook(
                subscription_url=subscription_url,
                event_action=event_action,
                event_object=event_object,
                name=name,
                http_auth_user=http_auth_user,
                http_auth_password=http_auth_password,
                user_id=user_id,
                version=version,
            )
        )

    async def delete_webhook(self, webhook_id: int) -> None:
        """Delete a webhook."""
        await self._http.call(self._api.delete_webhook(webhook_id))

    async def get_current_user(self) -> CurrentUser:
        """Return the user behind the credential."""
        return await self._http.call(self._api.get_current_user())

    def list_recents(
        self,
        since: datetime,
        *,
        items: Literal["person", "deal", "filter", "stage", "pipeline", "user"] | None = None,
    ) -> AsyncPageIterator[RecentItem]:
        """Iterate over items changed since ``since``."""
        return self._http.listing(self._api.list_recents(since, items=items))
