"""Every MailchimpClient call, replayed from cassettes built from the contract and API-FACTS."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pdmc import Secret
from pdmc.clients import AsyncMailchimpClient, MailchimpClient
from pdmc.clients.mailchimp import (
    BatchOperation,
    MemberUpsert,
    TagUpdate,
    WebhookEvents,
    WebhookSources,
    subscriber_hash,
    typed_batch_errors,
)
from pdmc.errors import (
    ComplianceStateError,
    ForgottenEmailError,
    InvalidEmailError,
    InvalidMergeFieldsError,
    MemberExistsError,
)
from tests.cassettes.build_cassettes import (
    ADA,
    ADA_NEW,
    BATCH_ID,
    FILTERED,
    LIST_ID,
    MAILCHIMP_KEY,
    SEGMENT_ID,
    WEBHOOK_ID,
)
from tests.clients.conftest import NO_RETRY, ContractTraffic, Replay

UPSERT_ADA = MemberUpsert(
    email_address=ADA,
    status_if_new="subscribed",
    merge_fields={"FNAME": "Ada", "LNAME": "Lovelace"},
)
BATCH_ROWS = [
    MemberUpsert(email_address=ADA, status_if_new="subscribed", merge_fields={"FNAME": "Ada"}),
    MemberUpsert(email_address="grace@example.com", status_if_new="subscribed"),
    MemberUpsert(email_address="linus@example.com", status_if_new="subscribed"),
    MemberUpsert(email_address="margaret@example.com", status_if_new="subscribed"),
    MemberUpsert(email_address="test@test.com", status_if_new="subscribed"),
    MemberUpsert(
        email_address="edsger@example.com",
        status_if_new="subscribed",
        merge_fields={"BIRTHDAY": "31/12"},
    ),
]
BATCH_OPERATIONS = [
    BatchOperation(
        method="PUT",
        path=f"/lists/{LIST_ID}/members/{subscriber_hash(address)}",
        body={"email_address": address, "status_if_new": "subscribed"},
        operation_id=name,
    )
    for name, address in (("ada", ADA), ("fake", "test@test.com"))
]
WEBHOOK_EVENTS = WebhookEvents(
    subscribe=True, unsubscribe=True, profile=True, cleaned=True, upemail=True
)
WEBHOOK_SOURCES = WebhookSources(user=True, admin=True, api=False)


def test_ping(mailchimp: MailchimpClient, replay: Replay) -> None:
    """ping reads the account behind the key, on the key's data centre."""
    with replay("mailchimp_ping"):
        account = mailchimp.ping()
    assert (account.account_id, account.role) == ("8d3a3db4d97663a9074efcc16", "owner")
    assert repr(mailchimp) == "MailchimpClient(base_url='https://us6.api.mailchimp.com')"


def test_audiences(mailchimp: MailchimpClient, replay: Replay) -> None:
    """list_audiences pages with count/offset; get_audience reads double_optin and stats."""
    with replay("mailchimp_audiences"):
        audiences = list(mailchimp.list_audiences())
        audience = mailchimp.get_audience(LIST_ID)
    assert [a.id for a in audiences] == [LIST_ID]
    assert not audience.double_optin
    assert audience.stats is not None
    assert audience.stats.total_contacts == 4


def test_list_members_walks_count_offset_pages(
    replay: Replay, contract_traffic: ContractTraffic
) -> None:
    """list_members pages by count and offset until total_items, with incremental filters."""
    with (
        MailchimpClient(MAILCHIMP_KEY, retry=NO_RETRY, page_size=2) as client,
        replay("mailchimp_list_members"),
    ):
        pages = list(
            client.list_members(
                LIST_ID, status="subscribed", since_last_changed=datetime(2024, 1, 1, tzinfo=UTC)
            ).pages()
        )
    assert [(len(page.items), page.total, page.has_next) for page in pages] == [
        (2, 3, True),
        (1, 3, False),
    ]
    assert [m.email_address for page in pages for m in page.items] == [
        ADA,
        "grace@example.com",
        "alan@example.com",
    ]
    assert [r.url.params["offset"] for r in contract_traffic.sent] == ["0", "2"]


def test_get_member_by_address_in_any_case(mailchimp: MailchimpClient, replay: Replay) -> None:
    """get_member addresses the member by the MD5 of the lowercased email."""
    with replay("mailchimp_get_member"):
        member = mailchimp.get_member(LIST_ID, "  Ada@Example.COM ")
    assert member.id == subscriber_hash(ADA)
    assert (member.status, member.merge_fields["FNAME"], member.tag_names) == (
        "subscribed",
        "Ada",
        frozenset({"customer"}),
    )
    assert member.last_changed == datetime(2024, 3, 1, 10, tzinfo=UTC)


