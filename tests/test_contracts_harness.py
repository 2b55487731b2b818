"""The contract harness: routing, request and response validation, the allow-list, costs."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.contracts import (
    KNOWN_IMPRECISIONS,
    Contract,
    ContractViolation,
    KnownImprecision,
    NoDocumentedExampleError,
    Operation,
    UnknownOperationError,
    _documents,
    documented_example,
    load_contract,
    operation_for,
    operation_id_for,
    pipedrive_token_costs,
    token_cost_for,
    validate_exchange,
    validate_request,
)
from tests.contracts._adapters import HttpxOpenAPIRequest, HttpxOpenAPIResponse
from tests.contracts._allowlist import StaleAllowanceError, apply_allowances

PD_V2 = "https://api.pipedrive.com/api/v2"
PD_V1 = "https://api.pipedrive.com/v1"
MC = "https://us6.api.mailchimp.com/3.0"
PD_AUTH = {"x-api-token": "test-token"}
MC_AUTH = {"Authorization": "Basic " + base64.b64encode(b"anystring:test-key-us6").decode()}
LIST_ID = "a1b2c3d4e5"
EMAIL = "ada@example.com"
EMAIL_HASH = hashlib.md5(EMAIL.encode()).hexdigest()  # noqa: S324 - Mailchimp's subscriber hash


def pd_v2(method: str, path: str, **kwargs: Any) -> httpx.Request:
    return httpx.Request(method, PD_V2 + path, headers=PD_AUTH, **kwargs)


def pd_v1(method: str, path: str, **kwargs: Any) -> httpx.Request:
    return httpx.Request(method, PD_V1 + path, headers=PD_AUTH, **kwargs)


def mc(method: str, path: str, **kwargs: Any) -> httpx.Request:
    return httpx.Request(method, MC + path, headers=MC_AUTH, **kwargs)


def member(**changes: Any) -> dict[str, Any]:
    """A list member as Mailchimp returns it (fields from API-FACTS 2.4)."""
    return {
        "id": EMAIL_HASH,
        "email_address": EMAIL,
        "unique_email_id": "8d3a3f5a6e",
        "email_type": "html",
        "status": "subscribed",
        "merge_fields": {
            "FNAME": "Ada",
            "SCORE": 42,
            "ADDRESS": {"addr1": "1 Main St", "city": "London", "state": "", "zip": "N1"},
        },
        "interests": {"9143cf3bd1": True},
        "stats": {"avg_open_rate": 0.5, "avg_click_rate": 0.1},
        "ip_signup": "",
        "ip_opt": "198.51.100.7",
        "timestamp_opt": "2024-05-01T10:00:00+00:00",
        "member_rating": 2,
        "last_changed": "2024-05-02T08:30:00+00:00",
        "language": "",
        "vip": False,
        "email_client": "",
        "location": {"latitude": 0, "longitude": 0, "gmtoff": 0, "dstoff": 0, "timezone": ""},
        "tags_count": 1,
        "tags": [{"id": 11, "name": "pdmc"}],
        "list_id": LIST_ID,
        "_links": [],
        **changes,
    }


def pipedrive_person_example() -> dict[str, Any]:
    """The documented getPerson response: the basis of the person allow-list tests."""
    body: dict[str, Any] = documented_example("getPerson", contract=Contract.PIPEDRIVE_V2)
    return body


CORRECT_REQUESTS = [
    pytest.param(
        pd_v2("GET", "/persons", params={"cursor": "eyJpZCI6N30", "limit": 500, "filter_id": 7}),
        "getPersons",
        id="pipedrive-v2-list-persons",
    ),
    pytest.param(
        pd_v2(
            "PATCH",
            "/persons/42",
            json={
                "name": "Ada Lovelace",
                "emails": [{"value": EMAIL, "primary": True, "label": "work"}],
                "custom_fields": {"d4de1c1518b4531717c676029a45911c340390a6": "Analytical"},
            },
        ),
        "updatePerson",
        id="pipedrive-v2-update-person",
    ),
    pytest.param(
        pd_v1(
            "POST",
            "/webhooks",
            json={
                "subscription_url": "https://hooks.example.com/pipedrive",
                "event_action": "change",
                "event_object": "person",
                "name": "pdmc person changes",
                "version": "2.0",
                "http_auth_user": "pdmc",
                "http_auth_password": "hook-password",
            },
        ),
        "addWebhook",
        id="pipedrive-v1-add-webhook",
    ),
    pytest.param(
        mc(
            "GET",
            f"/lists/{LIST_ID}/members",
            params={"count": 1000, "offset": 0, "since_last_changed": "2015-10-21T15:41:36+00:00"},
        ),
        "getListsIdMembers",
        id="mailchimp-list-members",
    ),
    pytest.param(
        mc(
            "PUT",
            f"/lists/{LIST_ID}/members/{EMAIL_HASH}",
            json={
                "email_address": EMAIL,
                "status_if_new": "subscribed",
                "merge_fields": {"FNAME": "Ada", "SCORE": 42},
            },
        ),
        "putListsIdMembersId",
        id="mailchimp-upsert-member",
    ),
    pytest.param(
        mc(
            "POST",
            f"/lists/{LIST_ID}",
            json={
                "members": [
                    {
                        "email_address": EMAIL,
                        "status": "subscribed",
                        "merge_fields": {"FNAME": "Ada"},
                    },
                    {"email_address": "grace@example.com", "status": "pending"},
                ],
                "update_existing": True,
            },
        ),
        "postListsId",
        id="mailchimp-batch-subscribe",
    ),
]


@pytest.mark.parametrize(("request_", "operation_id"), CORRECT_REQUESTS)
def test_accepts_a_correct_request(request_, operation_id):
    """A request that follows its contract validates and is matched to its operation."""
    result = validate_request(request_)
    result.raise_for_errors()
    assert result.ok
    assert result.operation_id == operation_id


@pytest.mark.parametrize(
    ("url", "operation_id"),
    [
        ("https://acme.pipedrive.com/api/v2/persons", "getPersons"),
        ("https://acme.pipedrive.com/v1/webhooks", "getWebhooks"),
        (f"https://us21.api.mailchimp.com/3.0/lists/{LIST_ID}/members", "getListsIdMembers"),
        (f"https://api.mailchimp.com/3.0/lists/{LIST_ID}/members", "getListsIdMembers"),
        ("https://us6.api.mailchimp.com/3.0/", "getRoot"),
        ("https://us6.api.mailchimp.com/3.0", "getRoot"),
    ],
)
def test_company_domains_and_data_centres_validate_like_the_declared_server(url, operation_id):
    """A Pipedrive company domain and any Mailchimp host form reach the same operations."""
    headers = PD_AUTH if "pipedrive" in url else MC_AUTH
    result = validate_request(httpx.Request("GET", url, headers=headers))
    result.raise_for_errors()
    assert result.operation_id == operation_id


def test_rejects_a_query_parameter_of_the_wrong_type():
    """`limit=abc` is refused with an error that names the operation and the parameter."""
    result = validate_request(pd_v2("GET", "/persons", params={"limit": "abc"}))
    assert not result.ok
    assert result.errors == ("query parameter 'limit': 'abc' is not a valid integer",)
    assert "getPersons" in str(result)


def test_rejects_a_value_outside_the_enum():
    """`sort_by=bogus` is refused: the contract lists the accepted values."""
    result = validate_request(pd_v2("GET", "/persons", params={"sort_by": "bogus"}))
    assert len(result.errors) == 1
    assert "query parameter 'sort_by'" in result.errors[0]
    assert "'bogus' is not one of" in result.errors[0]


def test_rejects_a_body_without_its_required_fields():
    """A member upsert without `email_address` and `status_if_new` fails naming both."""
    request = mc("PUT", f"/lists/{LIST_ID}/members/{EMAIL_HASH}", json={"status": "subscribed"})
    result = validate_request(request)
    assert any("'email_address' is a required property" in error for error in result.errors)
    assert any("'status_if_new' is a required property" in error for error in result.errors)
    with pytest.raises(ContractViolation, match="putListsIdMembersId") as info:
        result.raise_for_errors()
    assert info.value.result is result


def test_rejects_a_body_field_of_the_wrong_type():
    """A wrongly typed field deep in a body is reported with its path."""
    result = validate_request(pd_v2("PATCH", "/persons/42", json={"emails": [{"primary": "yes"}]}))
    assert result.errors == ("request body at emails[0].primary: 'yes' is not of type 'boolean'",)


def test_rejects_an_unknown_path():
    """A path no contract documents matches no operation, and the error says where."""
    result = validate_request(pd_v2("GET", "/nonexistent"))
    assert result.operation is None
    assert result.errors == ("pipedrive-v2 documents no operation at GET /api/v2/nonexistent",)


def test_rejects_an_undocumented_method():
    """A documented path called with another method lists the methods that exist."""
    result = validate_request(pd_v2("PUT", "/persons/1", json={"name": "Ada"}))
    assert result.operation is None
    assert result.errors == (
        "pipedrive-v2 documents /api/v2/persons/1 for DELETE, GET, PATCH, not PUT",
    )


def test_an_undocumented_method_on_a_removed_v1_path_lists_the_snapshot_methods():
    """The January snapshot's methods are listed for a path only it still documents."""
    result = validate_request(pd_v1("POST", "/persons/1", json={}))
    assert result.errors == ("pipedrive-v1 documents /v1/persons/1 for DELETE, GET, PUT, not POST",)


