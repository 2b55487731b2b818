"""Error mapping: vendor error bodies become the right pdmc.errors class, with their details."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from pdmc.clients import MailchimpClient, PipedriveClient, RetryPolicy
from pdmc.clients.mailchimp import MemberUpsert, WebhookEvents, WebhookSources
from pdmc.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ComplianceStateError,
    ConflictError,
    FlowError,
    ForgottenEmailError,
    InvalidEmailError,
    InvalidMergeFieldsError,
    MemberError,
    MemberExistsError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseShapeError,
    RetryableError,
    RowError,
    ServerError,
    ThrottledError,
    UnprocessableEntityError,
)
from tests.cassettes.build_cassettes import ADA, LIST_ID, MAILCHIMP_KEY, PIPEDRIVE_TOKEN
from tests.clients._fakes import Script, mailchimp_problem, pipedrive_error

ONCE = RetryPolicy(attempts=1)


def _pipedrive_failure(response: httpx.Response) -> APIError:
    client = PipedriveClient(PIPEDRIVE_TOKEN, transport=Script([response]).transport, retry=ONCE)
    with pytest.raises(APIError) as raised:
        client.get_person(404)
    return raised.value


UPSERT_ADA = MemberUpsert(email_address=ADA, status_if_new="subscribed")


def _upsert_ada(client: MailchimpClient) -> object:
    return client.upsert_member(LIST_ID, UPSERT_ADA)


def _move_ada_to_grace(client: MailchimpClient) -> object:
    return client.update_member(LIST_ID, ADA, new_email="grace@example.com")


def _mailchimp_failure(
    response: httpx.Response, call: Callable[[MailchimpClient], object] = _upsert_ada
) -> APIError:
    client = MailchimpClient(MAILCHIMP_KEY, transport=Script([response]).transport, retry=ONCE)
    with pytest.raises(APIError) as raised:
        call(client)
    return raised.value


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, ServerError),
        (503, ServerError),
    ],
)
def test_pipedrive_error_bodies_map_to_their_class(status: int, cls: type[APIError]) -> None:
    """{success: false, error, error_info} maps by status, with body, title, detail and id."""
    error = _pipedrive_failure(
        pipedrive_error(
            status, "Item not found", "Please check the id", **{"x-correlation-id": "c-42"}
        )
    )
    assert type(error) is cls
    assert (error.status_code, error.method, error.url) == (status, "GET", "/api/v2/persons/404")
    assert (error.title, error.detail, error.request_id) == (
        "Item not found",
        "Please check the id",
        "c-42",
    )
    assert error.body == {
        "success": False,
        "error": "Item not found",
        "error_info": "Please check the id",
        "data": None,
    }
    assert (
        str(error)
        == f"GET /api/v2/persons/404 failed with {status}: Item not found: Please check the id"
    )


def test_error_markers_tell_a_runner_what_to_do() -> None:
    """401 stops the flow; 429, 5xx and throttling 403 are retryable; 404 is neither."""
    assert isinstance(_pipedrive_failure(pipedrive_error(401, "unauthorized", "")), FlowError)
    assert isinstance(_pipedrive_failure(pipedrive_error(429, "slow down", "")), RetryableError)
    assert isinstance(_pipedrive_failure(pipedrive_error(502, "bad gateway", "")), RetryableError)
    html = httpx.Response(403, text="<html>Forbidden</html>", headers={"content-type": "text/html"})
    throttled = _pipedrive_failure(html)
    assert isinstance(throttled, ThrottledError)
    assert throttled.body == "<html>Forbidden</html>"
    missing = _pipedrive_failure(pipedrive_error(404, "not found", ""))
    assert not isinstance(missing, RetryableError | FlowError)


def test_mailchimp_problem_document_maps_with_its_instance_as_request_id() -> None:
    """A problem+json 404 is a NotFoundError whose request id is the document's instance."""
    error = _mailchimp_failure(
        mailchimp_problem(404, "Resource Not Found", "The requested resource could not be found.")
    )
    assert type(error) is NotFoundError
    assert (error.title, error.detail) == (
        "Resource Not Found",
        "The requested resource could not be found.",
    )
    assert error.request_id == "995c5cb0-3280-4a6e-808b-3b096d0bb219"
    assert error.body["status"] == 404


def test_mailchimp_request_id_header_wins_over_the_body() -> None:
    """When Mailchimp sends X-Request-Id, that header is the error's request id."""
    error = _mailchimp_failure(
        mailchimp_problem(500, "Internal Server Error", "Oops", **{"x-request-id": "hdr-1"})
    )
    assert (type(error), error.request_id) == (ServerError, "hdr-1")


