"""Every PipedriveClient call, replayed from cassettes built from the contracts' examples."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from pdmc import Secret
from pdmc.clients import AsyncPipedriveClient, PipedriveClient
from pdmc.clients.pipedrive import (
    ContactPoint,
    FilterCondition,
    FilterConditionGroup,
    FilterConditions,
    PersonInput,
)
from tests.cassettes.build_cassettes import CURSOR, CUSTOM_FIELD, PIPEDRIVE_TOKEN, WEBHOOK_PASSWORD
from tests.clients.conftest import NO_RETRY, ContractTraffic, Replay
from tests.contracts import token_cost_for

EXAMPLE_COM_PEOPLE = FilterConditions(
    glue="and",
    conditions=(
        FilterConditionGroup(
            glue="and",
            conditions=(
                FilterCondition(
                    object="person", field_id="9032", operator="LIKE '%$%'", value="@example.com"
                ),
            ),
        ),
        FilterConditionGroup(glue="or"),
    ),
)


def test_list_persons_walks_every_cursor_page(
    pipedrive: PipedriveClient, replay: Replay, contract_traffic: ContractTraffic
) -> None:
    """list_persons asks for 500 a page and follows next_cursor until it is null."""
    with replay("pipedrive_list_persons"):
        pages = list(pipedrive.list_persons().pages())
    assert [(page.number, page.has_next) for page in pages] == [(1, True), (2, False)]
    first, second = (person for page in pages for person in page.items)
    assert (first.id, first.primary_email, first.org_id) == (1, "email1@email.com", 1)
    assert first.postal_address is not None
    assert first.postal_address.locality == "Sunnyvale"
    assert (second.id, second.primary_email, second.org_id) == (
        2,
        "second.person@example.com",
        None,
    )
    cursors = [r.url.params.get("cursor") for r in contract_traffic.sent]
    assert cursors == [None, CURSOR]


def test_get_person(pipedrive: PipedriveClient, replay: Replay) -> None:
    """get_person returns the v2 person with its contact points and address."""
    with replay("pipedrive_get_person"):
        person = pipedrive.get_person(1)
    assert person.name == "Person Name"
    assert [e.value for e in person.emails] == ["email1@email.com", "email2@email.com"]
    assert person.primary_phone == "12345"
    assert person.birthday == "2000-12-31"


def test_create_person_sends_only_the_given_fields(
    pipedrive: PipedriveClient, replay: Replay, contract_traffic: ContractTraffic
) -> None:
    """create_person POSTs the set fields of a PersonInput and returns the stored person."""
    person = PersonInput(
        name="Person Name",
        emails=(ContactPoint(value="email1@email.com", primary=True, label="work"),),
        custom_fields={CUSTOM_FIELD: 1},
    )
    with replay("pipedrive_create_person"):
        created = pipedrive.create_person(person)
    assert created.id == 1
    assert created.custom_fields == {CUSTOM_FIELD: 1}
    assert set(json.loads(contract_traffic.sent[0].content)) == {"name", "emails", "custom_fields"}


def test_update_person_patches_and_clears_with_null(
    pipedrive: PipedriveClient, replay: Replay, contract_traffic: ContractTraffic
) -> None:
    """update_person PATCHes only the changes; a None custom field is sent as null."""
    changes = PersonInput(
        emails=(ContactPoint(value="person.name@example.com", primary=True, label="work"),),
        custom_fields={CUSTOM_FIELD: None},
    )
    with replay("pipedrive_update_person"):
        updated = pipedrive.update_person(1, changes)
    assert updated.primary_email == "person.name@example.com"
    assert contract_traffic.sent[0].method == "PATCH"
    assert json.loads(contract_traffic.sent[0].content)["custom_fields"] == {CUSTOM_FIELD: None}


def test_search_persons_by_email(pipedrive: PipedriveClient, replay: Replay) -> None:
    """search_persons_by_email asks for an exact match on the email field, trimmed."""
    with replay("pipedrive_search_persons_by_email"):
        hits = pipedrive.search_persons_by_email("  jane@pipedrive.com ")
    assert [(hit.id, hit.emails) for hit in hits] == [(1, ("jane@pipedrive.com",))]


def test_list_person_fields_marks_required_fields(
    pipedrive: PipedriveClient, replay: Replay
) -> None:
    """list_person_fields reads required_fields, options and custom-field hashes."""
    with replay("pipedrive_list_person_fields"):
        fields = {field.field_code: field for field in pipedrive.list_person_fields()}
    assert fields["name"].required
    assert not fields["phone"].required
    custom = fields[CUSTOM_FIELD]
    assert custom.is_custom_field
    assert custom.options is not None
    assert [option.label for option in custom.options] == ["Inbound", "Outbound"]


def test_list_filters(pipedrive: PipedriveClient, replay: Replay) -> None:
    """list_filters returns the saved filters of a type, without conditions."""
    with replay("pipedrive_list_filters"):
        filters = pipedrive.list_filters()
    assert [(f.id, f.type, f.conditions) for f in filters] == [(1, "people", None)]


def test_get_filter_reads_its_conditions(pipedrive: PipedriveClient, replay: Replay) -> None:
    """get_filter asks for field codes and returns the condition tree."""
    with replay("pipedrive_get_filter"):
        found = pipedrive.get_filter(1)
    assert found.conditions is not None
    (condition,) = found.conditions.conditions[0].conditions
    assert (condition.object, condition.operator, condition.field_code) == (
        "person",
        "IS NOT NULL",
        "status",
    )


def test_create_filter(pipedrive: PipedriveClient, replay: Replay) -> None:
    """create_filter POSTs the name, type and condition tree (without empty field codes)."""
    with replay("pipedrive_create_filter"):
        created = pipedrive.create_filter("Example.com people", EXAMPLE_COM_PEOPLE)
    assert (created.name, created.type) == ("Example.com people", "people")
    assert created.conditions == EXAMPLE_COM_PEOPLE


def test_update_filter_sends_the_conditions_it_requires(
    pipedrive: PipedriveClient, replay: Replay
) -> None:
    """update_filter PUTs the conditions (the contract requires them) and the new name."""
    with replay("pipedrive_update_filter"):
        updated = pipedrive.update_filter(
            1, EXAMPLE_COM_PEOPLE, name="Example.com people (renamed)"
        )
    assert updated.name == "Example.com people (renamed)"


def test_delete_filter(pipedrive: PipedriveClient, replay: Replay) -> None:
    """delete_filter sends DELETE and returns nothing."""
    with replay("pipedrive_delete_filter"):
        assert pipedrive.delete_filter(1) is None


def test_list_pipelines_and_stages(pipedrive: PipedriveClient, replay: Replay) -> None:
    """list_pipelines and list_stages walk their cursor listings."""
    with replay("pipedrive_list_pipelines"):
        pipelines = list(pipedrive.list_pipelines())
    with replay("pipedrive_list_stages"):
        stages = list(pipedrive.list_stages(pipeline_id=1))
    assert [(p.id, p.name) for p in pipelines] == [(1, "Pipeline Name")]
    assert [(s.id, s.pipeline_id, s.name) for s in stages] == [(1, 1, "Stage Name")]


def test_get_deal(pipedrive: PipedriveClient, replay: Replay) -> None:
    """get_deal returns the deal with its person, pipeline and stage ids."""
    with replay("pipedrive_get_deal"):
        deal = pipedrive.get_deal(1)
    assert (deal.person_id, deal.pipeline_id, deal.stage_id, deal.status) == (1, 1, 1, "open")


def test_list_deals_in_a_stage(pipedrive: PipedriveClient, replay: Replay) -> None:
    """list_deals filters by stage and status."""
    with replay("pipedrive_list_deals"):
        deals = list(pipedrive.list_deals(stage_id=1, status="open"))
    assert [deal.id for deal in deals] == [1]


def test_list_deal_participants_walks_start_limit_pages(replay: Replay) -> None:
    """Deal participants (v1) page with start/limit and follow next_start."""
    with (
        PipedriveClient(PIPEDRIVE_TOKEN, retry=NO_RETRY, page_size=1) as client,
        replay("pipedrive_list_deal_participants"),
    ):
        participants = list(client.list_deal_participants(1))
    assert [(p.id, p.person_id) for p in participants] == [(1092, 1598), (1093, 1599)]


def test_list_webhooks(pipedrive: PipedriveClient, replay: Replay) -> None:
    """list_webhooks returns the company's webhooks."""
    with replay("pipedrive_list_webhooks"):
        webhooks = pipedrive.list_webhooks()
    assert [(w.id, w.subscription_url, w.is_active) for w in webhooks] == [
        (1, "http://example.org", True)
    ]