def test_deprecated_operations_are_noted_not_refused():
    """A call to an operation its contract marks deprecated passes with a note."""
    result = validate_request(mc("GET", "/conversations"))
    result.raise_for_errors()
    assert result.notes == ("getConversations is deprecated in mailchimp-3.0.81",)


def test_rejects_an_undocumented_query_parameter_without_echoing_its_value():
    """The legacy `api_token` query parameter is undocumented: refused, its value not shown."""
    result = validate_request(pd_v2("GET", "/persons", params={"api_token": "canary-123"}))
    assert result.errors == ("query parameter 'api_token' is not documented",)
    assert "canary" not in str(result)


def test_rejects_a_path_variable_of_the_wrong_type():
    """`/persons/abc` matches getPerson but its integer `id` is refused."""
    result = validate_request(pd_v2("GET", "/persons/abc"))
    assert result.operation_id == "getPerson"
    assert result.errors == ("path parameter 'id': 'abc' is not a valid integer",)


@pytest.mark.parametrize(
    ("headers", "accepted"),
    [
        ({"x-api-token": "k"}, True),
        ({"Authorization": "Bearer oauth-access-token"}, True),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, False),
        ({"Authorization": "Bearer "}, False),
        ({}, False),
    ],
)
def test_pipedrive_credentials_are_an_api_token_or_an_oauth_bearer(headers, accepted):
    """Pipedrive takes `x-api-token` or an OAuth bearer token; anything else is refused."""
    result = validate_request(httpx.Request("GET", PD_V2 + "/persons", headers=headers))
    assert result.ok is accepted, result
    if not accepted:
        assert result.errors == (
            "request credentials: no accepted credentials (the operation takes api_key or oauth2)",
        )