@pytest.mark.parametrize(
    ("title", "detail", "cls"),
    [
        (
            "Member In Compliance State",
            (
                "ada@example.com is in a compliance state due to unsubscribe, bounce, or "
                "compliance review and cannot be subscribed."
            ),
            ComplianceStateError,
        ),
        (
            "Forgotten Email Not Subscribed",
            (
                "ada@example.com was permanently deleted and cannot be re-imported. The contact "
                "must re-subscribe to get back on the list."
            ),
            ForgottenEmailError,
        ),
        (
            "Invalid Resource",
            "ada@example.com looks fake or invalid, please enter a real email address.",
            InvalidEmailError,
        ),
        ("Invalid Resource", "Please provide a valid email address.", InvalidEmailError),
    ],
)
def test_mailchimp_member_refusals_from_a_single_call(
    title: str, detail: str, cls: type[MemberError]
) -> None:
    """Permanent member refusals of a PUT are row errors of their own class, naming the email."""
    error = _mailchimp_failure(mailchimp_problem(400, title, detail))
    assert type(error) is cls
    assert isinstance(error, RowError)
    assert isinstance(error, MemberError)
    assert error.email == ADA
    assert (error.title, error.detail, error.status_code) == (title, detail, 400)
    assert error.request_id == "995c5cb0-3280-4a6e-808b-3b096d0bb219"


def test_mailchimp_member_exists_on_an_address_change() -> None:
    """Changing an address to one the audience already has is a MemberExistsError."""
    error = _mailchimp_failure(
        mailchimp_problem(400, "Member Exists", "grace@example.com is already a list member."),
        call=_move_ada_to_grace,
    )
    assert type(error) is MemberExistsError
    assert error.email == ADA


def test_mailchimp_invalid_merge_fields_list_every_field() -> None:
    """An Invalid Resource with merge-field errors lists each field and its message."""
    error = _mailchimp_failure(
        mailchimp_problem(
            400,
            "Invalid Resource",
            "Your merge fields were invalid.",
            errors=[
                {"field": "BIRTHDAY", "message": "Please enter the date in the MM/DD format."},
                {"field": "ADDRESS", "message": "Please enter a complete address"},
            ],
        )
    )
    assert type(error) is InvalidMergeFieldsError
    assert isinstance(error, InvalidMergeFieldsError)
    assert error.field_errors == (
        ("BIRTHDAY", "Please enter the date in the MM/DD format."),
        ("ADDRESS", "Please enter a complete address"),
    )


def test_an_unknown_400_stays_a_plain_bad_request() -> None:
    """A 400 that is no known member refusal is a BadRequestError, not a row error."""
    error = _mailchimp_failure(mailchimp_problem(400, "Bad Request", "Something else."))
    assert type(error) is BadRequestError
    assert not isinstance(error, RowError)


@pytest.mark.responses_unchecked("Mailchimp's body-less 403 under load breaks the error schema")
def test_mailchimp_bodyless_403_is_throttling_not_a_permission_problem() -> None:
    """A 403 without a body is ThrottledError; a 403 problem document is PermissionDenied."""
    throttled = _mailchimp_failure(httpx.Response(403))
    denied = _mailchimp_failure(mailchimp_problem(403, "Forbidden", "You don't have permission."))
    assert (type(throttled), throttled.body) == (ThrottledError, None)
    assert type(denied) is PermissionDeniedError


def test_a_400_outside_member_paths_is_never_a_member_refusal() -> None:
    """A refused webhook URL names a field, yet it is a BadRequestError, not a merge-field one."""
    client = MailchimpClient(
        MAILCHIMP_KEY,
        transport=Script(
            [
                mailchimp_problem(
                    400,
                    "Invalid Resource",
                    "The resource submitted could not be validated.",
                    errors=[{"field": "url", "message": "The URL did not answer the check."}],
                )
            ]
        ).transport,
        retry=ONCE,
    )
    with pytest.raises(APIError) as raised:
        client.create_webhook(
            LIST_ID,
            "https://hooks.example.org/mc",
            events=WebhookEvents(),
            sources=WebhookSources(),
        )
    assert type(raised.value) is BadRequestError


@pytest.mark.responses_unchecked("the point is a response that breaks the documented shape")
def test_a_response_without_the_documented_shape_is_a_typed_error() -> None:
    """A success body that lacks what the model needs raises ResponseShapeError, not cattrs'."""
    client = PipedriveClient(
        PIPEDRIVE_TOKEN,
        transport=Script(
            [httpx.Response(200, json={"success": True, "data": {"name": "x"}})]
        ).transport,
        retry=ONCE,
    )
    with pytest.raises(ResponseShapeError) as raised:
        client.get_person(1)
    assert raised.value.operation == "getPerson"
    assert isinstance(raised.value, FlowError)
