"""MailchimpClient and AsyncMailchimpClient: thin shells over the shared core."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Final, Literal, Self

import httpx

from pdmc._secret import Secret
from pdmc._types import UNSET, UnsetType
from pdmc.clients._auth import BasicAuth, BearerAuth
from pdmc.clients._core import Call, ClientCore, Usage
from pdmc.clients._http import AsyncHTTP, SyncHTTP
from pdmc.clients._pagination import AsyncPageIterator, PageIterator
from pdmc.clients._retry import RetryPolicy
from pdmc.clients.mailchimp._api import MailchimpAPI, MailchimpVendor, read_batch_results
from pdmc.clients.mailchimp.models import (
    Account,
    Audience,
    AudienceWebhook,
    Batch,
    BatchOperation,
    BatchOperationResult,
    BatchSubscribeResult,
    Member,
    MemberStatus,
    MemberTag,
    MemberUpsert,
    MergeField,
    Segment,
    StaticSegmentUpdate,
    TagUpdate,
    WebhookEvents,
    WebhookSources,
    WritableStatus,
)
from pdmc.errors import ConfigurationError, MemberError

__all__ = [
    "DEFAULT_CONCURRENCY",
    "MAX_CONCURRENCY",
    "AsyncMailchimpClient",
    "MailchimpClient",
    "data_center_of",
]

DEFAULT_CONCURRENCY: Final = 8
MAX_CONCURRENCY: Final = 10
"""Mailchimp allows 10 simultaneous connections per user; pdmc never goes above."""

_DC = re.compile(r"-([a-z]+[0-9]+)$")


def data_center_of(api_key: Secret | str) -> str:
    """Return the data centre of an API key: its suffix after the last dash (``us6``).

    Raises:
        ConfigurationError: the key has no data-centre suffix.
    """
    raw = api_key.reveal() if isinstance(api_key, Secret) else api_key
    match = _DC.search(raw.strip())
    if match is None:
        raise ConfigurationError("a Mailchimp API key ends with its data centre, like '-us6'")
    return match.group(1)


def _core(  # noqa: PLR0917 - a private builder called from two constructors
    api_key: Secret | str | None,
    oauth_token: Secret | str | None,
    data_center: str | None,
    base_url: str | None,
    retry: RetryPolicy | None,
    max_concurrency: int,
) -> ClientCore:
    if (api_key is None) == (oauth_token is None):
        raise ConfigurationError("give exactly one of api_key and oauth_token")
    if not 1 <= max_concurrency <= MAX_CONCURRENCY:
        raise ConfigurationError(
            f"max_concurrency must be between 1 and {MAX_CONCURRENCY} (Mailchimp's limit)"
        )
    auth: httpx.Auth
    if api_key is not None:
        key = api_key if isinstance(api_key, Secret) else Secret(str(api_key))
        data_center = data_center or data_center_of(key)
        auth = BasicAuth("pdmc", key)
    else:
        token = oauth_token if isinstance(oauth_token, Secret) else Secret(str(oauth_token))
        if data_center is None and base_url is None:
            raise ConfigurationError(
                "an OAuth token needs its data_center (MailchimpOAuthApp.metadata tells it)"
            )
        auth = BearerAuth(token)
    return ClientCore(
        base_url=base_url or f"https://{data_center}.api.mailchimp.com",
        auth=auth,
        vendor=MailchimpVendor(),
        retry=retry or RetryPolicy(),
        max_concurrency=max_concurrency,
        headers={"user-agent": "pdmc"},
    )


class MailchimpClient:
    """A typed client of the Mailchimp Marketing API.

    Authenticate with an API key (its ``-usN`` suffix names the data centre) or an
    OAuth token with its ``data_center``. At most ``max_concurrency`` requests (8 by
    default, never above Mailchimp's 10) are in flight at once across all threads
    sharing the client. Every call retries transient failures, including the
    body-less 403 Mailchimp sends under load; permanent member refusals raise the
    :class:`~pdmc.errors.MemberError` subclasses.

    Args:
        api_key: an API key such as ``"0123...-us6"``.
        oauth_token: an OAuth access token instead of a key.
        data_center: the data centre (needed with ``oauth_token``).
        base_url: scheme and host, overriding the data centre (the emulator sets it).
        transport: an ``httpx`` transport to send through.
        http_client: an ``httpx.Client`` to borrow (not closed by this client).
        retry: the retry policy.
        timeout: per-request timeouts.
        sleep: how to wait between retries.
        max_concurrency: the most requests in flight, 1 to 10.
        page_size: items per list page, 1 to 1000.

    Raises:
        ConfigurationError: no credential or both, a key without a data centre, or a
            concurrency above 10.
    """

    def __init__(
        self,
        api_key: Secret | str | None = None,
        *,
        oauth_token: Secret | str | None = None,
        data_center: str | None = None,
        base_url: str | None = None,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_concurrency: int = DEFAULT_CONCURRENCY,
        page_size: int = 1000,
    ) -> None:
        self._api = MailchimpAPI(page_size=page_size)
        self._http = SyncHTTP(
            _core(api_key, oauth_token, data_center, base_url, retry, max_concurrency),
            http_client=http_client,
            transport=transport,
            timeout=timeout,
            sleep=sleep,
        )

    def __repr__(self) -> str:
        return f"MailchimpClient(base_url={self._http.core.base_url!r})"

    @property
    def usage(self) -> Usage:
        """Requests sent so far; subtract two snapshots to price a run."""
        return self._http.core.usage.snapshot()

    @property
    def server_time(self) -> datetime | None:
        """Mailchimp's own clock, as the ``Date`` header of its latest response gave it.

        UTC, to the second; ``None`` until a response carried the header. Compare
        Mailchimp's timestamps (``timestamp_opt``, ``last_changed``) with this rather
        than with the local clock, which may be minutes off. For a fresh reading,
        make a cheap call first (:meth:`get_audience`).
        """
        return self._http.core.server_clock.latest()

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

    def _member_call(self, call: Call[Any], email: str) -> Any:
        try:
            return self._http.call(call)
        except MemberError as error:
            error.email = email
            raise

    def ping(self) -> Account:
        """Return the account behind the credential (``GET /``)."""
        return self._http.call(self._api.get_root())

    def list_audiences(self) -> PageIterator[Audience]:
        """Iterate over the account's audiences."""
        return self._http.listing(self._api.list_audiences())

    def get_audience(self, list_id: str) -> Audience:
        """Return one audience; read ``double_optin`` before choosing ``pending``."""
        return self._http.call(self._api.get_audience(list_id))

    def list_members(
        self,
        list_id: str,
        *,
        status: MemberStatus | None = None,
        since_last_changed: datetime | None = None,
        since_timestamp_opt: datetime | None = None,
        sort_field: Literal["timestamp_opt", "timestamp_signup", "last_changed"] | None = None,
        sort_dir: Literal["ASC", "DESC"] | None = None,
    ) -> PageIterator[Member]:
        """Iterate over members, up to 1000 a page; filter by status or change time."""
        return self._http.listing(
            self._api.list_members(
                list_id,
                status=status,
                since_last_changed=since_last_changed,
                since_timestamp_opt=since_timestamp_opt,
                sort_field=sort_field,
                sort_dir=sort_dir,
            )
        )

    def get_member(self, list_id: str, email: str) -> Member:
        """Return a member by address (any case) or subscriber hash; NotFoundError if none."""
        return self._http.call(self._api.get_member(list_id, email))

    def upsert_member(
        self, list_id: str, member: MemberUpsert, *, skip_merge_validation: bool = False
    ) -> Member:
        """Add or update a member with PUT; ``status_if_new`` applies only to new ones.

        Raises:
            MemberError: a permanent refusal (compliance state, forgotten, invalid email,
                invalid merge fields), with ``email`` set.
        """
        call = self._api.upsert_member(list_id, member, skip_merge_validation=skip_merge_validation)
        result: Member = self._member_call(call, member.email_address)
        return result

    def update_member(
        self,
        list_id: str,
        email: str,
        *,
        new_email: str | UnsetType = UNSET,
        merge_fields: Mapping[str, Any] | UnsetType = UNSET,
        status: WritableStatus | UnsetType = UNSET,
        skip_merge_validation: bool = False,
    ) -> Member:
        """Change a member with PATCH; ``new_email`` changes its address in place."""
        call = self._api.update_member(
            list_id,
            email,
            new_email=new_email,
            merge_fields=merge_fields,
            status=status,
            skip_merge_validation=skip_merge_validation,
        )
        result: Member = self._member_call(call, email)
        return result

    def archive_member(self, list_id: str, email: str) -> None:
        """Archive a member (``DELETE``); the address can be added again later."""
        self._http.call(self._api.archive_member(list_id, email))

    def batch_subscribe(
        self,
        list_id: str,
        members: Sequence[MemberUpsert],
        *,
        update_existing: bool = True,
        sync_tags: bool = False,
        skip_merge_validation: bool = False,
    ) -> BatchSubscribeResult:
        """Add or update up to 500 members in one call.

        Refused rows do not raise: they are in the result's ``errors``, and
        :func:`typed_batch_errors` turns them into :class:`~pdmc.errors.MemberError`.
        """
        return self._http.call(
            self._api.batch_subscribe(
                list_id,
                members,
                update_existing=update_existing,
                sync_tags=sync_tags,
                skip_merge_validation=skip_merge_validation,
            )
        )

    def list_member_tags(self, list_id: str, email: str) -> PageIterator[MemberTag]:
        """Iterate over a member's tags."""
        return self._http.listing(self._api.list_member_tags(list_id, email))

    def update_member_tags(
        self, list_id: str, email: str, tags: Sequence[TagUpdate], *, is_syncing: bool = True
    ) -> None:
        """Add (``active``) or remove (``inactive``) tags; ``is_syncing`` mutes automations."""
        self._http.call(self._api.update_member_tags(list_id, email, tags, is_syncing=is_syncing))

    def search_tags(self, list_id: str, name: str) -> list[MemberTag]:
        """Return the audience's tags whose name starts with ``name``."""
        return self._http.call(self._api.search_tags(list_id, name))

    def list_segments(
        self,
        list_id: str,
        *,
        type: Literal["saved", "static", "fuzzy"] | None = None,  # noqa: A002
    ) -> PageIterator[Segment]:
        """Iterate over segments and tags (static segments)."""
        return self._http.listing(self._api.list_segments(list_id, type=type))

    def get_segment(self, list_id: str, segment_id: int) -> Segment:
        """Return one segment or tag."""
        return self._http.call(self._api.get_segment(list_id, segment_id))

    def list_segment_members(self, list_id: str, segment_id: int) -> PageIterator[Member]:
        """Iterate over the members of a segment or tag."""
        return self._http.listing(self._api.list_segment_members(list_id, segment_id))

    def create_segment(
        self,
        list_id: str,
        name: str,
        *,
        static_emails: Sequence[str] | None = None,
        conditions: Mapping[str, Any] | None = None,
    ) -> Segment:
        """Create a tag (``static_emails``) or a saved segment (``conditions``)."""
        return self._http.call(
            self._api.create_segment(
                list_id, name, static_emails=static_emails, conditions=conditions
            )
        )

    def update_static_segment(
        self, list_id: str, segment_id: int, *, add: Sequence[str] = (), remove: Sequence[str] = ()
    ) -> StaticSegmentUpdate:
        """Add and remove up to 500 addresses each to or from a tag in one call."""
        return self._http.call(
            self._api.update_static_segment(list_id, segment_id, add=add, remove=remove)
        )

    def list_merge_fields(self, list_id: str) -> PageIterator[MergeField]:
        """Iterate over the audience's merge fields."""
        return self._http.listing(self._api.list_merge_fields(list_id))

    def create_merge_field(
        self,
        list_id: str,
        *,
        name: str,
        type: str,  # noqa: A002 - the API's name
        tag: str | None = None,
        required: bool = False,
        options: Mapping[str, Any] | None = None,
    ) -> MergeField:
        """Create a merge field."""
        return self._http.call(
            self._api.create_merge_field(
                list_id, name=name, type=type, tag=tag, required=required, options=options
            )
        )

    def list_webhooks(self, list_id: str) -> list[AudienceWebhook]:
        """Return the audience's webhooks."""
        return self._http.call(self._api.list_webhooks(list_id))

    def create_webhook(
        self, list_id: str, url: str, *, events: WebhookEvents, sources: WebhookSources
    ) -> AudienceWebhook:
        """Register an audience webhook; keep ``signing_secret`` if Mailchimp returns one."""
        return self._http.call(
            self._api.create_webhook(list_id, url, events=events, sources=sources)
        )

    def delete_webhook(self, list_id: str, webhook_id: str) -> None:
        """Delete an audience webhook."""
        self._http.call(self._api.delete_webhook(list_id, webhook_id))

    def submit_batch(self, operations: Sequence[BatchOperation]) -> Batch:
        """Submit operations to run in the background (``POST /batches``)."""
        return self._http.call(self._api.submit_batch(operations))

    def get_batch(self, batch_id: str) -> Batch:
        """Return a batch's progress."""
        return self._http.call(self._api.get_batch(batch_id))

    def get_batch_results(self, batch: Batch) -> list[BatchOperationResult]:
        """Download and read the results of a finished batch.

        Raises:
            ConfigurationError: the batch has not finished (no results yet).
        """
        if not batch.response_body_url:
            raise ConfigurationError(f"batch {batch.id} has no results yet ({batch.status})")
        return read_batch_results(self._http.download(batch.response_body_url))


class AsyncMailchimpClient:
    """The async twin of :class:`MailchimpClient`: the same calls, awaited.

    At most ``max_concurrency`` requests are in flight across all tasks sharing it.
    """

    def __init__(
        self,
        api_key: Secret | str | None = None,
        *,
        oauth_token: Secret | str | None = None,
        data_center: str | None = None,
        base_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_concurrency: int = DEFAULT_CONCURRENCY,
        page_size: int = 1000,
    ) -> None:
        self._api = MailchimpAPI(page_size=page_size)
        self._http = AsyncHTTP(
            _core(api_key, oauth_token, data_center, base_url, retry, max_concurrency),
            http_client=http_client,
            transport=transport,
            timeout=timeout,
            sleep=sleep,
        )

    def __repr__(self) -> str:
        return f"AsyncMailchimpClient(base_url={self._http.core.base_url!r})"

    @property
    def usage(self) -> Usage:
        """Requests sent so far."""
        return self._http.core.usage.snapshot()

    @property
    def server_time(self) -> datetime | None:
        """Mailchimp's clock at its latest answer (see :attr:`MailchimpClient.server_time`)."""
        return self._http.core.server_clock.latest()

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

    async def _member_call(self, call: Call[Any], email: str) -> Any:
        try:
            return await self._http.call(call)
        except MemberError as error:
            error.email = email
            raise

    async def ping(self) -> Account:
        """Return the account behind the credential."""
        return await self._http.call(self._api.get_root())

    def list_audiences(self) -> AsyncPageIterator[Audience]:
        """Iterate over the account's audiences."""
        return self._http.listing(self._api.list_audiences())

    async def get_audience(self, list_id: str) -> Audience:
        """Return one audience."""
        return await self._http.call(self._api.get_audience(list_id))

    def list_members(
        self,
        list_id: str,
        *,
        status: MemberStatus | None = None,
        since_last_changed: datetime | None = None,
        since_timestamp_opt: datetime | None = None,
        sort_field: Literal["timestamp_opt", "timestamp_signup", "last_changed"] | None = None,
        sort_dir: Literal["ASC", "DESC"] | None = None,
    ) -> AsyncPageIterator[Member]:
        """Iterate over members."""
        return self._http.listing(
            self._api.list_members(
                list_id,
                status=status,
                since_last_changed=since_last_changed,
                since_timestamp_opt=since_timestamp_opt,
                sort_field=sort_field,
                sort_dir=sort_dir,
            )
        )

    async def get_member(self, list_id: str, email: str) -> Member:
        """Return a member by address or subscriber hash."""
        return await self._http.call(self._api.get_member(list_id, email))

    async def upsert_member(
        self, list_id: str, member: MemberUpsert, *, skip_merge_validation: bool = False
    ) -> Member:
        """Add or update a member with PUT."""
        call = self._api.upsert_member(list_id, member, skip_merge_validation=skip_merge_validation)
        result: Member = await self._member_call(call, member.email_address)
        return result

    async def update_member(
        self,
        list_id: str,
        email: str,
        *,
        new_email: str | UnsetType = UNSET,
        merge_fields: Mapping[str, Any] | UnsetType = UNSET,
        status: WritableStatus | UnsetType = UNSET,
        skip_merge_validation: bool = False,
    ) -> Member:
        """Change a member with PATCH."""
        call = self._api.update_member(
            list_id,
            email,
            new_email=new_email,
            merge_fields=merge_fields,
            status=status,
            skip_merge_validation=skip_merge_validation,
        )
        result: Member = await self._member_call(call, email)
        return result

    async def archive_member(self, list_id: str, email: str) -> None:
        """Archive a member."""
        await self._http.call(self._api.archive_member(list_id, email))

    async def batch_subscribe(
        self,
        list_id: str,
        members: Sequence[MemberUpsert],
        *,
        update_existing: bool = True,
        sync_tags: bool = False,
        skip_merge_validation: bool = False,
    ) -> BatchSubscribeResult:
        """Add or update up to 500 members in one call."""
        return await self._http.call(
            self._api.batch_subscribe(
                list_id,
                members,
                update_existing=update_existing,
                sync_tags=sync_tags,
                skip_merge_validation=skip_merge_validation,
            )
        )

    def list_member_tags(self, list_id: str, email: str) -> AsyncPageIterator[MemberTag]:
        """Iterate over a member's tags."""
        return self._http.listing(self._api.list_member_tags(list_id, email))

    async def update_member_tags(
        self, list_id: str, email: str, tags: Sequence[TagUpdate], *, is_syncing: bool = True
    ) -> None:
        """Add or remove tags."""
        await self._http.call(
            self._api.update_member_tags(list_id, email, tags, is_syncing=is_syncing)
        )

    async def search_tags(self, list_id: str, name: str) -> list[MemberTag]:
        """Return the audience's tags whose name starts with ``name``."""
        return await self._http.call(self._api.search_tags(list_id, name))

    def list_segments(
        self,
        list_id: str,
        *,
        type: Literal["saved", "static", "fuzzy"] | None = None,  # noqa: A002
    ) -> AsyncPageIterator[Segment]:
        """Iterate over segments and tags."""
        return self._http.listing(self._api.list_segments(list_id, type=type))

    async def get_segment(self, list_id: str, segment_id: int) -> Segment:
        """Return one segment or tag."""
        return await self._http.call(self._api.get_segment(list_id, segment_id))

    def list_segment_members(self, list_id: str, segment_id: int) -> AsyncPageIterator[Member]:
        """Iterate over the members of a segment or tag."""
        return self._http.listing(self._api.list_segment_members(list_id, segment_id))

    async def create_segment(
        self,
        list_id: str,
        name: str,
        *,
        static_emails: Sequence[str] | None = None,
        conditions: Mapping[str, Any] | None = None,
    ) -> Segment:
        """Create a tag or a saved segment."""
        return await self._http.call(
            self._api.create_segment(
                list_id, name, static_emails=static_emails, conditions=conditions
            )
        )

    async def update_static_segment(
        self, list_id: str, segment_id: int, *, add: Sequence[str] = (), remove: Sequence[str] = ()
    ) -> StaticSegmentUpdate:
        """Add and remove up to 500 addresses each to or from a tag."""
        return await self._http.call(
            self._api.update_static_segment(list_id, segment_id, add=add, remove=remove)
        )

    def list_merge_fields(self, list_id: str) -> AsyncPageIterator[MergeField]:
        """Iterate over the audience's merge fields."""
        return self._http.listing(self._api.list_merge_fields(list_id))

    async def create_merge_field(
        self,
        list_id: str,
        *,
        name: str,
        type: str,  # noqa: A002 - the API's name
        tag: str | None = None,
        required: bool = False,
        options: Mapping[str, Any] | None = None,
    ) -> MergeField:
        """Create a merge field."""
        return await self._http.call(
            self._api.create_merge_field(
                list_id, name=name, type=type, tag=tag, required=required, options=options
            )
        )

    async def list_webhooks(self, list_id: str) -> list[AudienceWebhook]:
        """Return the audience's webhooks."""
        return await self._http.call(self._api.list_webhooks(list_id))

    async def create_webhook(
        self, list_id: str, url: str, *, events: WebhookEvents, sources: WebhookSources
    ) -> AudienceWebhook:
        """Register an audience webhook."""
        return await self._http.call(
            self._api.create_webhook(list_id, url, events=events, sources=sources)
        )

    async def delete_webhook(self, list_id: str, webhook_id: str) -> None:
        """Delete an audience webhook."""
        await self._http.call(self._api.delete_webhook(list_id, webhook_id))

    async def submit_batch(self, operations: Sequence[BatchOperation]) -> Batch:
        """Submit operations to run in the background."""
        return await self._http.call(self._api.submit_batch(operations))

    async def get_batch(self, batch_id: str) -> Batch:
        """Return a batch's progress."""
        return await self._http.call(self._api.get_batch(batch_id))

    async def get_batch_results(self, batch: Batch) -> list[BatchOperationResult]:
        """Download and read the results of a finished batch."""
        if not batch.response_body_url:
            raise ConfigurationError(f"batch {batch.id} has no results yet ({batch.status})")
        return read_batch_results(await self._http.download(batch.response_body_url))