def test_rejects_a_body_in_an_undocumented_content_type():
    """A form body sent to a JSON-only operation is refused, naming the documented types."""
    result = validate_request(pd_v2("PATCH", "/persons/42", data={"name": "Ada"}))
    assert result.errors == (
        (
            "request body: content type 'application/x-www-form-urlencoded' is not documented "
            "(documented: application/json)"
        ),
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://api.pipedrive.com/api/v2/persons",
        "https://example.com/api/v2/persons",
        "https://api.pipedrive.com/api/v3/persons",
        "https://login.mailchimp.com/oauth2/token",
    ],
)
def test_rejects_urls_no_contract_covers(url):
    """Plain HTTP, foreign hosts and unknown versions match no contract at all."""
    result = validate_request(httpx.Request("GET", url, headers=PD_AUTH))
    assert result.operation is None
    assert result.errors[0].startswith("no contract covers GET ")
    assert operation_id_for(httpx.Request("GET", url)) is None


def test_form_bodies_and_operation_servers_are_validated():
    """The OAuth token call (form body, its own server, Basic auth) validates field by field."""
    headers = {"Authorization": "Basic " + base64.b64encode(b"client-id:client-secret").decode()}
    form = {"grant_type": "authorization_code", "code": "abc", "redirect_uri": "https://x.test/cb"}
    url = "https://oauth.pipedrive.com/oauth/token"
    good = validate_request(httpx.Request("POST", url, headers=headers, data=form))
    good.raise_for_errors()
    assert good.operation_id == "get-tokens"
    bad = validate_request(httpx.Request("POST", url, headers=headers, data={"grant_type": "x"}))
    assert len(bad.errors) == 1
    assert bad.errors[0].startswith("request body at grant_type: 'x' is not one of")


def test_removed_v1_operations_are_checked_against_the_january_snapshot():
    """GET /v1/persons, gone from the current v1 contract, is checked against 2026-01-14."""
    result = validate_request(pd_v1("GET", "/persons", params={"start": 0, "limit": 100}))
    result.raise_for_errors()
    assert result.operation is not None
    assert result.operation.contract is Contract.PIPEDRIVE_V1_2026_01_14
    assert result.notes == (
        (
            "getPersons was removed from the current v1 contract; checked against the "
            "2026-01-14 snapshot"
        ),
    )
    assert not validate_request(pd_v1("GET", "/persons", params={"start": "first"})).ok


@pytest.mark.parametrize(
    ("request_", "operation_id", "status"),
    [
        (pd_v2("GET", "/persons", params={"limit": 100}), "getPersons", 200),
        (pd_v2("GET", "/persons/1"), "getPerson", 200),
        (pd_v2("PATCH", "/persons/1", json={"name": "Ada"}), "updatePerson", 200),
        (pd_v2("GET", "/persons/search", params={"term": EMAIL}), "searchPersons", 200),
        (pd_v1("GET", "/personFields"), "getPersonFields", 200),
        (pd_v1("GET", "/webhooks"), "getWebhooks", 200),
        (
            pd_v1(
                "POST",
                "/webhooks",
                json={
                    "subscription_url": "https://hooks.example.com/pd",
                    "event_action": "*",
                    "event_object": "person",
                    "name": "pdmc",
                },
            ),
            "addWebhook",
            201,
        ),
    ],
)
def test_documented_examples_are_valid_responses(request_, operation_id, status):
    """Each contract's own documented example response validates (through the allow-list)."""
    body = documented_example(operation_id, str(status), contract=operation_for(request_).contract)
    result = validate_exchange(request_, httpx.Response(status, json=body))
    result.raise_for_errors()
    assert result.operation_id == operation_id


