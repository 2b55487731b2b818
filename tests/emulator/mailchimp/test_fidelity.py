"""Fidelity: every emulated Mailchimp operation, driven through realistic scenarios, with
every request and every response validated against the ``.fixed.`` Mailchimp contract.

The scenarios use pdmc's own ``MailchimpClient`` where it has the call, and raw
``httpx`` for the operations pdmc does not call. A recording transport keeps each
exchange; :func:`test_every_exchange_follows_the_contract` validates them all at once
and :func:`test_every_emulated_operation_is_exercised` checks nothing was left out.
Three endpoints are outside the Marketing contract by nature (OAuth on
login.mailchimp.com, and the batch results download) and are listed as such.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from pdmc.clients import MailchimpClient, RetryPolicy
from pdmc.clients.mailchimp import (
    BatchOperation,
    MailchimpOAuthApp,
    MemberUpsert,
    TagUpdate,
    WebhookEvents,
    WebhookSources,
    subscriber_hash,
)
from pdmc.errors import MemberError
from tests.contracts import operation_id_for, validate_exchange, validate_request

from .conftest import API, Rig

OUTSIDE_THE_CONTRACT = frozenset({"getOAuth2Token", "getOAuth2Metadata", "downloadBatchResults"})
ADA, ALAN, GRACE = "ada@lovelace.dev", "alan@turing.dev", "grace@hopper.dev"
ADDRESS = {"addr1": "1 Main St", "city": "Springfield", "state": "IL", "zip": "62701"}


class Recorder(httpx.BaseTransport):
    """Passes requests to the emulator and keeps every exchange, bodies read."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        self.exchanges.append((request, response))
        return response


class Scenario:
    """A rig whose clients all go through one recorder."""

    def __init__(self) -> None:
        self.rig = Rig()
        self.recorder = Recorder(self.rig.transport)
        key = self.rig.mailchimp.default_account.api_key
        self.client = MailchimpClient(
            key, transport=self.recorder, retry=RetryPolicy.no_wait(1), page_size=2
        )
        self.http = httpx.Client(transport=self.recorder, base_url=API, auth=("pdmc", key.reveal()))
        self.list_id = self.rig.list_id

    def refused(self, call: Any, *args: Any, **kwargs: Any) -> MemberError:
        try:
            call(*args, **kwargs)
        except MemberError as error:
            return error
        raise AssertionError("the call was expected to be refused")


def account_and_audiences(s: Scenario) -> None:
    """Ping, read the account, create an audience, read, change and delete it."""
    s.client.ping()
    s.http.get("/ping")
    body = {
        "name": "Scratch",
        "contact": {"company": "Acme", "address1": "1 Main St", "city": "Springfield",
                    "state": "IL", "zip": "62701", "country": "US"},
        "permission_reminder": "You bought from us.",
        "campaign_defaults": {"from_name": "Acme", "from_email": "news@acme-widgets.net",
                              "subject": "News", "language": "en"},
        "email_type_option": False,
        "double_optin": True,
    }  # fmt: skip
    scratch = s.http.post("/lists", json=body).json()["id"]
    assert s.client.get_audience(scratch).double_optin
    s.http.patch(f"/lists/{scratch}", json={**body, "name": "Scratch 2", "double_optin": False})
    list(s.client.list_audiences())
    s.http.get("/lists", params={"email": ADA, "include_total_contacts": "true"})
    s.http.delete(f"/lists/{scratch}")
    s.http.get(f"/lists/{scratch}")  # 404 problem document


def merge_fields(s: Scenario) -> None:
    """Create one field of every type, list, read, change and delete them."""
    for tag, kind, options in [
        ("NOTE", "text", None),
        ("SCORE", "number", None),
        ("HOME", "address", None),
        ("MOBILE", "phone", {"phone_format": "US"}),
        ("SINCE", "date", {"date_format": "DD/MM/YYYY"}),
        ("SITE", "url", None),
        ("AVATAR", "imageurl", None),
        ("PLAN", "radio", {"choices": ["Free", "Pro"]}),
        ("REGION", "dropdown", {"choices": ["EMEA", "APAC"]}),
        ("BDAY", "birthday", {"date_format": "MM/DD"}),
        ("ZIPCODE", "zip", None),
    ]:
        s.client.create_merge_field(
            s.list_id, name=tag.title(), type=kind, tag=tag, options=options
        )
    list(s.client.list_merge_fields(s.list_id))
    s.http.get(f"/lists/{s.list_id}/merge-fields", params={"type": "text", "required": "false"})
    temp = s.http.post(
        f"/lists/{s.list_id}/merge-fields", json={"name": "Temp", "type": "text", "public": False}
    ).json()
    s.http.get(f"/lists/{s.list_id}/merge-fields/{temp['merge_id']}")
    s.http.patch(
        f"/lists/{s.list_id}/merge-fields/{temp['merge_id']}",
        json={"name": "Temporary", "help_text": "soon gone"},
    )
    s.http.delete(f"/lists/{s.list_id}/merge-fields/{temp['merge_id']}")
    s.http.post(
        f"/lists/{s.list_id}/merge-fields", json={"name": "Dup", "type": "text", "tag": "FNAME"}
    )


