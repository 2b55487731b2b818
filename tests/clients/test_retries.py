"""Retries: what is retried, how long the client waits, and what it never repeats."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from pdmc.clients import AsyncPipedriveClient, MailchimpClient, PipedriveClient, RetryPolicy
from pdmc.clients.pipedrive import PersonInput
from pdmc.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    QuotaExhaustedError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    UnprocessableEntityError,
)
from tests.cassettes.build_cassettes import (
    ADA,
    LIST_ID,
    MAILCHIMP_KEY,
    PIPEDRIVE_TOKEN,
    member_json,
)
from tests.clients._fakes import (
    AsyncRecordingSleep,
    RecordingSleep,
    Script,
    mailchimp_problem,
    person_body,
    pipedrive_error,
)

OK = httpx.Response(200, json=person_body())
CREATED = httpx.Response(200, json=person_body())  # addPerson answers 200
UNAVAILABLE = pipedrive_error(503, "Service Unavailable", "Please try again later")


def _pipedrive(
    script: Script, sleep: RecordingSleep, retry: RetryPolicy | None = None
) -> PipedriveClient:
    # The pacer reads the clock the recording sleep moves, so waits add up as in life.
    return PipedriveClient(
        PIPEDRIVE_TOKEN,
        transport=script.transport,
        sleep=sleep,
        clock=sleep.clock,
        retry=retry or RetryPolicy(jitter=random.Random(7).random),  # noqa: S311 - jitter
    )


def _throttled(**headers: str) -> httpx.Response:
    return pipedrive_error(429, "Too many requests", "Rate limit exceeded", **headers)


def test_429_waits_the_retry_after_seconds() -> None:
    """A 429 with Retry-After in seconds waits exactly that long, then succeeds."""
    script, sleep = Script([_throttled(**{"retry-after": "7"}), OK]), RecordingSleep()
    person = _pipedrive(script, sleep).get_person(1)
    assert person.id == 1
    assert sleep.waits == [7.0]


def test_429_waits_until_the_retry_after_http_date() -> None:
    """A Retry-After HTTP date is turned into the seconds left until it."""
    when = datetime.now(UTC) + timedelta(seconds=120)
    script = Script([_throttled(**{"retry-after": format_datetime(when, usegmt=True)}), OK])
    sleep = RecordingSleep()
    _pipedrive(script, sleep, RetryPolicy(max_wait=300)).get_person(1)
    (wait,) = sleep.waits
    assert 100 < wait <= 120


@pytest.mark.parametrize(
    "advice",
    ["3600", format_datetime(datetime.now(UTC) + timedelta(days=1), usegmt=True)],
    ids=["seconds", "http-date"],
)
def test_a_retry_after_beyond_max_wait_is_not_waited_for(advice: str) -> None:
    """A 429 asking for more than max_wait raises QuotaExhaustedError at once, unretried."""
    script, sleep = Script([_throttled(**{"retry-after": advice}), OK]), RecordingSleep()
    client = _pipedrive(script, sleep, RetryPolicy(max_wait=30))
    with pytest.raises(QuotaExhaustedError) as caught:
        client.get_person(1)
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 3000
    assert sleep.waits == []
    assert (client.usage.requests, client.usage.retries) == (1, 0)


def test_one_wait_never_exceeds_max_wait() -> None:
    """The policy's computed wait for advice above max_wait is capped (for callers using it)."""
    error = RateLimitError("slow down", status_code=429, method="GET", url="/x")
    error.retry_after = 3600.0
    assert RetryPolicy(max_wait=30).wait_seconds(error, 1) == 30.0


def test_429_with_only_the_rate_limit_reset_header() -> None:
    """Without Retry-After, Pipedrive's x-ratelimit-reset tells how long to wait."""
    script = Script([_throttled(**{"x-ratelimit-remaining": "0", "x-ratelimit-reset": "3"}), OK])
    sleep = RecordingSleep()
    client = _pipedrive(script, sleep)
    client.get_person(1)
    assert sleep.waits == [3.0]
    usage = client.usage
    assert (usage.requests, usage.retries, usage.rate_limited) == (2, 1, 1)
    assert usage.tokens == 1  # the refused try costs nothing


def test_503_then_success() -> None:
    """A 5xx is retried after a backoff wait."""
    script, sleep = Script([UNAVAILABLE, OK]), RecordingSleep()
    assert _pipedrive(script, sleep).get_person(1).id == 1
    assert len(script.requests) == 2
    assert len(sleep.waits) == 1


def test_timeout_then_success_on_a_read() -> None:
    """A GET that timed out is sent again."""
    script, sleep = Script([httpx.ReadTimeout("timed out"), OK]), RecordingSleep()
    assert _pipedrive(script, sleep).get_person(1).id == 1
    assert len(script.requests) == 2


@pytest.mark.responses_unchecked("Mailchimp's body-less 403 under load breaks the error schema")
def test_bodyless_403_then_success_on_mailchimp() -> None:
    """Mailchimp's 403 without a body is load shedding: retried, then the call succeeds."""
    script = Script([httpx.Response(403), httpx.Response(200, json=member_json(ADA))])
    sleep = RecordingSleep()
    with MailchimpClient(MAILCHIMP_KEY, transport=script.transport, sleep=sleep) as client:
        member = client.get_member(LIST_ID, ADA)
    assert member.email_address == ADA
    assert len(script.requests) == 2
    assert client.usage.rate_limited == 1


def test_html_403_then_success_on_pipedrive() -> None:
    """Pipedrive's HTML 403 (after ignored 429s) is throttling: retried, then success."""
    html = httpx.Response(403, text="<html><body>Forbidden</body></html>")
    script, sleep = Script([html, OK]), RecordingSleep()
    assert _pipedrive(script, sleep).get_person(1).id == 1
    assert len(script.requests) == 2