@pytest.mark.parametrize(
    ("request_", "body"),
    [
        (mc("GET", f"/lists/{LIST_ID}/members"), {"members": [member()], "total_items": 1}),
        (
            mc(
                "PUT",
                f"/lists/{LIST_ID}/members/{EMAIL_HASH}",
                json={"email_address": EMAIL, "status_if_new": "subscribed"},
            ),
            member(),
        ),
        (
            mc("POST", f"/lists/{LIST_ID}", json={"members": [{"email_address": EMAIL}]}),
            {
                "new_members": [member()],
                "updated_members": [],
                "errors": [
                    {
                        "email_address": "bad@",
                        "error": "Invalid email",
                        "error_code": "ERROR_GENERIC",
                    }
                ],
                "total_created": 1,
                "total_updated": 0,
                "error_count": 1,
            },
        ),
    ],
    ids=["list-members", "upsert-member", "batch-subscribe"],
)
def test_realistic_mailchimp_responses_are_valid(request_, body):
    """Mailchimp documents no examples, so realistic bodies stand in for them and validate."""
    result = validate_exchange(request_, httpx.Response(200, json=body))
    result.raise_for_errors()


def routed_operations(contract: Contract) -> list[Operation]:
    """The operations the harness checks against ``contract`` (the snapshot: removed ones)."""
    operations = load_contract(contract).router.operations
    if contract is not Contract.PIPEDRIVE_V1_2026_01_14:
        return list(operations)
    current = load_contract(Contract.PIPEDRIVE_V1).router.operations
    kept = {(op.method, op.url_template) for op in current}
    return [op for op in operations if (op.method, op.url_template) not in kept]


@pytest.mark.parametrize(
    "contract",
    [Contract.PIPEDRIVE_V2, Contract.PIPEDRIVE_V1, Contract.PIPEDRIVE_V1_2026_01_14],
    ids=str,
)
def test_every_documented_example_is_a_valid_response(contract):
    """Every example a Pipedrive contract documents validates against its own schema."""
    loaded = load_contract(contract)
    checked, failures = 0, []
    for operation in routed_operations(contract):
        path = re.sub(r"\{[^}]+\}", "1", operation.path_template)
        adapted = HttpxOpenAPIRequest(
            httpx.Request(operation.method, operation.server_url + path), operation, path, {}
        )
        for status, response in loaded.operation_object(operation)["responses"].items():
            media = response.get("content", {}).get("application/json", {})
            if "example" in media:
                checked += 1
                example = HttpxOpenAPIResponse(httpx.Response(int(status), json=media["example"]))
                errors = list(loaded.openapi.iter_response_errors(adapted, example))
                failures += [(operation.operation_id, status, str(error)) for error in errors]
    assert checked > 0
    assert failures == []


def test_rejects_a_response_that_breaks_its_schema():
    """A response field of the wrong type is reported with its path and the operation."""
    body = documented_example("getPersons")
    body["data"][0]["id"] = "one"
    result = validate_exchange(pd_v2("GET", "/persons"), httpx.Response(200, json=body))
    assert result.errors == ("response body at data[0].id: 'one' is not of type 'integer'",)
    assert str(result).startswith("getPersons (GET /api/v2/persons, pipedrive-v2) breaks")


def test_undocumented_success_status_is_an_error_and_error_status_a_note():
    """A 201 getPersons never promised is an error; a 429 it does not document is a note."""
    request = pd_v2("GET", "/persons")
    created = validate_exchange(request, httpx.Response(201, json=documented_example("getPersons")))
    assert created.errors == ("response status 201 is not documented (documented: 200)",)
    throttled = validate_exchange(request, httpx.Response(429, text="Too Many Requests"))
    assert throttled.ok
    assert throttled.notes == ("status 429 is not documented; its body was not checked",)


def test_documented_error_responses_are_checked():
    """Mailchimp's `default` problem document validates, and a malformed one does not."""
    request = mc("GET", f"/lists/{LIST_ID}/members/{EMAIL_HASH}")
    problem = {"type": "t", "title": "Not Found", "status": 404, "detail": "d", "instance": ""}
    headers = {"content-type": "application/problem+json"}
    assert validate_exchange(request, httpx.Response(404, json=problem, headers=headers)).ok
    broken = {k: v for k, v in problem.items() if k != "title"}
    result = validate_exchange(request, httpx.Response(404, json=broken, headers=headers))
    assert result.errors == ("response body: 'title' is a required property",)


