"""The public API of pdmc's clients, as a type checker sees it.

Nothing here runs: ``mypy --strict tests/typing/`` checks that every call returns the
type its documentation promises (``assert_type``) and that misuse is refused (each
``type: ignore`` below must be needed, or strict mode reports it as unused).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, assert_type

import httpx

from pdmc import UNSET, Secret
from pdmc.clients import (
    AsyncMailchimpClient,
    AsyncPageIterator,
    AsyncPipedriveClient,
    MailchimpClient,
    OperationUsage,
    Page,
    PageIterator,
    PipedriveClient,
    RetryPolicy,
    Usage,
)
from pdmc.clients.mailchimp import (
    Account,
    Audience,
    AudienceWebhook,
    Batch,
    BatchOperation,
    BatchOperationResult,
    BatchSubscribeResult,
    MailchimpOAuthApp,
    MailchimpTokenMetadata,
    Member,
    MemberTag,
    MemberUpsert,
    MergeField,
    Segment,
    StaticSegmentUpdate,
    TagUpdate,
    WebhookEvents,
    WebhookSources,
    data_center_of,
    subscriber_hash,
    typed_batch_errors,
)
from pdmc.clients.pipedrive import (
    ContactPoint,
    CurrentUser,
    Deal,
    DealParticipant,
    Filter,
    FilterConditions,
    Person,
    PersonField,
    PersonInput,
    PersonSearchHit,
    PipedriveOAuthApp,
    PipedriveOAuthAuth,
    PipedriveTokens,
    Pipeline,
    RecentItem,
    Stage,
    Webhook,
)
from pdmc.errors import (
    APIError,
    InvalidMergeFieldsError,
    MemberError,
    PdmcError,
    RateLimitError,
)

SINCE = datetime(2024, 1, 1, tzinfo=UTC)


def pipedrive(transport: httpx.BaseTransport) -> None:
    """Every sync Pipedrive call, with the type it returns."""
    client = PipedriveClient(Secret("token"), transport=transport, retry=RetryPolicy.no_wait())
    assert_type(
        client.list_persons(updated_since=SINCE, sort_by="update_time"), PageIterator[Person]
    )
    for page in client.list_persons(filter_id=1).pages():
        assert_type(page, Page[Person])
        assert_type(page.items, tuple[Person, ...])
        assert_type(page.total, int | None)
    person = client.get_person(1)
    assert_type(person, Person)
    assert_type(person.primary_email, str | None)
    assert_type(person.custom_fields, Mapping[str, Any])  # wire values
    changes = PersonInput(emails=(ContactPoint(value="a@example.com", primary=True),), notes=None)
    assert_type(client.create_person(changes), Person)
    assert_type(client.update_person(1, PersonInput(job_title=UNSET)), Person)
    assert_type(client.search_persons_by_email("a@example.com"), list[PersonSearchHit])
    assert_type(client.list_person_fields(), PageIterator[PersonField])
    assert_type(client.list_filters(), list[Filter])
    saved = client.get_filter(1)
    assert_type(saved.conditions, FilterConditions | None)
    assert_type(client.create_filter("f", FilterConditions()), Filter)
    assert_type(client.update_filter(1, FilterConditions(), name="g"), Filter)
    assert_type(client.delete_filter(1), None)
    assert_type(client.list_pipelines(), PageIterator[Pipeline])
    assert_type(client.list_stages(pipeline_id=1), PageIterator[Stage])
    assert_type(client.get_deal(1), Deal)
    assert_type(client.list_deals(stage_id=1, status="open"), PageIterator[Deal])
    assert_type(client.list_deal_participants(1), PageIterator[DealParticipant])
    assert_type(client.list_webhooks(), list[Webhook])
    hook = client.create_webhook(
        subscription_url="https://example.com/hook",
        event_action="*",
        event_object="person",
        name="sync",
        http_auth_password=Secret("password"),
    )
    assert_type(hook, Webhook)
    assert_type(client.delete_webhook(hook.id), None)
    assert_type(client.get_current_user(), CurrentUser)
    assert_type(client.list_recents(SINCE, items="person"), PageIterator[RecentItem])
    usage = client.usage - client.usage
    assert_type(usage, Usage)
    assert_type(usage.by_operation, Mapping[str, OperationUsage])
    assert_type(usage.tokens, int)
    client.list_deals(status="archived")  # type: ignore[arg-type]
    client.create_webhook(  # type: ignore[call-arg]
        subscription_url="https://example.com/hook", event_action="*", event_object="person"
    )
    PersonInput(marketing_status="maybe")  # type: ignore[arg-type]
    client.close()


async def pipedrive_async(transport: httpx.AsyncBaseTransport) -> None:
    """The async Pipedrive client: awaited calls and async iterators."""
    async with AsyncPipedriveClient("token", transport=transport) as client:
        assert_type(client, AsyncPipedriveClient)
        assert_type(client.list_persons(), AsyncPageIterator[Person])
        async for person in client.list_persons():
            assert_type(person, Person)
        async for page in client.list_deals().pages():
            assert_type(page, Page[Deal])
        assert_type(await client.get_person(1), Person)
        assert_type(await client.list_filters(), list[Filter])


def pipedrive_oauth(http: httpx.Client) -> None:
    """OAuth: the app, its tokens, and the refreshing auth handed to a client."""
    app = PipedriveOAuthApp(
        client_id="id", client_secret=Secret("secret"), redirect_uri="https://example.com/cb"
    )
    assert_type(app.authorization_url("state"), str)
    tokens = app.exchange_code("code", http_client=http)
    assert_type(tokens, PipedriveTokens)
    assert_type(tokens.access_token, Secret)
    stored: list[PipedriveTokens] = []
    auth = PipedriveOAuthAuth(app, tokens, on_refresh=stored.append)
    assert_type(auth.tokens, PipedriveTokens)
    PipedriveClient(oauth=auth).close()
    PipedriveOAuthAuth(app, tokens, on_refresh=stored.extend)  # type: ignore[arg-type]


def mailchimp(transport: httpx.BaseTransport) -> None:
    """Every sync Mailchimp call, with the type it returns."""
    client = MailchimpClient("key-us6", transport=transport, max_concurrency=10)
    list_id = "8e1b7a6c2d"
    assert_type(client.ping(), Account)
    assert_type(client.list_audiences(), PageIterator[Audience])
    assert_type(client.get_audience(list_id), Audience)
    members = client.list_members(list_id, status="subscribed", since_last_changed=SINCE)
    assert_type(members, PageIterator[Member])
    member = client.get_member(list_id, "a@example.com")
    assert_type(member.tag_names, frozenset[str])
    upsert = MemberUpsert(email_address="a@example.com", status_if_new="subscribed")
    assert_type(client.upsert_member(list_id, upsert), Member)
    assert_type(client.update_member(list_id, "a@example.com", new_email="b@example.com"), Member)
    assert_type(client.archive_member(list_id, "a@example.com"), None)
    result = client.batch_subscribe(list_id, [upsert], update_existing=False)
    assert_type(result, BatchSubscribeResult)
    refused = typed_batch_errors(result)
    assert_type(refused, list[MemberError])
    assert_type(client.list_member_tags(list_id, "a@example.com"), PageIterator[MemberTag])
    assert_type(client.update_member_tags(list_id, "a@example.com", [TagUpdate(name="t")]), None)
    assert_type(client.search_tags(list_id, "cu"), list[MemberTag])
    assert_type(client.list_segments(list_id, type="static"), PageIterator[Segment])
    assert_type(client.get_segment(list_id, 1), Segment)
    assert_type(client.list_segment_members(list_id, 1), PageIterator[Member])
    assert_type(client.create_segment(list_id, "tag", static_emails=["a@example.com"]), Segment)
    assert_type(
        client.update_static_segment(list_id, 1, add=["a@example.com"]), StaticSegmentUpdate
    )
    assert_type(client.list_merge_fields(list_id), PageIterator[MergeField])
    assert_type(client.create_merge_field(list_id, name="Company", type="text"), MergeField)
    assert_type(client.list_webhooks(list_id), list[AudienceWebhook])
    hook = client.create_webhook(
        list_id, "https://example.com/hook", events=WebhookEvents(), sources=WebhookSources()
    )
    assert_type(hook.signing_secret, Secret | None)
    assert_type(client.delete_webhook(list_id, hook.id), None)
    batch = client.submit_batch([BatchOperation(method="GET", path="/lists")])
    assert_type(client.get_batch(batch.id), Batch)
    assert_type(client.get_batch_results(batch), list[BatchOperationResult])
    assert_type(subscriber_hash("A@example.com"), str)
    assert_type(data_center_of(Secret("key-us6")), str)
    MemberUpsert(email_address="a@example.com", status_if_new="archived")  # type: ignore[arg-type]
    client.list_members(list_id, sort_dir="up")  # type: ignore[arg-type]
    client.close()


async def mailchimp_async(transport: httpx.AsyncBaseTransport) -> None:
    """The async Mailchimp client."""
    async with AsyncMailchimpClient("key-us6", transport=transport) as client:
        assert_type(client.list_members("l"), AsyncPageIterator[Member])
        async for member in client.list_members("l"):
            assert_type(member, Member)
        assert_type(await client.batch_subscribe("l", []), BatchSubscribeResult)
        assert_type(
            await client.get_batch_results(await client.get_batch("b")), list[BatchOperationResult]
        )


def mailchimp_oauth(http: httpx.Client) -> None:
    """Mailchimp OAuth: a token and its data centre."""
    app = MailchimpOAuthApp(client_id="id", client_secret=Secret("s"), redirect_uri="https://e.com")
    token = app.exchange_code("code", http_client=http)
    assert_type(token, Secret)
    metadata = app.metadata(token, http_client=http)
    assert_type(metadata, MailchimpTokenMetadata)
    MailchimpClient(oauth_token=token, data_center=metadata.dc).close()


def errors(error: PdmcError) -> None:
    """Errors carry typed details."""
    if isinstance(error, APIError):
        assert_type(error.status_code, int)
        assert_type(error.request_id, str | None)
        assert_type(error.retry_after, float | None)
    if isinstance(error, RateLimitError):
        assert_type(error.retry_after, float | None)
    if isinstance(error, InvalidMergeFieldsError):
        assert_type(error.field_errors, Sequence[tuple[str, str]])
        assert_type(error.email, str | None)
