"""Audience webhooks: registrations, form-encoded event bodies, signing, delivery.

Bodies follow ``specs/webhooks/mailchimp-audience-webhook-subscribe-unsubscribe.json``
and API-FACTS 2.8: ``type``, ``fired_at`` (``YYYY-MM-DD HH:MM:SS``, UTC) and
bracketed ``data[...]`` keys, form-encoded. A signed webhook adds
``X-Mailchimp-Signature: t=<unix>,v1=<hex>``, the HMAC-SHA256 of ``"{t}.{body}"``
under the secret returned once at creation, computed afresh for every attempt.

Deliveries wait in a queue ordered by due time on the emulator clock. A failed
attempt (anything but 2xx) is retried at increasing intervals over 75 minutes, as
Mailchimp documents, then dropped.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlencode

from attrs import define, field, frozen

from pdmc._secret import Secret
from pdmc.emulator._webhooks import WebhookDelivery

__all__ = [
    "EVENT_TYPES",
    "RETRY_DELAYS",
    "SOURCES",
    "DeliveryQueue",
    "Webhook",
    "delivery_for",
    "event_body",
    "signature_header",
    "validation_request",
]

EVENT_TYPES: Final = ("subscribe", "unsubscribe", "profile", "cleaned", "upemail", "campaign")
SOURCES: Final = ("user", "admin", "api")
RETRY_DELAYS: Final = (60.0, 240.0, 600.0, 1200.0, 2400.0)
"""Seconds between attempts after a failure: five retries spread over 75 minutes."""
SERVICE: Final = "mailchimp"


@define(eq=False)
class Webhook:
    """An audience webhook: where events go, which events, from which sources."""

    id: str
    list_id: str
    url: str
    events: dict[str, bool]
    sources: dict[str, bool]
    signing_secret: Secret | None = field(default=None, repr=False)

    def wants(self, event: str, source: str) -> bool:
        """Whether this webhook receives ``event`` caused by ``source``."""
        return self.events.get(event, False) and self.sources.get(source, False)

    def wire(self) -> dict[str, Any]:
        """The webhook as the API shows it (never with its secret)."""
        return {
            "id": self.id,
            "url": self.url,
            "events": dict(self.events),
            "sources": dict(self.sources),
            "list_id": self.list_id,
            "signing_enabled": self.signing_secret is not None,
        }


def event_body(event: str, fired_at: float, data: Iterable[tuple[str, Any]]) -> bytes:
    """The form-encoded body of one event; nested mappings become bracketed keys."""
    stamp = datetime.fromtimestamp(fired_at, UTC).strftime("%Y-%m-%d %H:%M:%S")
    pairs = [("type", event), ("fired_at", stamp)]
    pairs += [(key, value) for name, raw in data for key, value in _flatten(f"data[{name}]", raw)]
    return urlencode(pairs).encode()


def _flatten(prefix: str, value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            yield from _flatten(f"{prefix}[{key}]", inner)
    elif isinstance(value, float) and value.is_integer():
        yield prefix, str(int(value))
    else:
        yield prefix, "" if value is None else str(value)


def signature_header(secret: Secret, timestamp: int, body: bytes) -> str:
    """The ``X-Mailchimp-Signature`` value for ``body`` sent at ``timestamp``."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.reveal().encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@frozen
class _Pending:
    webhook: Webhook
    body: bytes
    attempt: int


class DeliveryQueue:
    """Deliveries waiting for their time on the emulator clock."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Pending]] = []
        self._order = itertools.count()

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, webhook: Webhook, body: bytes, *, due: float, attempt: int = 1) -> None:
        """Queue one attempt at ``due``."""
        heapq.heappush(self._heap, (due, next(self._order), _Pending(webhook, body, attempt)))

    def pop_due(self, now: float) -> list[tuple[Webhook, bytes, int]]:
        """Take every attempt due at ``now``, oldest first."""
        due = []
        while self._heap and self._heap[0][0] <= now:
            pending = heapq.heappop(self._heap)[2]
            due.append((pending.webhook, pending.body, pending.attempt))
        return due

    def retry(self, webhook: Webhook, body: bytes, attempt: int, now: float) -> bool:
        """Queue the next attempt after failed ``attempt``; ``False`` when none is left."""
        if attempt > len(RETRY_DELAYS):
            return False
        self.push(webhook, body, due=now + RETRY_DELAYS[attempt - 1], attempt=attempt + 1)
        return True

    def drop(self, webhook_id: str) -> None:
        """Forget the queued attempts of a deleted webhook."""
        self._heap = [entry for entry in self._heap if entry[2].webhook.id != webhook_id]
        heapq.heapify(self._heap)


def delivery_for(webhook: Webhook, body: bytes, attempt: int, now: float) -> WebhookDelivery:
    """The POST of one attempt, signed at ``now`` when the webhook is signed."""
    headers = {"content-type": "application/x-www-form-urlencoded", "user-agent": "MailChimp"}
    if webhook.signing_secret is not None:
        headers["x-mailchimp-signature"] = signature_header(webhook.signing_secret, int(now), body)
    return WebhookDelivery(
        service=SERVICE, url=webhook.url, headers=headers, body=body, attempt=attempt
    )


def validation_request(url: str) -> WebhookDelivery:
    """The GET Mailchimp sends to a webhook's URL before saving it."""
    return WebhookDelivery(
        service=SERVICE,
        url=url,
        method="GET",
        headers={"user-agent": "MailChimp.com WebHook Validator"},
    )