def test_streamed_bodies_are_read_before_validation():
    """A streamed request body and an unread streamed response body are both validated."""
    request = httpx.Request(
        "PATCH",
        PD_V2 + "/persons/1",
        headers={**PD_AUTH, "content-type": "application/json"},
        content=iter([b'{"name": ', b'"Ada"}']),
    )
    payload = json.dumps(documented_example("updatePerson")).encode()
    response = httpx.Response(
        200, headers={"content-type": "application/json"}, content=iter([payload])
    )
    result = validate_exchange(request, response)
    result.raise_for_errors()


# --- the allow-list -------------------------------------------------------------------


def test_next_cursor_null_allowance_is_needed_and_narrow():
    """The last v2 page's `next_cursor: null` fails as published, passes patched; 7 still fails."""
    request = pd_v2("GET", "/persons")
    body = documented_example("getPersons")
    body["additional_data"]["next_cursor"] = None
    published = validate_exchange(request, httpx.Response(200, json=body), as_published=True)
    assert set(published.errors) == {
        "response body at additional_data.next_cursor: None for not nullable",
        "response body at additional_data.next_cursor: None is not of type 'string'",
    }
    assert validate_exchange(request, httpx.Response(200, json=body)).ok
    body["additional_data"]["next_cursor"] = 7
    assert not validate_exchange(request, httpx.Response(200, json=body)).ok


@pytest.mark.parametrize("field", ["org_id", "picture_id"])
def test_person_null_ids_allowance_is_needed_and_narrow(field):
    """A person's null org_id/picture_id fails as published, passes patched; a string fails."""
    request = pd_v2("GET", "/persons/1")
    body = pipedrive_person_example()
    body["data"][field] = None
    published = validate_exchange(request, httpx.Response(200, json=body), as_published=True)
    assert set(published.errors) == {
        f"response body at data.{field}: None for not nullable",
        f"response body at data.{field}: None is not of type 'integer'",
    }
    assert validate_exchange(request, httpx.Response(200, json=body)).ok
    body["data"][field] = "acme"
    assert not validate_exchange(request, httpx.Response(200, json=body)).ok


def test_person_null_ids_allowance_leaves_request_bodies_alone():
    """The person allowance patches responses only: a PATCH body with `org_id: null` still fails."""
    allowance = next(
        applied
        for applied in load_contract(Contract.PIPEDRIVE_V2).allowances
        if "getPerson" in applied.entry.operations
    )
    assert all("/responses/" in patch.pointer for patch in allowance.patches)
    assert not validate_request(pd_v2("PATCH", "/persons/1", json={"org_id": None})).ok


def test_v1_timestamp_allowance_is_needed_and_narrow():
    """v1 field timestamps `YYYY-MM-DD HH:MM:SS` fail as published, pass patched; ISO fails."""
    request = pd_v1("GET", "/personFields")
    body = documented_example("getPersonFields", contract=Contract.PIPEDRIVE_V1)
    assert body["data"][0]["add_time"] == "2019-02-04 13:58:03"
    published = validate_exchange(request, httpx.Response(200, json=body), as_published=True)
    assert "response body at data[0].add_time: '2019-02-04 13:58:03' is not a 'date-time'" in (
        published.errors
    )
    assert validate_exchange(request, httpx.Response(200, json=body)).ok
    body["data"][0]["add_time"] = "2019-02-04T13:58:03Z"
    assert not validate_exchange(request, httpx.Response(200, json=body)).ok


def test_v1_timestamp_allowance_spares_unlisted_operations():
    """Operations the entry does not list keep `format: date-time` (webhooks use RFC 3339)."""
    body = documented_example("getWebhooks", contract=Contract.PIPEDRIVE_V1)
    body["data"][0]["add_time"] = "2019-10-25 08:25:27"
    result = validate_exchange(pd_v1("GET", "/webhooks"), httpx.Response(200, json=body))
    assert result.errors == (
        "response body at data[0].add_time: '2019-10-25 08:25:27' is not a 'date-time'",
    )


def test_problem_json_on_success_is_refused_but_kept_for_errors():
    """A 200 labelled problem+json passes the published Mailchimp contract, not the patched one."""
    request = mc("GET", f"/lists/{LIST_ID}/members/{EMAIL_HASH}")
    headers = {"content-type": "application/problem+json"}
    response = httpx.Response(200, json=member(), headers=headers)
    assert validate_exchange(request, response, as_published=True).ok
    result = validate_exchange(request, response)
    assert result.errors == (
        (
            "response body: content type 'application/problem+json' is not documented "
            "(documented: application/json)"
        ),
    )
    problem = {"type": "t", "title": "Not Found", "status": 404, "detail": "d", "instance": ""}
    assert validate_exchange(request, httpx.Response(404, json=problem, headers=headers)).ok