def test_create_webhook_sends_basic_auth_but_never_keeps_it(
    pipedrive: PipedriveClient, replay: Replay, contract_traffic: ContractTraffic
) -> None:
    """create_webhook sends the endpoint's password; the returned model does not hold it."""
    with replay("pipedrive_create_webhook"):
        webhook = pipedrive.create_webhook(
            subscription_url="https://sync.example.com/hooks/pipedrive",
            event_action="*",
            event_object="person",
            name="pdmc person sync",
            http_auth_user="pdmc",
            http_auth_password=Secret(WEBHOOK_PASSWORD),
        )
    assert (webhook.event_object, webhook.version, webhook.http_auth_user) == (
        "person",
        "2.0",
        "pdmc",
    )
    assert json.loads(contract_traffic.sent[0].content)["http_auth_password"] == WEBHOOK_PASSWORD
    # The answer echoed the password (FILTERED in the cassette); the model drops it.
    assert "FILTERED" not in repr(webhook)


def test_delete_webhook(pipedrive: PipedriveClient, replay: Replay) -> None:
    """delete_webhook sends DELETE and returns nothing."""
    with replay("pipedrive_delete_webhook"):
        assert pipedrive.delete_webhook(1) is None


def test_get_current_user(pipedrive: PipedriveClient, replay: Replay) -> None:
    """get_current_user reads the company and global-admin access."""
    with replay("pipedrive_get_current_user"):
        user = pipedrive.get_current_user()
    assert (user.company_id, user.company_domain, user.is_admin) == (
        54235233,
        "pipedrive-12g53f",
        True,
    )


