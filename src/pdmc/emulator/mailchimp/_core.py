"""The state and the plumbing of the emulated Mailchimp: accounts, credentials, errors.

:class:`MailchimpCore` holds every account and audience and implements the
:class:`~pdmc.emulator._service.Service` hooks: which hosts it serves, who may call
(API keys and OAuth tokens, as Basic or Bearer, on the right data centre), how
errors look (``application/problem+json``), partial responses (``fields``,
``exclude_fields``), webhook events and their delivery, and the background
``/batches`` catching up with the clock. The operations live in the subclasses.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import re
import secrets
from collections.abc import Iterable
from typing import Any, ClassVar, Final

from pdmc._secret import Secret
from pdmc.emulator._clock import EmulatorClock
from pdmc.emulator._service import APIProblem, EmulatedRequest, EmulatedResponse, Route, Service
from pdmc.emulator._webhooks import WebhookDelivery, WebhookHandler, post_over_http
from pdmc.emulator.mailchimp import _problems
from pdmc.emulator.mailchimp._audience import Audience, WriteOutcome
from pdmc.emulator.mailchimp._batches import Batch
from pdmc.emulator.mailchimp._events import DeliveryQueue, delivery_for, event_body
from pdmc.emulator.mailchimp._records import Account, Member, OAuthApp, stable_hex
from pdmc.emulator.mailchimp._wire import partial

__all__ = ["LOGIN_HOST", "MailchimpCore"]

LOGIN_HOST: Final = "login.mailchimp.com"
_API_HOST: Final = re.compile(r"^(?:(?P<dc>[a-z]+[0-9]+)\.)?api\.mailchimp\.com$")
_ERROR_DOCS: Final = "https://mailchimp.com/developer/marketing/docs/errors/"
#: results downloads are pre-signed URLs; OAuth endpoints check their own credentials
_UNAUTHENTICATED: Final = frozenset({"downloadBatchResults"})


class MailchimpCore(Service):
    """State and hooks shared by every emulated Mailchimp operation."""

    name: ClassVar[str] = "mailchimp"
    connection_limit: ClassVar[int | None] = 10

    def __init__(self, clock: EmulatorClock | None = None) -> None:
        super().__init__()
        self.clock = clock or EmulatorClock()
        #: receives webhook deliveries (and validation GETs); ``None`` posts over HTTP
        self.webhook_handler: WebhookHandler | None = None
        self.accounts: dict[str, Account] = {}
        self.audiences: dict[str, Audience] = {}
        self.batches: dict[str, Batch] = {}
        self._credentials: dict[str, Account] = {}
        self._segment_ids = itertools.count(10001)
        self._audience_numbers = itertools.count(1)
        self._instances = itertools.count(1)
        self._deliveries = DeliveryQueue()
        self._catching_up = False
        self.oauth_apps: dict[str, OAuthApp] = {}
        self._codes: dict[str, tuple[str, str]] = {}
        self._webhook_numbers = itertools.count(1)
        self._batch_numbers = itertools.count(1)
        #: scripted per-row failures of batch subscribe: (list id, subscriber hash) -> rows left
        self.row_failures: dict[tuple[str, str], int] = {}

    # ------------------------------------------------------------ Service hooks

    def serves(self, host: str) -> bool:
        return host == LOGIN_HOST or _API_HOST.match(host) is not None

    def admit(self, route: Route, request: EmulatedRequest) -> EmulatedResponse | None:
        self.catch_up()
        on_login_host = route.template.startswith("/oauth2/")
        if (request.host == LOGIN_HOST) != on_login_host and not _served_over_http(request):
            return self.render_problem(_problems.not_found())
        if route.operation_id in _UNAUTHENTICATED or on_login_host:
            return None
        try:
            self.caller(request)
        except APIProblem as problem:
            return self.render_problem(problem)
        return None

    def finish(
        self, route: Route | None, request: EmulatedRequest, response: EmulatedResponse
    ) -> tuple[EmulatedResponse, int]:
        wanted, unwanted = request.arg("fields"), request.arg("exclude_fields")
        is_json = response.headers.get("content-type") == "application/json"
        if (wanted or unwanted) and is_json and route is not None and route.method == "GET":
            payload = partial(json.loads(response.body), wanted, unwanted)
            response = EmulatedResponse.json(response.status, payload, **dict(response.headers))
        return response.with_headers(**{"x-request-id": self._instance()}), 0

    def render_problem(self, problem: APIProblem) -> EmulatedResponse:
        body: dict[str, Any] = {
            "type": _ERROR_DOCS,
            "title": problem.title,
            "status": problem.status,
            "detail": problem.detail,
            "instance": self._instance(),
        }
        if problem.errors:
            body["errors"] = problem.errors
        return EmulatedResponse.json(
            problem.status, body, content_type="application/problem+json", **problem.headers
        )

    def _instance(self) -> str:
        # Deterministic, so two runs of the same test see the same ids.
        number = next(self._instances)
        digest = stable_hex("instance", number, length=32)
        return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:]}"

    # -------------------------------------------------------------- credentials

    def new_credential(self, account: Account) -> Secret:
        """A fresh API key for ``account`` (ending in its data centre)."""
        secret = Secret(f"{secrets.token_hex(16)}-{account.data_center}")
        self._credentials[secret.reveal()] = account
        return secret

    def new_token(self, account: Account) -> Secret:
        """A fresh OAuth access token for ``account`` (tokens never expire)."""
        secret = Secret(secrets.token_hex(16))
        self._credentials[secret.reveal()] = account
        return secret

    def revoke(self, credential: Secret) -> None:
        """Make an API key or OAuth token stop working (the next call gets 401)."""
        self._credentials.pop(credential.reveal(), None)

    def caller(self, request: EmulatedRequest) -> Account:
        """The account whose credential the request carries.

        Raises:
            APIProblem: 401 when the credential is missing, unknown, or meant for
                another data centre.
        """
        credential = _credential_of(request.headers.get("authorization", ""))
        if credential is None:
            raise APIProblem(401, "API Key Missing", "Your request did not include an API key.")
        account = self._credentials.get(credential)
        host = _API_HOST.match(request.host)
        wrong_dc = host is not None and host["dc"] not in {None, account and account.data_center}
        if account is None or (wrong_dc and not _served_over_http(request)):
            raise APIProblem(
                401,
                "API Key Invalid",
                "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
            )
        return account

    def audience_of(self, request: EmulatedRequest) -> Audience:
        """The audience in the path, if the caller's account owns it (else 404)."""
        audience = self.audiences.get(request.path_params.get("list_id", ""))
        if audience is None or audience.account_id != self.caller(request).id:
            raise _problems.not_found()
        return audience

    def member_of(self, request: EmulatedRequest) -> tuple[Audience, Member]:
        """The audience and the member in the path (by hash or address), else 404."""
        audience = self.audience_of(request)
        member = audience.find(request.path_params.get("subscriber_hash", ""))
        if member is None:
            raise _problems.not_found()
        return audience, member

    # ------------------------------------------------------------------ webhooks

    def notify(self, audience: Audience, outcome: WriteOutcome, source: str) -> None:
        """Queue the webhook events a write caused, for every webhook that wants them."""
        self.emit(audience, outcome.member, outcome.events, source, outcome.old_email)

    def emit(
        self,
        audience: Audience,
        member: Member,
        events: Iterable[str],
        source: str,
        old_email: str | None = None,
    ) -> None:
        """Queue ``events`` about ``member`` caused by ``source`` (user, admin or api)."""
        now = self.clock.time()
        for event in events:
            hooks = [hook for hook in audience.webhooks.values() if hook.wants(event, source)]
            if hooks:
                body = event_body(event, now, audience.event_data(member, event, old_email))
                for hook in hooks:
                    self._deliveries.push(hook, body, due=now)

    def send(self, delivery: WebhookDelivery) -> int:
        """Hand one delivery to the handler (or HTTP); return the status it answered."""
        return (self.webhook_handler or post_over_http)(delivery)

    def deliver_webhooks(self) -> int:
        """Deliver every webhook attempt due now; return how many were attempted.

        Failed attempts are queued again (see ``_events.RETRY_DELAYS``). The lock is
        not held while a handler runs, so a handler may call the emulator back.
        """
        with self.lock:
            self.catch_up()
            now = self.clock.time()
            due = self._deliveries.pop_due(now)
        for hook, body, attempt in due:
            status = self.send(delivery_for(hook, body, attempt, now))
            if not 200 <= status < 300:  # noqa: PLR2004 - any 2xx is a success
                with self.lock:
                    audience = self.audiences.get(hook.list_id)
                    if audience is not None and hook.id in audience.webhooks:
                        self._deliveries.retry(hook, body, attempt, self.clock.time())
        return len(due)

    @property
    def pending_deliveries(self) -> int:
        """Webhook attempts waiting for their time (first attempts and retries)."""
        return len(self._deliveries)

    def forget_deliveries(self, webhook_id: str) -> None:
        """Drop the queued attempts of a deleted webhook."""
        self._deliveries.drop(webhook_id)

    # ------------------------------------------------------------------- batches

    def catch_up(self) -> None:
        """Run every ``/batches`` operation whose time has come on the clock."""
        if self._catching_up:
            return
        with self.lock:
            self._catching_up = True
            try:
                now = self.clock.time()
                for batch in self.batches.values():
                    for operation in batch.operations[len(batch.results) : batch.due(now)]:
                        status, body = self._run_operation(batch, operation)
                        batch.record(operation, status, body)
            finally:
                self._catching_up = False

    def _run_operation(self, batch: Batch, operation: dict[str, Any]) -> tuple[int, bytes]:
        account = self.accounts[batch.account_id]
        path = "/3.0" + str(operation["path"]).removeprefix("/3.0")
        params = operation.get("params") or {}
        request = EmulatedRequest(
            method=str(operation["method"]).upper(),
            host=f"{account.data_center}.api.mailchimp.com",
            path=path.split("?")[0],
            query={k: [_query_text(v)] for k, v in params.items()},
            headers={"authorization": f"Bearer {account.api_key.reveal()}"},
            body=str(operation.get("body") or "").encode(),
        )
        found = self.match(request.method, request.path)
        if found is None:
            response = self.render_problem(_problems.not_found())
        else:
            route, path_params = found
            routed = EmulatedRequest(
                method=request.method,
                host=request.host,
                path=request.path,
                query=request.query,
                headers=request.headers,
                body=request.body,
                path_params=path_params,
            )
            try:
                response = getattr(self, route.handler)(routed)
            except APIProblem as problem:
                response = self.render_problem(problem)
        return response.status, response.body

    @staticmethod
    def base_url(request: EmulatedRequest) -> str:
        """The scheme and host the caller used (the local server's, when served)."""
        if _served_over_http(request):
            return f"http://{request.headers['host']}"
        return f"https://{request.host}"


def _served_over_http(request: EmulatedRequest) -> bool:
    """Whether the request reached the emulator through its local HTTP server."""
    sent_to = request.headers.get("host", request.host)
    return sent_to.split(":")[0] != request.host


def _credential_of(header: str) -> str | None:
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() in {"bearer", "oauth"} and value:
        return value
    if scheme.lower() == "basic" and value:
        try:
            pair = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return pair.partition(":")[2] or None
    return None


def _query_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)
