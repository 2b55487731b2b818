"""What integrations use: audience webhooks, ``/batches`` and OAuth at login.mailchimp.com.

Two endpoints here are not in the Marketing contract: the OAuth token and metadata
endpoints on ``login.mailchimp.com``, and the download of a finished batch's results
(served by the emulator at ``/batch-results/<id>.tar.gz`` where Mailchimp hands out
a pre-signed storage URL).
"""

from __future__ import annotations

import secrets
from typing import Any, Final

from pdmc._secret import Secret
from pdmc.emulator._service import APIProblem, EmulatedRequest, EmulatedResponse, operation
from pdmc.emulator.mailchimp import _problems
from pdmc.emulator.mailchimp._api_audiences import AudienceOperations
from pdmc.emulator.mailchimp._audience import Audience
from pdmc.emulator.mailchimp._batches import Batch
from pdmc.emulator.mailchimp._core import LOGIN_HOST
from pdmc.emulator.mailchimp._events import EVENT_TYPES, SOURCES, Webhook, validation_request
from pdmc.emulator.mailchimp._records import Account, stable_hex
from pdmc.emulator.mailchimp._wire import body_of, boolean, page_of, string

__all__ = ["IntegrationOperations"]

_LIST: Final = "/3.0/lists/{list_id}"
_METHODS: Final = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
#: what a webhook gets when the request leaves ``events`` or ``sources`` out
_DEFAULT_EVENTS: Final = {event: event != "campaign" for event in EVENT_TYPES}
_DEFAULT_SOURCES: Final = {"user": True, "admin": True, "api": False}


def _oauth_error(status: int, error: str, description: str) -> EmulatedResponse:
    return EmulatedResponse.json(status, {"error": error, "error_description": description})


def _switches(
    body: dict[str, Any], name: str, names: tuple[str, ...], default: dict[str, bool]
) -> dict[str, bool]:
    given = body.get(name)
    if given is None:
        return dict(default)
    if not isinstance(given, dict) or not all(isinstance(v, bool) for v in given.values()):
        raise _problems.invalid(name, f"{name} maps {', '.join(names)} to booleans")
    return {key: bool(given.get(key, False)) for key in names}