def members(s: Scenario) -> None:
    """Upsert, add, read, list, update, change address, and the refusals."""
    values = {
        "FNAME": "Ada", "LNAME": "Lovelace", "NOTE": "first programmer", "SCORE": 99,
        "HOME": ADDRESS, "MOBILE": "555-123-4567", "SINCE": "10/12/1815", "SITE": "https://ada.dev",
        "AVATAR": "https://ada.dev/a.png", "PLAN": "Pro", "REGION": "EMEA", "BDAY": "12/10",
        "ZIPCODE": "02134",
    }  # fmt: skip
    s.client.upsert_member(
        s.list_id, MemberUpsert(email_address=ADA, status_if_new="subscribed", merge_fields=values)
    )
    s.client.upsert_member(
        s.list_id,
        MemberUpsert(email_address=ADA, status_if_new="subscribed", language="en", vip=True),
    )
    s.http.post(
        f"/lists/{s.list_id}/members",
        json={"email_address": ALAN, "status": "pending", "tags": ["Founders"],
              "merge_fields": {"FNAME": "Alan"}, "email_type": "text"},
    )  # fmt: skip
    s.client.get_member(s.list_id, ADA)
    s.rig.advance(60)
    since = s.rig.clock.now()
    s.client.update_member(s.list_id, ALAN, merge_fields={"LNAME": "Turing"})
    list(s.client.list_members(s.list_id))
    list(s.client.list_members(s.list_id, status="pending", since_last_changed=since))
    s.http.get(
        f"/lists/{s.list_id}/members",
        params={
            "count": 1000,
            "offset": 0,
            "sort_field": "last_changed",
            "sort_dir": "DESC",
            "before_last_changed": since.isoformat(),
            "since_timestamp_opt": "2020-01-01T00:00:00Z",
            "fields": "members.email_address,members.status,total_items",
        },
    )  # fmt: skip
    s.client.update_member(s.list_id, ALAN, status="subscribed")
    s.client.upsert_member(s.list_id, MemberUpsert(email_address=GRACE, status_if_new="subscribed"))
    s.client.update_member(s.list_id, GRACE, status="unsubscribed")
    s.client.update_member(s.list_id, GRACE, new_email="amazing.grace@hopper.dev")
    # The refusals, each a problem document.
    s.refused(s.client.update_member, s.list_id, "amazing.grace@hopper.dev", status="subscribed")
    s.refused(
        s.client.upsert_member,
        s.list_id,
        MemberUpsert(email_address="test@test.com", status_if_new="subscribed"),
    )
    s.refused(
        s.client.upsert_member,
        s.list_id,
        MemberUpsert(
            email_address="zed@zeta.dev", status_if_new="subscribed", merge_fields={"ZIPCODE": "1"}
        ),
    )
    s.http.post(f"/lists/{s.list_id}/members", json={"email_address": ADA, "status": "subscribed"})


def batch_subscribe(s: Scenario) -> None:
    """Batch subscribe with new, updated and refused rows."""
    s.client.batch_subscribe(
        s.list_id,
        [
            MemberUpsert(
                email_address="new1@readers.dev", status_if_new="subscribed", tags=("Batch",)
            ),
            MemberUpsert(
                email_address=ADA, status_if_new="subscribed", merge_fields={"NOTE": "again"}
            ),
            MemberUpsert(email_address="amazing.grace@hopper.dev", status="subscribed"),
            MemberUpsert(email_address="fake@fake.com", status_if_new="subscribed"),
        ],
        update_existing=True,
        sync_tags=False,
    )
    s.http.post(
        f"/lists/{s.list_id}",
        params={"skip_merge_validation": "true", "skip_duplicate_check": "true"},
        json={"members": [{"email_address": ADA, "status": "subscribed"},
                          {"email_address": "new2@readers.dev", "status": "transactional"}]},
    )  # fmt: skip