@pytest.mark.parametrize(
    ("authorization", "published", "patched"),
    [
        ("Basic " + base64.b64encode(b"any:key-us6").decode(), True, True),
        ("Bearer key-us6", False, True),
        ("Token key-us6", False, False),
        (None, False, False),
    ],
)
def test_mailchimp_bearer_allowance_is_needed_and_narrow(authorization, published, patched):
    """Bearer credentials fail the published contract, pass patched; other schemes still fail."""
    headers = {"Authorization": authorization} if authorization else {}
    request = httpx.Request("GET", f"{MC}/lists/{LIST_ID}/members", headers=headers)
    assert validate_request(request, as_published=True).ok is published
    assert validate_request(request).ok is patched


MEMBER_STATUSES = "['subscribed', 'unsubscribed', 'cleaned', 'pending', 'transactional'"


def test_archived_member_status_allowance_is_needed_and_narrow():
    """An archived member fails the published member schema, passes patched; "bogus" still fails."""
    request = mc("GET", f"/lists/{LIST_ID}/members/{EMAIL_HASH}")
    archived = httpx.Response(200, json=member(status="archived"))
    published = validate_exchange(request, archived, as_published=True)
    assert published.errors == (
        f"response body at status: 'archived' is not one of {MEMBER_STATUSES}]",
    )
    assert validate_exchange(request, archived).ok
    listed = {"members": [member(status="archived")], "total_items": 1}
    members_request = mc("GET", f"/lists/{LIST_ID}/members", params={"status": "archived"})
    assert validate_exchange(members_request, httpx.Response(200, json=listed)).ok
    bogus = validate_exchange(request, httpx.Response(200, json=member(status="bogus")))
    assert bogus.errors == (
        f"response body at status: 'bogus' is not one of {MEMBER_STATUSES}, 'archived']",
    )


def test_archived_member_status_allowance_leaves_request_bodies_alone():
    """`archived` cannot be written: member PATCH and PUT bodies still refuse it."""
    path = f"/lists/{LIST_ID}/members/{EMAIL_HASH}"
    update = validate_request(mc("PATCH", path, json={"status": "archived"}))
    assert update.errors == (
        (
            "request body at status: 'archived' is not one of "
            "['subscribed', 'unsubscribed', 'cleaned', 'pending']"
        ),
    )
    upsert = mc("PUT", path, json={"email_address": EMAIL, "status_if_new": "archived"})
    assert validate_request(upsert).errors == (
        f"request body at status_if_new: 'archived' is not one of {MEMBER_STATUSES}]",
    )
    allowance = next(
        applied
        for applied in load_contract(Contract.MAILCHIMP).allowances
        if "getListsIdMembersId" in applied.entry.operations
    )
    assert {patch.pointer for patch in allowance.patches} == {
        "/components/schemas/List_Members/properties/status"
    }


def member_tags_request() -> httpx.Request:
    """postListMemberTags, which Mailchimp answers with an empty 204 (API-FACTS 2.7)."""
    tags = {"tags": [{"name": "VIP", "status": "active"}], "is_syncing": False}
    return mc("POST", f"/lists/{LIST_ID}/members/{EMAIL_HASH}/tags", json=tags)


@pytest.mark.parametrize(
    "response",
    [httpx.Response(204), httpx.Response(204, headers={"content-length": "0"})],
    ids=["no-content-length", "content-length-0"],
)
def test_empty_204_allowance_is_needed(response):
    """An empty 204 is "documented but missing" as published and valid patched."""
    request = member_tags_request()
    published = validate_exchange(request, response, as_published=True)
    assert published.errors == ("response body is documented but missing",)
    assert validate_exchange(request, response).ok


def test_empty_204_allowance_still_refuses_a_204_with_a_body():
    """A 204 that carries a body is refused, published and patched alike."""
    request = member_tags_request()
    response = httpx.Response(204, json={"tags": []})
    length = len(response.content)
    assert not validate_exchange(request, response, as_published=True).ok
    assert validate_exchange(request, response).errors == (
        f"response header 'Content-Length': {length} is greater than the maximum of 0",
    )


@pytest.mark.parametrize(
    "request_",
    [
        mc("GET", f"/lists/{LIST_ID}/members/{EMAIL_HASH}"),
        mc("GET", f"/lists/{LIST_ID}/surveys"),
    ],
    ids=["member-200", "surveys-200-declared-content-{}"],
)
def test_empty_204_allowance_spares_other_statuses(request_):
    """A 200 without a body still fails, even where the 200 too is declared `content: {}`."""
    result = validate_exchange(request_, httpx.Response(200))
    assert result.errors == ("response body is documented but missing",)