class IntegrationOperations(AudienceOperations):
    """Webhooks, batches and OAuth."""

    # ------------------------------------------------------------------ webhooks

    def _webhook_of(self, request: EmulatedRequest) -> tuple[Audience, Webhook]:
        audience = self.audience_of(request)
        webhook = audience.webhooks.get(request.path_params.get("webhook_id", ""))
        if webhook is None:
            raise _problems.not_found()
        return audience, webhook

    def _validate_url(self, url: str | None) -> str:
        if not url or not url.startswith(("http://", "https://")):
            raise _problems.invalid("url", "The webhook URL must be an http or https URL.")
        status = self.send(validation_request(url))
        if status != 200:  # noqa: PLR2004 - Mailchimp wants exactly 200
            raise _problems.invalid(
                "url",
                f"The URL answered {status or 'nothing'} to Mailchimp's validation GET request; "
                "it must answer 200.",
            )
        return url

    @operation("GET", _LIST + "/webhooks", "getListsIdWebhooks")
    def api_list_webhooks(self, request: EmulatedRequest) -> EmulatedResponse:
        audience = self.audience_of(request)
        hooks = [hook.wire() for hook in audience.webhooks.values()]
        return EmulatedResponse.json(
            200, {"webhooks": hooks, "list_id": audience.id, "total_items": len(hooks)}
        )

    @operation("POST", _LIST + "/webhooks", "postListsIdWebhooks")
    def api_create_webhook(self, request: EmulatedRequest) -> EmulatedResponse:
        audience = self.audience_of(request)
        body = body_of(request)
        url = self._validate_url(string(body, "url", required=True))
        if any(hook.url == url for hook in audience.webhooks.values()):
            raise _problems.invalid("url", "This audience already has a webhook with that URL.")
        signed = boolean(body, "signing_enabled")
        secret = Secret(secrets.token_hex(32)) if signed is not False else None
        webhook = Webhook(
            id=stable_hex("webhook", audience.id, next(self._webhook_numbers)),
            list_id=audience.id,
            url=url,
            events=_switches(body, "events", EVENT_TYPES, _DEFAULT_EVENTS),
            sources=_switches(body, "sources", SOURCES, _DEFAULT_SOURCES),
            signing_secret=secret,
        )
        audience.webhooks[webhook.id] = webhook
        wire = webhook.wire()
        if secret is not None:
            wire["signing_secret"] = secret.reveal()  # shown this once, never again
        return EmulatedResponse.json(200, wire)

    @operation("GET", _LIST + "/webhooks/{webhook_id}", "getListsIdWebhooksId")
    def api_get_webhook(self, request: EmulatedRequest) -> EmulatedResponse:
        return EmulatedResponse.json(200, self._webhook_of(request)[1].wire())

    @operation("PATCH", _LIST + "/webhooks/{webhook_id}", "patchListsIdWebhooksId")
    def api_update_webhook(self, request: EmulatedRequest) -> EmulatedResponse:
        _, webhook = self._webhook_of(request)
        body = body_of(request)
        url = string(body, "url")
        if url is not None and url != webhook.url:
            webhook.url = self._validate_url(url)
        if "events" in body:
            webhook.events = _switches(body, "events", EVENT_TYPES, _DEFAULT_EVENTS)
        if "sources" in body:
            webhook.sources = _switches(body, "sources", SOURCES, _DEFAULT_SOURCES)
        return EmulatedResponse.json(200, webhook.wire())

    @operation("DELETE", _LIST + "/webhooks/{webhook_id}", "deleteListsIdWebhooksId")
    def api_delete_webhook(self, request: EmulatedRequest) -> EmulatedResponse:
        audience, webhook = self._webhook_of(request)
        del audience.webhooks[webhook.id]
        self.forget_deliveries(webhook.id)
        return EmulatedResponse(status=204)

    # ------------------------------------------------------------------- batches

    def _batch_of(self, request: EmulatedRequest) -> Batch:
        batch = self.batches.get(request.path_params.get("batch_id", ""))
        if batch is None or batch.account_id != self.caller(request).id:
            raise _problems.not_found()
        return batch

    @operation("POST", "/3.0/batches", "postBatches")
    def api_submit_batch(self, request: EmulatedRequest) -> EmulatedResponse:
        account = self.caller(request)
        operations = body_of(request).get("operations")
        if not isinstance(operations, list):
            raise _problems.invalid("operations", "This value should be a list of operations.")
        for index, item in enumerate(operations):
            where = f"operations[{index}]"
            if not isinstance(item, dict) or str(item.get("method", "")).upper() not in _METHODS:
                raise _problems.invalid(where, "Each operation needs a method (GET, POST, ...).")
            if not isinstance(item.get("path"), str) or not isinstance(item.get("body", ""), str):
                raise _problems.invalid(where, "path must be a string, and body a JSON string.")
            if not isinstance(item.get("params", {}), dict):
                raise _problems.invalid(where, "params must be an object.")
        batch = Batch(
            id=stable_hex("batch", account.id, next(self._batch_numbers)),
            account_id=account.id,
            operations=operations,
            submitted=self.clock.time(),
        )
        self.batches[batch.id] = batch
        return EmulatedResponse.json(200, batch.wire(self.clock.time(), self.base_url(request)))

    @operation("GET", "/3.0/batches", "getBatches")
    def api_list_batches(self, request: EmulatedRequest) -> EmulatedResponse:
        account = self.caller(request)
        count, offset = page_of(request)
        mine = [b for b in self.batches.values() if b.account_id == account.id]
        now, base = self.clock.time(), self.base_url(request)
        return EmulatedResponse.json(
            200,
            {
                "batches": [b.wire(now, base) for b in mine[offset : offset + count]],
                "total_items": len(mine),
            },
        )

    @operation("GET", "/3.0/batches/{batch_id}", "getBatchesId")
    def api_get_batch(self, request: EmulatedRequest) -> EmulatedResponse:
        batch = self._batch_of(request)
        return EmulatedResponse.json(200, batch.wire(self.clock.time(), self.base_url(request)))

    @operation("DELETE", "/3.0/batches/{batch_id}", "deleteBatchesId")
    def api_delete_batch(self, request: EmulatedRequest) -> EmulatedResponse:
        del self.batches[self._batch_of(request).id]
        return EmulatedResponse(status=204)

    @operation("GET", "/batch-results/{archive}", "downloadBatchResults")
    def api_download_batch_results(self, request: EmulatedRequest) -> EmulatedResponse:
        batch = self.batches.get(request.path_params["archive"].removesuffix(".tar.gz"))
        if batch is None or batch.status(self.clock.time()) != "finished":
            raise _problems.not_found("No results at this address.")
        return EmulatedResponse(
            status=200, body=batch.archive(), headers={"content-type": "application/x-gzip"}
        )

    # --------------------------------------------------------------------- OAuth

    def issue_code(self, client_id: str, account: Account) -> str:
        """A one-time authorization code, as if ``account``'s user approved ``client_id``."""
        code = secrets.token_hex(16)
        self._codes[code] = (client_id, account.id)
        return code

    @operation("POST", "/oauth2/token", "getOAuth2Token")
    def api_oauth_token(self, request: EmulatedRequest) -> EmulatedResponse:
        form = request.form()
        app = self.oauth_apps.get(form.get("client_id", ""))
        if app is None or Secret(form.get("client_secret", "")) != app.client_secret:
            return _oauth_error(401, "invalid_client", "Unknown client_id or wrong client_secret.")
        if form.get("grant_type") != "authorization_code":
            return _oauth_error(400, "unsupported_grant_type", "Use grant_type=authorization_code.")
        issued = self._codes.pop(form.get("code", ""), None)
        if (
            issued is None
            or issued[0] != app.client_id
            or form.get("redirect_uri") != app.redirect_uri
        ):
            return _oauth_error(
                400, "invalid_grant", "The code is unknown, used, or not for this app."
            )
        token = self.new_token(self.accounts[issued[1]])
        return EmulatedResponse.json(
            200, {"access_token": token.reveal(), "expires_in": 0, "scope": None}
        )

    @operation("GET", "/oauth2/metadata", "getOAuth2Metadata")
    def api_oauth_metadata(self, request: EmulatedRequest) -> EmulatedResponse:
        try:
            account = self.caller(request)
        except APIProblem:
            return _oauth_error(401, "invalid_token", "The access token is unknown or revoked.")
        return EmulatedResponse.json(
            200,
            {
                "dc": account.data_center,
                "role": "owner",
                "accountname": account.name,
                "user_id": int(account.login_id),
                "login": {
                    "email": account.login_email,
                    "avatar": None,
                    "login_id": int(account.login_id),
                    "login_name": account.login_email,
                    "login_email": account.login_email,
                },
                "login_url": f"https://{LOGIN_HOST}",
                "api_endpoint": account.api_endpoint,
            },
        )