def tags_and_segments(s: Scenario) -> None:
    """Member tags, tag search, tags as static segments, and saved segments."""
    s.client.update_member_tags(
        s.list_id, ADA, [TagUpdate(name="VIP"), TagUpdate(name="Batch", status="inactive")]
    )
    list(s.client.list_member_tags(s.list_id, ADA))
    s.client.search_tags(s.list_id, "vi")
    tag = s.client.create_segment(s.list_id, "Speakers", static_emails=[ADA, "nobody@nowhere.dev"])
    s.client.update_static_segment(s.list_id, tag.id, add=[ALAN, "stranger@far.dev"], remove=[ADA])
    saved = s.client.create_segment(
        s.list_id,
        "Pro VIPs",
        conditions={
            "match": "all",
            "conditions": [
                {"condition_type": "SelectMerge", "field": "PLAN", "op": "is", "value": "Pro"},
                {
                    "condition_type": "StaticSegment",
                    "field": "static_segment",
                    "op": "static_is",
                    "value": tag.id,
                },
            ],
        },
    )  # fmt: skip
    list(s.client.list_segments(s.list_id))
    list(s.client.list_segments(s.list_id, type="static"))
    s.client.get_segment(s.list_id, saved.id)
    s.http.get(f"/lists/{s.list_id}/segments/{tag.id}", params={"include_unsubscribed": "true"})
    list(s.client.list_segment_members(s.list_id, tag.id))
    s.http.get(
        f"/lists/{s.list_id}/segments/{saved.id}/members", params={"include_cleaned": "true"}
    )
    s.http.post(f"/lists/{s.list_id}/segments/{tag.id}/members", json={"email_address": ADA})
    s.http.delete(f"/lists/{s.list_id}/segments/{tag.id}/members/{subscriber_hash(ADA)}")
    s.http.patch(
        f"/lists/{s.list_id}/segments/{saved.id}",
        json={"name": "Pro only", "options": {"match": "any", "conditions": [
            {"condition_type": "TextMerge", "field": "FNAME", "op": "contains", "value": "a"}]}},
    )  # fmt: skip
    s.http.patch(
        f"/lists/{s.list_id}/segments/{tag.id}", json={"name": "Keynotes", "static_segment": [ALAN]}
    )
    s.http.delete(f"/lists/{s.list_id}/segments/{saved.id}")


def webhooks(s: Scenario) -> None:
    """Create (with the validation GET), list, read, change and delete a webhook."""
    hook = s.client.create_webhook(
        s.list_id,
        "https://hooks.pdmc.dev/mailchimp",
        events=WebhookEvents(
            subscribe=True, unsubscribe=True, profile=True, cleaned=True, upemail=True
        ),
        sources=WebhookSources(user=True, admin=True, api=False),
    )
    s.client.list_webhooks(s.list_id)
    s.http.get(f"/lists/{s.list_id}/webhooks/{hook.id}")
    s.http.patch(
        f"/lists/{s.list_id}/webhooks/{hook.id}",
        json={"sources": {"user": True, "admin": False, "api": False}},
    )
    s.client.delete_webhook(s.list_id, hook.id)
    s.rig.inbox.status = 410
    s.http.post(f"/lists/{s.list_id}/webhooks", json={"url": "https://gone.pdmc.dev/hook"})


def batches(s: Scenario) -> None:
    """Submit, watch, download and delete batches."""
    batch = s.client.submit_batch(
        [
            BatchOperation(
                method="GET",
                path=f"/lists/{s.list_id}/members/{subscriber_hash(ADA)}",
                operation_id="get",
            ),
            BatchOperation(
                method="PATCH",
                path=f"/lists/{s.list_id}/members/{subscriber_hash(ALAN)}",
                body={"merge_fields": {"NOTE": "via batch"}},
                operation_id="patch",
            ),
        ]
    )  # fmt: skip
    s.client.get_batch(batch.id)
    s.rig.advance(10)
    s.client.get_batch_results(s.client.get_batch(batch.id))
    s.http.get("/batches", params={"count": 10, "offset": 0})
    s.http.delete(f"/batches/{batch.id}")


def archive_and_forget(s: Scenario) -> None:
    """Archive one member, forget another (and see the address refused afterwards)."""
    s.client.archive_member(s.list_id, "new2@readers.dev")
    s.http.post(
        f"/lists/{s.list_id}/members/{subscriber_hash('new1@readers.dev')}/actions/delete-permanent"
    )
    s.refused(
        s.client.upsert_member,
        s.list_id,
        MemberUpsert(email_address="new1@readers.dev", status_if_new="subscribed"),
    )


def oauth(s: Scenario) -> None:
    """Trade a code for a token and ask its data centre (outside the Marketing contract)."""
    secret = s.rig.mailchimp.add_oauth_app("pdmc", redirect_uri="https://app.pdmc.dev/cb")
    app = MailchimpOAuthApp(
        client_id="pdmc", client_secret=secret, redirect_uri="https://app.pdmc.dev/cb"
    )
    with httpx.Client(transport=s.recorder) as http:
        token = app.exchange_code(s.rig.mailchimp.authorize("pdmc"), http_client=http)
        app.metadata(token, http_client=http)


SCENARIOS = (
    account_and_audiences,
    merge_fields,
    members,
    batch_subscribe,
    tags_and_segments,
    webhooks,
    batches,
    archive_and_forget,
    oauth,
)