def test_upsert_member_puts_status_if_new(
    mailchimp: MailchimpClient, replay: Replay, contract_traffic: ContractTraffic
) -> None:
    """upsert_member PUTs status_if_new and never an unconditional status."""
    with replay("mailchimp_upsert_member"):
        member = mailchimp.upsert_member(LIST_ID, UPSERT_ADA)
    assert member.email_address == ADA
    body = json.loads(contract_traffic.sent[0].content)
    assert body["status_if_new"] == "subscribed"
    assert "status" not in body


def test_update_member_changes_the_address_in_place(
    mailchimp: MailchimpClient, replay: Replay
) -> None:
    """update_member PATCHes the old member with the new address; its id follows the address."""
    with replay("mailchimp_change_member_email"):
        member = mailchimp.update_member(LIST_ID, ADA, new_email=ADA_NEW)
    assert (member.email_address, member.id) == (ADA_NEW, subscriber_hash(ADA_NEW))


def test_archive_member(mailchimp: MailchimpClient, replay: Replay) -> None:
    """archive_member sends DELETE and accepts the empty 204."""
    with replay("mailchimp_archive_member"):
        assert mailchimp.archive_member(LIST_ID, ADA) is None


def test_batch_subscribe_reports_refused_rows_in_a_200(
    mailchimp: MailchimpClient, replay: Replay
) -> None:
    """batch_subscribe returns refused rows in a 200; typed_batch_errors classifies each."""
    with replay("mailchimp_batch_subscribe"):
        result = mailchimp.batch_subscribe(LIST_ID, BATCH_ROWS, update_existing=False)
    assert [m.email_address for m in result.new_members] == [ADA]
    assert (result.total_created, result.error_count) == (1, 5)
    typed = {error.email: error for error in typed_batch_errors(result)}
    assert {email: type(error) for email, error in typed.items()} == {
        "grace@example.com": MemberExistsError,
        "linus@example.com": ComplianceStateError,
        "margaret@example.com": ForgottenEmailError,
        "test@test.com": InvalidEmailError,
        "edsger@example.com": InvalidMergeFieldsError,
    }
    merge = typed["edsger@example.com"]
    assert isinstance(merge, InvalidMergeFieldsError)
    assert merge.field_errors == (("BIRTHDAY", "Please enter the date in the MM/DD format."),)


def test_member_tags_read_add_and_remove(
    mailchimp: MailchimpClient, replay: Replay, contract_traffic: ContractTraffic
) -> None:
    """Member tags are listed, and set active or inactive in one call with is_syncing."""
    with replay("mailchimp_member_tags"):
        tags = [tag.name for tag in mailchimp.list_member_tags(LIST_ID, ADA)]
        mailchimp.update_member_tags(
            LIST_ID, ADA, [TagUpdate(name="pdmc"), TagUpdate(name="newsletter", status="inactive")]
        )
    assert tags == ["customer", "newsletter"]
    assert json.loads(contract_traffic.sent[1].content)["is_syncing"] is True


def test_search_tags(mailchimp: MailchimpClient, replay: Replay) -> None:
    """search_tags finds the audience's tags by name prefix."""
    with replay("mailchimp_search_tags"):
        tags = mailchimp.search_tags(LIST_ID, "cust")
    assert [(tag.id, tag.name) for tag in tags] == [(101, "customer")]


def test_segments_list_get_and_members(mailchimp: MailchimpClient, replay: Replay) -> None:
    """Segments (tags are static segments) are listed, read and walked for members."""
    with replay("mailchimp_segments"):
        segments = list(mailchimp.list_segments(LIST_ID, type="static"))
        segment = mailchimp.get_segment(LIST_ID, SEGMENT_ID)
        members = list(mailchimp.list_segment_members(LIST_ID, SEGMENT_ID))
    assert [s.id for s in segments] == [SEGMENT_ID]
    assert (segment.type, segment.member_count) == ("static", 1)
    assert [m.email_address for m in members] == [ADA]


