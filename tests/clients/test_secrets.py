"""Canary secrets never show in reprs, logs or exceptions, through successes and failures."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from pdmc import Secret
from pdmc.clients import MailchimpClient, PipedriveClient, RetryPolicy
from pdmc.clients._auth import BasicAuth, BearerAuth, HeaderTokenAuth
from pdmc.clients.mailchimp import (
    AudienceWebhook,
    Batch,
    MailchimpOAuthApp,
    MemberUpsert,
    WebhookEvents,
    WebhookSources,
    data_center_of,
)
from pdmc.clients.mailchimp import converter as mailchimp_converter
from pdmc.clients.pipedrive import (
    PipedriveOAuthApp,
    PipedriveOAuthAuth,
    PipedriveTokens,
    Webhook,
)
from pdmc.clients.pipedrive import converter as pipedrive_converter
from pdmc.errors import PdmcError
from tests.cassettes.build_cassettes import (
    ADA,
    LIST_ID,
    MAILCHIMP_KEY,
    PIPEDRIVE_TOKEN,
    SIGNING_SECRET,
    WEBHOOK_PASSWORD,
    member_json,
)
from tests.clients._fakes import (
    RecordingSleep,
    Script,
    mailchimp_problem,
    person_body,
    pipedrive_error,
)
from tests.contracts import documented_example

ACCESS_TOKEN = "canary-ACCESS-TOKEN-4242"
REFRESH_TOKEN = "canary-REFRESH-TOKEN-4242"
NEW_ACCESS_TOKEN = "canary-NEW-ACCESS-4242"
NEW_REFRESH_TOKEN = "canary-NEW-REFRESH-4242"
CLIENT_SECRET = "canary-CLIENT-SECRET-4242"
CANARIES = (
    PIPEDRIVE_TOKEN,
    MAILCHIMP_KEY,
    WEBHOOK_PASSWORD,
    SIGNING_SECRET,
    ACCESS_TOKEN,
    REFRESH_TOKEN,
    NEW_ACCESS_TOKEN,
    NEW_REFRESH_TOKEN,
    CLIENT_SECRET,
)
FORBIDDEN = (
    *CANARIES,
    *(base64.b64encode(f"pdmc:{c}".encode()).decode() for c in CANARIES),
    base64.b64encode(f"app:{CLIENT_SECRET}".encode()).decode(),
    "4242",  # any fragment of a canary is a leak too
)


def _assert_clean(text: str, where: str) -> None:
    for secret in FORBIDDEN:
        assert secret not in text, f"{secret!r} leaked into {where}: {text!r}"


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [current.__cause__, current.__context__]
        if isinstance(current, BaseExceptionGroup):
            pending += list(current.exceptions)


class Run:
    """Calls that may fail; keeps every exception they raise."""

    def __init__(self) -> None:
        self.errors: list[BaseException] = []

    def __call__(self, call: Callable[[], Any]) -> None:
        try:
            call()
        except (PdmcError, httpx.HTTPError) as error:
            self.errors.append(error)


def _pipedrive_calls(run: Run) -> list[object]:
    replies = [
        pipedrive_error(503, "Service Unavailable", "later"),  # retried
        httpx.Response(200, json=person_body()),
        pipedrive_error(401, "unauthorized access", "the token is invalid"),
        pipedrive_error(404, "Person not found", "no such id"),
        httpx.ReadTimeout("timed out"),
        httpx.ReadTimeout("timed out"),
        httpx.Response(
            200, content=b'{"success": tr', headers={"content-type": "application/json"}
        ),
        httpx.Response(
            200, content=b'{"success": tr', headers={"content-type": "application/json"}
        ),
        httpx.Response(
            201,
            json={
                **documented_example("addWebhook", "201"),
                "data": {
                    **documented_example("addWebhook", "201")["data"],
                    "http_auth_password": WEBHOOK_PASSWORD,
                },
            },
        ),
    ]
    client = PipedriveClient(
        PIPEDRIVE_TOKEN,
        transport=Script(replies).transport,
        sleep=RecordingSleep(),
        retry=RetryPolicy(attempts=2),
    )
    run(lambda: client.get_person(1))
    run(lambda: client.get_person(2))
    run(lambda: client.get_person(3))
    run(lambda: client.get_person(4))
    run(lambda: client.get_person(5))
    webhooks: list[Webhook] = []
    run(
        lambda: webhooks.append(
            client.create_webhook(
                subscription_url="https://sync.example.com/hooks/pipedrive",
                event_action="*",
                event_object="person",
                name="pdmc",
                http_auth_user="pdmc",
                http_auth_password=Secret(WEBHOOK_PASSWORD),
            )
        )
    )
    return [client, client._http.core, *webhooks]


def _pipedrive_oauth_calls(run: Run) -> list[object]:
    app = PipedriveOAuthApp(
        client_id="app",
        client_secret=Secret(CLIENT_SECRET),
        redirect_uri="https://app.example/cb",
        clock=lambda: datetime(2024, 3, 1, tzinfo=UTC),
    )
    tokens = PipedriveTokens(
        access_token=Secret(ACCESS_TOKEN),
        refresh_token=Secret(REFRESH_TOKEN),
        expires_at=datetime(2024, 3, 1, tzinfo=UTC) + timedelta(hours=1),
        api_domain="https://acme.pipedrive.com",
    )
    fresh = {
        **documented_example("get-tokens"),
        "access_token": NEW_ACCESS_TOKEN,
        "refresh_token": NEW_REFRESH_TOKEN,
        "api_domain": "https://acme.pipedrive.com",
    }
    replies = [
        httpx.Response(401, json=documented_example("getCurrentUser", "401")),
        httpx.Response(200, json=fresh),  # the refresh
        httpx.Response(200, json=person_body()),
        httpx.Response(400, json={"error": "invalid_grant", "message": "refresh token invalid"}),
    ]
    script = Script(replies)
    auth = PipedriveOAuthAuth(app, tokens, on_refresh=lambda _: None)
    client = PipedriveClient(oauth=auth, transport=script.transport, retry=RetryPolicy(attempts=1))
    run(lambda: client.get_person(1))
    with httpx.Client(transport=script.transport) as http:
        run(lambda: app.refresh(auth.tokens, http_client=http))
    return [app, tokens, auth, auth.tokens, client]


def _mailchimp_calls(run: Run) -> list[object]:
    finished = {
        "id": "b1",
        "status": "finished",
        "response_body_url": "https://mailchimp-api-batch.s3.amazonaws.com/b1.tar.gz?Signature=example",
    }
    replies = [
        httpx.Response(403),  # throttled, retried
        httpx.Response(200, json=member_json(ADA)),
        mailchimp_problem(401, "API Key Invalid", "Your API key may be invalid."),
        mailchimp_problem(400, "Member In Compliance State", f"{ADA} is in a compliance state."),
        httpx.Response(
            200,
            json={
                "id": "w1",
                "url": "https://sync.example.com/hooks/mailchimp",
                "list_id": LIST_ID,
                "signing_enabled": True,
                "signing_secret": SIGNING_SECRET,
            },
        ),
        httpx.Response(403, text="AccessDenied"),  # the pre-signed download refused
        httpx.ConnectError("connection reset"),
    ]
    client = MailchimpClient(
        MAILCHIMP_KEY, transport=Script(replies).transport, sleep=RecordingSleep()
    )
    webhooks: list[AudienceWebhook] = []
    upsert = MemberUpsert(email_address=ADA, status_if_new="subscribed")
    run(lambda: client.get_member(LIST_ID, ADA))
    run(client.ping)
    run(lambda: client.upsert_member(LIST_ID, upsert))
    run(
        lambda: webhooks.append(
            client.create_webhook(
                LIST_ID,
                "https://sync.example.com/hooks/mailchimp",
                events=WebhookEvents(subscribe=True),
                sources=WebhookSources(user=True),
            )
        )
    )
    batch = mailchimp_converter.structure(finished, Batch)
    run(lambda: client.get_batch_results(batch))
    run(lambda: client.get_batch_results(batch))
    run(lambda: MailchimpClient("canary-4242-no-data-centre"))
    run(lambda: data_center_of(Secret("canary-4242")))
    return [client, client._http.core, *webhooks]


def _mailchimp_oauth_calls(run: Run) -> list[object]:
    app = MailchimpOAuthApp(
        client_id="mc", client_secret=Secret(CLIENT_SECRET), redirect_uri="https://app.example/mc"
    )
    replies = [
        httpx.Response(200, json={"access_token": ACCESS_TOKEN}),
        httpx.Response(200, json={"dc": "us6", "api_endpoint": "https://us6.api.mailchimp.com"}),
        httpx.Response(400, json={"error": "invalid_grant", "error_description": "bad code"}),
    ]
    with httpx.Client(transport=Script(replies).transport) as http:
        token = app.exchange_code("code", http_client=http)
        metadata = app.metadata(token, http_client=http)
        run(lambda: app.exchange_code("stale", http_client=http))
    client = MailchimpClient(oauth_token=token, data_center=metadata.dc)
    return [app, token, metadata, client, BearerAuth(token)]


@pytest.mark.responses_unchecked("throttling, truncated bodies and refusals are the point")
def test_canaries_never_leak_through_a_run_of_calls(caplog: pytest.LogCaptureFixture) -> None:
    """Across successes, retries and failures, no repr, log line or exception shows a secret."""
    run = Run()
    with caplog.at_level(logging.DEBUG):
        objects = [
            *_pipedrive_calls(run),
            *_pipedrive_oauth_calls(run),
            *_mailchimp_calls(run),
            *_mailchimp_oauth_calls(run),
            HeaderTokenAuth("x-api-token", Secret(PIPEDRIVE_TOKEN)),
            BasicAuth("pdmc", Secret(MAILCHIMP_KEY)),
            pipedrive_converter.structure(
                {
                    **documented_example("getWebhooks")["data"][0],
                    "http_auth_password": WEBHOOK_PASSWORD,
                },
                Webhook,
            ),
        ]
    # The run did meet trouble: retries were logged and a dozen calls failed.
    assert any("retrying" in record.getMessage() for record in caplog.records)
    assert len(run.errors) >= 10
    for obj in objects:
        _assert_clean(repr(obj), f"repr of {type(obj).__name__}")
        _assert_clean(str(obj), f"str of {type(obj).__name__}")
    for record in caplog.records:
        _assert_clean(record.getMessage(), f"log record {record.name}")
        _assert_clean(repr(record.args), f"log arguments of {record.name}")
    _assert_clean(caplog.text, "the captured log")
    for error in run.errors:
        for link in _chain(error):
            where = f"{type(link).__name__} (raised as {type(error).__name__})"
            _assert_clean(str(link), where)
            _assert_clean(repr(link), where)
            _assert_clean(repr(link.args), where)
            _assert_clean(repr(getattr(link, "__notes__", [])), where)
            _assert_clean(repr(getattr(link, "body", None)), where)
            _assert_clean(str(getattr(link, "url", "")), where)


def test_secret_fields_of_models_stay_secret() -> None:
    """A signing secret is kept as a Secret and a webhook password is not kept at all."""
    webhook = mailchimp_converter.structure(
        {"id": "w1", "url": "https://x.example", "signing_secret": SIGNING_SECRET}, AudienceWebhook
    )
    assert isinstance(webhook.signing_secret, Secret)
    assert webhook.signing_secret.reveal() == SIGNING_SECRET
    _assert_clean(repr(webhook), "AudienceWebhook")
    body = {**documented_example("getWebhooks")["data"][0], "http_auth_password": WEBHOOK_PASSWORD}
    _assert_clean(repr(pipedrive_converter.structure(body, Webhook)), "Webhook")