SELECT_MERGE = {"condition_type": "SelectMerge", "field": "PLAN", "op": "is", "value": "Pro"}


def segment_update(*conditions: Any) -> httpx.Request:
    """patchListsIdSegmentsId with a saved segment's conditions."""
    options = {"match": "all", "conditions": list(conditions)}
    return mc("PATCH", f"/lists/{LIST_ID}/segments/7", json={"name": "Pro", "options": options})


def test_segment_conditions_allowance_is_needed_and_narrow():
    """Condition objects fail the published segment PATCH, pass patched; a string still fails."""
    published = validate_request(segment_update(SELECT_MERGE), as_published=True)
    assert published.errors == (
        f"request body at options.conditions[0]: {SELECT_MERGE!r} is not of type 'array'",
    )
    creation = {"name": "Pro", "options": {"match": "all", "conditions": [SELECT_MERGE]}}
    assert validate_request(mc("POST", f"/lists/{LIST_ID}/segments", json=creation)).ok
    assert validate_request(segment_update(SELECT_MERGE)).ok
    assert validate_request(segment_update("PLAN is Pro")).errors == (
        "request body at options.conditions[0]: 'PLAN is Pro' is not of type 'object'",
    )


def test_segment_conditions_allowance_refuses_the_artefact_shape():
    """The array-of-arrays shape the conversion declared is refused once patched."""
    nested = segment_update([SELECT_MERGE])
    assert validate_request(nested, as_published=True).ok
    assert validate_request(nested).errors == (
        f"request body at options.conditions[0]: {[SELECT_MERGE]!r} is not of type 'object'",
    )


def resolve_pointer(document: Any, pointer: str) -> Any:
    """The node at an RFC 6901 pointer, or None where it does not exist."""
    node = document
    for escaped in pointer.split("/")[1:]:
        key = escaped.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            node = node[int(key)] if int(key) < len(node) else None
        elif isinstance(node, dict):
            node = node.get(key)
        else:
            return None
    return node


@pytest.mark.parametrize("entry", KNOWN_IMPRECISIONS, ids=lambda entry: entry.location[:40])
def test_every_allowance_records_the_nodes_it_patched(entry: KnownImprecision):
    """Each entry is documented, applied, and each recorded node differs from the published one."""
    assert all((entry.location, entry.imprecision, entry.evidence, entry.treatment))
    patched = load_contract(entry.contract)
    published = load_contract(entry.contract, with_allowances=False)
    applied = next(applied for applied in patched.allowances if applied.entry is entry)
    assert applied.patches
    for patch in applied.patches:
        before = resolve_pointer(published.document, patch.pointer)
        after = resolve_pointer(patched.document, patch.pointer)
        assert before != after, patch


def test_a_stale_allowance_stops_the_loading():
    """An entry that finds none of its nodes raises instead of silently doing nothing."""
    with pytest.raises(StaleAllowanceError, match="no longer matches"):
        apply_allowances(Contract.PIPEDRIVE_V2, {"paths": {}})


def segment_update_schema(document: dict[str, Any]) -> dict[str, Any]:
    """The request body schema of patchListsIdSegmentsId in a parsed Mailchimp contract."""
    operation = document["paths"]["/lists/{list_id}/segments/{segment_id}"]["patch"]
    schema: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["schema"]
    return schema


def fix_conditions_2(document: dict[str, Any]) -> None:
    """What a corrected contract would say: Conditions_2 items are condition objects."""
    conditions = document["components"]["schemas"]["Conditions_2"]["properties"]["conditions"]
    conditions["items"] = conditions["items"]["items"]


def stop_using_conditions_2(document: dict[str, Any]) -> None:
    """The segment PATCH body takes the creation schema, which does not use Conditions_2."""
    segment_update_schema(document)["$ref"] = "#/components/schemas/List_8"


@pytest.mark.parametrize("change", [fix_conditions_2, stop_using_conditions_2])
def test_a_component_allowance_goes_stale_with_its_contract(change):
    """A fixed component, or an operation that stops using it, stops the loading."""
    document = _documents.read_document(Contract.MAILCHIMP)
    assert segment_update_schema(document) == {"$ref": "#/components/schemas/List_9"}
    change(document)
    with pytest.raises(StaleAllowanceError, match="Conditions_2"):
        apply_allowances(Contract.MAILCHIMP, document)


def test_the_docs_page_lists_every_allowance():
    """docs/contracts.md names each allow-list entry's contract and location."""
    page = (Path(__file__).parents[1] / "docs" / "contracts.md").read_text(encoding="utf-8")
    for entry in KNOWN_IMPRECISIONS:
        assert entry.location in page, entry.location
        assert entry.contract.label in page


# --- operations, token costs, documented examples ---------------------------------------