@pytest.fixture(scope="module")
def played() -> Scenario:
    scenario = Scenario()
    for play in SCENARIOS:
        play(scenario)
    return scenario


@dataclass(frozen=True)
class Imprecision:
    """A known imprecision not yet in the harness's allow-list (reported to the lead).

    ``request_checked``: the imprecision is in the response only, so the request is
    still validated by the main test.
    """

    reason: str
    applies: Callable[[httpx.Request, httpx.Response], bool]
    request_checked: bool


AWAITING_THE_ALLOW_LIST = {
    "empty-204": Imprecision(
        reason=(
            'the contract documents 204 answers as `content: {}` ("Empty Response"), but the '
            "harness (openapi-core) reports a body-less 204 as 'response body is documented but "
            "missing'; tests/cassettes/build_cassettes.py works around the same defect"
        ),
        applies=lambda _, response: response.status_code == 204,
        request_checked=True,
    ),
    "patch-segment-conditions": Imprecision(
        reason=(
            "patchListsIdSegmentsId's request schema (Conditions_2) types each "
            "options.conditions[] item as an array, while postListsIdSegments (Conditions_1) and "
            "every segment response (Conditions) take condition objects: a conversion artefact"
        ),
        applies=lambda request, _: (
            operation_id_for(request) == "patchListsIdSegmentsId"
            and b'"conditions"' in request.content
        ),
        request_checked=False,
    ),
}


def _awaiting(request: httpx.Request, response: httpx.Response) -> Imprecision | None:
    return next((i for i in AWAITING_THE_ALLOW_LIST.values() if i.applies(request, response)), None)


def test_every_exchange_follows_the_contract(played):
    """Each request and each response of the scenarios is valid against the contract
    (responses with an imprecision awaiting the allow-list are checked below)."""
    problems = []
    checked: Counter[str] = Counter()
    for request, response in played.recorder.exchanges:
        operation = operation_id_for(request)
        pending = _awaiting(request, response)
        if operation is None or (pending is not None and not pending.request_checked):
            continue
        result = validate_request(request) if pending else validate_exchange(request, response)
        checked[operation] += 1
        if not result.ok:
            problems.append(str(result))
    assert not problems, "\n".join(problems)
    served = {route.operation_id for route in played.rig.mailchimp.routes}
    assert set(checked) == served - OUTSIDE_THE_CONTRACT


@pytest.mark.parametrize("name", list(AWAITING_THE_ALLOW_LIST))
def test_exchanges_awaiting_the_allow_list(played, name):
    """The exchanges an imprecision covers validate in full, now that the allow-list has it."""
    imprecision = AWAITING_THE_ALLOW_LIST[name]
    covered = [(q, r) for q, r in played.recorder.exchanges if imprecision.applies(q, r)]
    assert covered
    for request, response in covered:
        validate_exchange(request, response).raise_for_errors()


def test_every_emulated_operation_is_exercised(played):
    """The scenarios call every operation the emulator serves, contract ones and the rest."""
    served = {route.operation_id for route in played.rig.mailchimp.routes}
    called = Counter(
        operation_id_for(request) or _outside(played, request)
        for request, _ in played.recorder.exchanges
    )
    assert served - set(called) == set()
    assert set(called) - served == set()


def test_only_the_known_endpoints_are_outside_the_contract(played):
    """Every exchange the contract does not cover is OAuth or a results download."""
    outside = {
        _outside(played, request)
        for request, _ in played.recorder.exchanges
        if operation_id_for(request) is None
    }
    assert outside == OUTSIDE_THE_CONTRACT


def test_error_answers_were_validated_too(played):
    """The scenarios include refusals, and they are problem documents the contract accepts."""
    errors = [(q, r) for q, r in played.recorder.exchanges if r.is_error]
    assert len(errors) >= 8
    assert all(
        r.headers["content-type"] == "application/problem+json"
        for q, r in errors
        if q.url.host != "login.mailchimp.com"
    )


def _outside(played: Scenario, request: httpx.Request) -> str:
    found = played.rig.mailchimp.match(request.method, request.url.path)
    assert found is not None, f"{request.method} {request.url} is no emulated operation"
    return found[0].operation_id


def test_archived_members_follow_the_contract():
    """An archived member, read and listed, validates against the member schema."""
    scenario = Scenario()
    scenario.rig.mailchimp.add_member(scenario.list_id, ADA)
    scenario.rig.mailchimp.archive(scenario.list_id, ADA)
    scenario.client.get_member(scenario.list_id, ADA)
    list(scenario.client.list_members(scenario.list_id, status="archived"))
    for request, response in scenario.recorder.exchanges:
        validate_exchange(request, response).raise_for_errors()