def test_create_and_update_static_segment(mailchimp: MailchimpClient, replay: Replay) -> None:
    """A tag is created with its first addresses, then members are added and removed."""
    with replay("mailchimp_create_segment"):
        segment = mailchimp.create_segment(LIST_ID, "pdmc: customers", static_emails=[ADA])
    with replay("mailchimp_update_static_segment"):
        update = mailchimp.update_static_segment(
            LIST_ID, segment.id, add=["grace@example.com"], remove=[ADA]
        )
    assert segment.id == SEGMENT_ID
    assert (update.total_added, update.total_removed, update.error_count) == (1, 1, 0)


def test_merge_fields_list_and_create(mailchimp: MailchimpClient, replay: Replay) -> None:
    """Merge fields are listed and created with their tag and type."""
    with replay("mailchimp_merge_fields"):
        fields = [(f.tag, f.type, f.required) for f in mailchimp.list_merge_fields(LIST_ID)]
        company = mailchimp.create_merge_field(LIST_ID, name="Company", type="text", tag="COMPANY")
    assert fields == [("FNAME", "text", False), ("LNAME", "text", False)]
    assert (company.merge_id, company.tag, company.options.size) == (3, "COMPANY", 25)


def test_webhooks_keep_the_signing_secret_as_a_secret(
    mailchimp: MailchimpClient, replay: Replay
) -> None:
    """Webhooks are listed, created (signing secret kept as a Secret) and deleted."""
    with replay("mailchimp_webhooks"):
        existing = mailchimp.list_webhooks(LIST_ID)
        created = mailchimp.create_webhook(
            LIST_ID,
            "https://sync.example.com/hooks/mailchimp",
            events=WEBHOOK_EVENTS,
            sources=WEBHOOK_SOURCES,
        )
        mailchimp.delete_webhook(LIST_ID, created.id)
    assert [(w.id, w.signing_secret) for w in existing] == [(WEBHOOK_ID, None)]
    assert created.signing_enabled
    assert isinstance(created.signing_secret, Secret)
    # The cassette holds the recording filter's mark, never the secret itself.
    assert created.signing_secret.reveal() == FILTERED
    assert "FILTERED" not in repr(created)
    assert (created.events, created.sources) == (WEBHOOK_EVENTS, WEBHOOK_SOURCES)


def test_batches_submit_poll_and_read_results(mailchimp: MailchimpClient, replay: Replay) -> None:
    """A /batches request is submitted, polled until finished, and its tar.gz results read."""
    with replay("mailchimp_batches"):
        batch = mailchimp.submit_batch(BATCH_OPERATIONS)
        statuses = [batch.status]
        while not batch.is_finished:
            batch = mailchimp.get_batch(batch.id)
            statuses.append(batch.status)
        results = mailchimp.get_batch_results(batch)
    assert (batch.id, statuses) == (BATCH_ID, ["pending", "started", "finished"])
    assert (batch.total_operations, batch.errored_operations) == (2, 1)
    assert [(r.operation_id, r.status_code) for r in results] == [("ada", 200), ("fake", 400)]
    assert results[0].response["email_address"] == ADA
    assert results[1].response["title"] == "Invalid Resource"


async def test_async_list_members_and_upsert(replay: Replay) -> None:
    """The async client walks count/offset pages and upserts like the sync one."""
    async with AsyncMailchimpClient(MAILCHIMP_KEY, retry=NO_RETRY, page_size=2) as client:
        with replay("mailchimp_list_members"):
            emails = [
                m.email_address
                async for m in client.list_members(
                    LIST_ID,
                    status="subscribed",
                    since_last_changed=datetime(2024, 1, 1, tzinfo=UTC),
                )
            ]
        with replay("mailchimp_upsert_member"):
            member = await client.upsert_member(LIST_ID, UPSERT_ADA)
    assert emails == [ADA, "grace@example.com", "alan@example.com"]
    assert member.id == subscriber_hash(ADA)
    assert client.usage.requests == 3


async def test_async_batch_subscribe_and_batches(
    async_mailchimp: AsyncMailchimpClient, replay: Replay
) -> None:
    """The async client batch-subscribes and reads a finished batch's results."""
    with replay("mailchimp_batch_subscribe"):
        result = await async_mailchimp.batch_subscribe(LIST_ID, BATCH_ROWS, update_existing=False)
    with replay("mailchimp_batches"):
        batch = await async_mailchimp.submit_batch(BATCH_OPERATIONS)
        while not batch.is_finished:
            batch = await async_mailchimp.get_batch(batch.id)
        results = await async_mailchimp.get_batch_results(batch)
    assert result.error_count == 5
    assert [r.status_code for r in results] == [200, 400]