@pytest.mark.parametrize(
    ("request_", "cost"),
    [
        (pd_v2("GET", "/persons"), 10),
        (pd_v2("GET", "/persons/7"), 1),
        (pd_v2("PATCH", "/persons/7", json={}), 5),
        (pd_v2("GET", "/persons/search", params={"term": EMAIL, "exact_match": True}), 20),
        (pd_v1("POST", "/webhooks"), 10),
        (mc("GET", f"/lists/{LIST_ID}/members"), None),
        (pd_v2("GET", "/nonexistent"), None),
    ],
)
def test_token_cost_for_reads_x_token_cost(request_, cost):
    """token_cost_for gives Pipedrive's x-token-cost, None for Mailchimp and unknown calls."""
    assert token_cost_for(request_) == cost


def test_search_is_not_mistaken_for_a_person_id():
    """`/persons/search` is its own operation, not getPerson with id "search"."""
    assert operation_id_for(pd_v2("GET", "/persons/search")) == "searchPersons"


def test_pipedrive_token_costs_cover_every_operation():
    """The table holds all 158 v2, 213 v1 and 62 removed v1 operations, keyed by URL template."""
    costs = pipedrive_token_costs()
    assert len(costs) == 158 + 213 + 62
    assert costs[("GET", "/api/v2/persons")] == 10
    assert costs[("GET", "/api/v2/persons/{id}")] == 1
    assert costs[("PATCH", "/api/v2/persons/{id}")] == 5
    assert costs[("GET", "/api/v2/persons/search")] == 20
    assert costs[("GET", "/v1/personFields")] == 20
    assert costs[("GET", "/v1/persons")] == token_cost_for(pd_v1("GET", "/persons"))
    assert all(isinstance(cost, int) and cost >= 0 for cost in costs.values())
    prefixes = ("/api/v2/", "/v1/", "/oauth/")
    assert all(template.startswith(prefixes) for _, template in costs)


def test_documented_example_needs_a_contract_only_when_ambiguous():
    """getPersonFields is in v2 and v1, so it needs `contract`; getPersons resolves to v2."""
    with pytest.raises(UnknownOperationError, match="pipedrive-v2, pipedrive-v1"):
        documented_example("getPersonFields")
    assert documented_example("getPersonFields", contract=Contract.PIPEDRIVE_V1)["success"]
    assert documented_example("getPersons")["additional_data"]["next_cursor"]


@pytest.mark.parametrize(
    ("operation_id", "status", "error", "message"),
    [
        ("noSuchOperation", "200", UnknownOperationError, "no contract documents"),
        ("getPersons", "500", NoDocumentedExampleError, r"documents no 500 response"),
        ("getListsIdMembers", "200", NoDocumentedExampleError, "getListsIdMembers .* no example"),
    ],
)
def test_documented_example_explains_what_is_missing(operation_id, status, error, message):
    """Unknown operations, undocumented statuses and missing examples raise clear errors."""
    with pytest.raises(error, match=message):
        documented_example(operation_id, status)


def test_documented_example_returns_a_fresh_copy():
    """Changing a returned example does not change the next one."""
    documented_example("getPersons")["data"].clear()
    assert documented_example("getPersons")["data"]


def test_documented_example_falls_back_to_examples_then_the_schema(monkeypatch):
    """Without a media-type `example`, the first `examples` entry, then the schema's, is used."""
    loaded = load_contract(Contract.MAILCHIMP)
    operation = next(op for op in loaded.router.operations if op.operation_id == "getRoot")
    media = loaded.operation_object(operation)["responses"]["200"]["content"]["application/json"]
    schema = loaded.document["components"]["schemas"][media["schema"]["$ref"].rsplit("/", 1)[1]]
    monkeypatch.setitem(schema, "example", {"account_id": "from-schema"})
    assert documented_example("getRoot") == {"account_id": "from-schema"}
    monkeypatch.setitem(media, "examples", {"first": {"value": {"account_id": "from-examples"}}})
    assert documented_example("getRoot") == {"account_id": "from-examples"}


def test_contracts_load_once_per_process():
    """Loading a contract twice, however spelled, gives the same cached object."""
    assert load_contract(Contract.MAILCHIMP) is load_contract(Contract.MAILCHIMP)
    assert load_contract(Contract.MAILCHIMP, with_allowances=True) is load_contract(
        Contract.MAILCHIMP
    )
    assert load_contract(Contract.MAILCHIMP, with_allowances=False) is not load_contract(
        Contract.MAILCHIMP
    )


def test_a_missing_contract_folder_is_named(monkeypatch, tmp_path):
    """Without ../shared/specs the error names the folder where the contracts belong."""
    monkeypatch.setattr(_documents, "SPECS_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match=r"pipedrive-v2\.openapi\.yaml not found"):
        _documents.read_document(Contract.PIPEDRIVE_V2)