@pytest.mark.responses_unchecked("a truncated JSON body is the fault under test")
def test_truncated_json_then_success() -> None:
    """A 200 whose JSON is cut short is retried like a transient failure."""
    truncated = httpx.Response(
        200, content=OK.content[:40], headers={"content-type": "application/json"}
    )
    script, sleep = Script([truncated, OK]), RecordingSleep()
    assert _pipedrive(script, sleep).get_person(1).id == 1
    assert len(script.requests) == 2


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (404, NotFoundError),
        (422, UnprocessableEntityError),
    ],
)
def test_permanent_errors_are_sent_once(status: int, error: type[APIError]) -> None:
    """400, 401, 404 and 422 are never retried: exactly one request, the mapped error."""
    script, sleep = (
        Script([pipedrive_error(status, "refused", "permanently"), OK]),
        RecordingSleep(),
    )
    with pytest.raises(error):
        _pipedrive(script, sleep).get_person(1)
    assert len(script.requests) == 1
    assert sleep.waits == []


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_permanent_mailchimp_errors_are_sent_once(status: int) -> None:
    """Mailchimp's problem documents with a permanent status are not retried either."""
    script = Script([mailchimp_problem(status, "Refused", "permanently")])
    with (
        MailchimpClient(
            MAILCHIMP_KEY, transport=script.transport, sleep=RecordingSleep()
        ) as client,
        pytest.raises(APIError) as raised,
    ):
        client.get_member(LIST_ID, ADA)
    assert raised.value.status_code == status
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    ("fault", "error"),
    [(httpx.ReadTimeout("timed out"), RequestTimeoutError), (UNAVAILABLE, ServerError)],
    ids=["timeout", "503"],
)
def test_a_create_is_not_repeated_after_a_timeout_or_5xx(
    fault: Exception | httpx.Response, error: type[Exception]
) -> None:
    """addPerson may have been applied: after a timeout or 5xx it surfaces, never repeats."""
    script, sleep = Script([fault, CREATED]), RecordingSleep()
    with pytest.raises(error):
        _pipedrive(script, sleep).create_person(PersonInput(name="Ada"))
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    "fault",
    [_throttled(**{"retry-after": "1"}), httpx.ConnectError("connection refused")],
    ids=["429", "refused-connection"],
)
def test_a_create_is_repeated_when_surely_not_applied(fault: Exception | httpx.Response) -> None:
    """addPerson is retried after a 429 or a refused connection: nothing was created."""
    script, sleep = Script([fault, CREATED]), RecordingSleep()
    assert _pipedrive(script, sleep).create_person(PersonInput(name="Ada")).id == 1
    assert len(script.requests) == 2


def test_attempts_are_configurable_and_only_real_waits_count() -> None:
    """attempts=3 sends three tries, waits twice, and usage.waited sums those waits."""
    script, sleep = Script([UNAVAILABLE] * 3), RecordingSleep()
    client = _pipedrive(script, sleep, RetryPolicy(attempts=3, jitter=lambda: 1.0))
    with pytest.raises(ServerError):
        client.get_person(1)
    assert len(script.requests) == 3
    assert sleep.waits == [0.5, 1.0]
    assert client.usage.waited == pytest.approx(1.5)
    assert client.usage.retries == 2


def test_no_wait_policy_makes_every_wait_zero() -> None:
    """RetryPolicy.no_wait() keeps retrying but never waits, even when told to."""
    replies = [_throttled(**{"retry-after": "30"}), UNAVAILABLE, UNAVAILABLE, OK]
    script, sleep = Script(replies), RecordingSleep()
    assert _pipedrive(script, sleep, RetryPolicy.no_wait()).get_person(1).id == 1
    assert sleep.waits == [0.0, 0.0, 0.0]


def test_backoff_grows_exponentially_with_seeded_jitter_within_the_cap() -> None:
    """Backoff is initial * 2**(n-1), capped, times a jitter drawn from the given source."""
    policy = RetryPolicy(
        attempts=6,
        initial_wait=1.0,
        max_wait=5.0,
        jitter=random.Random(42).random,  # noqa: S311
    )
    script, sleep = Script([UNAVAILABLE] * 6), RecordingSleep()
    with pytest.raises(ServerError):
        _pipedrive(script, sleep, policy).get_person(1)
    draws = random.Random(42)  # noqa: S311 - the same seeded jitter
    ceilings = [1.0, 2.0, 4.0, 5.0, 5.0]
    assert sleep.waits == pytest.approx([ceiling * draws.random() for ceiling in ceilings])
    assert all(0 <= wait <= ceiling for wait, ceiling in zip(sleep.waits, ceilings, strict=True))


def test_rate_limit_error_carries_the_advised_wait_when_retries_run_out() -> None:
    """When the last try is a 429, RateLimitError says how long the service asked to wait."""
    script = Script([_throttled(**{"retry-after": "12"})] * 2)
    with pytest.raises(RateLimitError) as raised:
        _pipedrive(script, RecordingSleep(), RetryPolicy(attempts=2)).get_person(1)
    assert raised.value.retry_after == 12.0


async def test_async_client_retries_with_its_async_sleep() -> None:
    """The async client retries the same way and waits through its async sleep."""
    script, sleep = (
        Script([_throttled(**{"retry-after": "2"}), UNAVAILABLE, OK]),
        AsyncRecordingSleep(),
    )
    async with AsyncPipedriveClient(
        PIPEDRIVE_TOKEN,
        transport=script.transport,
        sleep=sleep,
        retry=RetryPolicy(jitter=lambda: 0.5),
    ) as client:
        person = await client.get_person(1)
    assert person.id == 1
    assert sleep.waits == [2.0, 0.5]