def test_list_recents(pipedrive: PipedriveClient, replay: Replay) -> None:
    """list_recents sends since_timestamp in UTC as v1 wants it and yields each item."""
    since = datetime(2024, 1, 1, 2, 0, tzinfo=timezone(timedelta(hours=2)))  # 00:00 UTC
    with replay("pipedrive_list_recents"):
        recents = list(pipedrive.list_recents(since))
    assert [(item.item, item.id) for item in recents] == [("activity", 8), ("deal", 1)]


def test_usage_counts_tokens_per_operation_as_calls_are_made(
    pipedrive: PipedriveClient, replay: Replay, contract_traffic: ContractTraffic
) -> None:
    """client.usage adds each request's contract x-token-cost under its operationId."""
    costs = []
    with replay("pipedrive_list_persons"):
        list(pipedrive.list_persons())
    costs.append(pipedrive.usage.tokens)
    with replay("pipedrive_get_person"):
        pipedrive.get_person(1)
    costs.append(pipedrive.usage.tokens)
    with replay("pipedrive_search_persons_by_email"):
        pipedrive.search_persons_by_email("jane@pipedrive.com")
    costs.append(pipedrive.usage.tokens)
    contract = [token_cost_for(request) for request in contract_traffic.sent]
    assert contract == [10, 10, 1, 20]
    assert costs == [20, 21, 41]
    usage = pipedrive.usage
    assert {name: (op.requests, op.tokens) for name, op in usage.by_operation.items()} == {
        "getPersons": (2, 20),
        "getPerson": (1, 1),
        "searchPersons": (1, 20),
    }
    assert (usage.requests, usage.retries, usage.rate_limited) == (4, 0, 0)


async def test_async_list_persons_walks_every_page(
    async_pipedrive: AsyncPipedriveClient, replay: Replay
) -> None:
    """The async client walks the same cursor pages with async for."""
    with replay("pipedrive_list_persons"):
        ids = [person.id async for person in async_pipedrive.list_persons()]
    assert ids == [1, 2]
    assert async_pipedrive.usage.tokens == 20


async def test_async_writes(async_pipedrive: AsyncPipedriveClient, replay: Replay) -> None:
    """The async client creates and updates persons and filters like the sync one."""
    with replay("pipedrive_create_person"):
        created = await async_pipedrive.create_person(
            PersonInput(
                name="Person Name",
                emails=(ContactPoint(value="email1@email.com", primary=True, label="work"),),
                custom_fields={CUSTOM_FIELD: 1},
            )
        )
    with replay("pipedrive_update_filter"):
        renamed = await async_pipedrive.update_filter(
            1, EXAMPLE_COM_PEOPLE, name="Example.com people (renamed)"
        )
    assert (created.id, renamed.name) == (1, "Example.com people (renamed)")


async def test_async_reads(async_pipedrive: AsyncPipedriveClient, replay: Replay) -> None:
    """Async single reads return the same models as the sync client."""
    with replay("pipedrive_get_deal"):
        deal = await async_pipedrive.get_deal(1)
    with replay("pipedrive_get_current_user"):
        user = await async_pipedrive.get_current_user()
    with replay("pipedrive_list_webhooks"):
        webhooks = await async_pipedrive.list_webhooks()
    assert (deal.id, user.id, [w.id for w in webhooks]) == (1, 1, [1])
