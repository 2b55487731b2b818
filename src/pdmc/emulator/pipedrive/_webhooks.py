"""Webhooks: subscriptions (v1 management API) and v2 payload delivery on the emulator clock.

Every person and deal create, change and delete makes one event per matching
subscription. A delivery is a JSON POST with Basic auth when the subscription has
credentials; any 2xx is a success. A failed attempt is retried after 3, then 30,
then 150 seconds (``meta.attempt`` 1 to 4). Ten failed first attempts in a row ban
the subscription for 30 minutes, and whatever comes due meanwhile is dropped, as
Pipedrive does; a subscription with no successful delivery for three days is removed.
"""

from __future__ import annotations

import base64
import heapq
import json
import random
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlsplit

from attrs import define, field, frozen

from pdmc._secret import Secret
from pdmc.emulator._webhooks import WebhookDelivery
from pdmc.emulator.pipedrive._wire import rfc3339_ms

__all__ = [
    "ACTIONS",
    "BAN_SECONDS",
    "Event",
    "FIRST_FAILURES_BEFORE_BAN",
    "MAX_PER_USER",
    "OBJECTS",
    "REMOVE_AFTER_SECONDS",
    "RETRY_DELAYS",
    "Subscription",
    "WebhookCenter",
    "WebhookStatus",
    "subscription_problems",
]

RETRY_DELAYS: Final = (3.0, 30.0, 150.0)
"""Seconds from a failed attempt to the next one."""
FIRST_FAILURES_BEFORE_BAN: Final = 10
BAN_SECONDS: Final = 30 * 60.0
REMOVE_AFTER_SECONDS: Final = 3 * 24 * 3600.0
MAX_PER_USER: Final = 40
ACTIONS: Final = ("create", "change", "delete", "*")
OBJECTS: Final = (
    "activity",
    "deal",
    "lead",
    "note",
    "organization",
    "person",
    "pipeline",
    "product",
    "stage",
    "user",
    "*",
)


@frozen(kw_only=True)
class WebhookStatus:
    """What happened to a subscription's deliveries (for assertions in tests).

    Attributes:
        delivered: successful attempts.
        failed: failed attempts (retries included).
        dropped: deliveries dropped during a ban or when retries ran out.
        first_attempt_failures: failed first attempts in a row (10 start a ban).
        banned_until: the end of the current ban, if banned.
        pending: deliveries waiting on the clock.
    """

    delivered: int
    failed: int
    dropped: int
    first_attempt_failures: int
    banned_until: datetime | None
    pending: int


@define
class Subscription:
    """A webhook subscription."""

    id: int
    company_id: int
    owner_id: int
    user_id: int
    event_action: str
    event_object: str
    url: str
    name: str
    add_time: float
    http_auth_user: str | None = None
    http_auth_password: Secret | None = None
    last_delivery_time: float | None = None
    last_http_status: int | None = None
    first_failures: int = 0
    banned_until: float = 0.0
    failing_since: float | None = None
    delivered: int = 0
    failed: int = 0
    dropped: int = 0

    def matches(self, action: str, entity: str) -> bool:
        """Whether an event of ``action`` on ``entity`` goes to this subscription."""
        return self.event_action in {action, "*"} and self.event_object in {entity, "*"}

    def wire(self) -> dict[str, Any]:
        """As ``getWebhooks`` and ``addWebhook`` send it."""

        def stamp(seconds: float | None) -> str | None:
            return None if seconds is None else rfc3339_ms(datetime.fromtimestamp(seconds, UTC))

        password = self.http_auth_password
        return {
            "id": self.id,
            "company_id": self.company_id,
            "owner_id": self.owner_id,
            "user_id": self.user_id,
            "event_action": self.event_action,
            "event_object": self.event_object,
            "subscription_url": self.url,
            "version": "2.0",
            "is_active": 1,
            "add_time": stamp(self.add_time),
            "remove_time": None,
            "type": "general",
            "http_auth_user": self.http_auth_user,
            "http_auth_password": None if password is None else password.reveal(),
            "remove_reason": None,
            "last_delivery_time": stamp(self.last_delivery_time),
            "last_http_status": self.last_http_status,
            "admin_id": self.owner_id,
            "name": self.name,
        }


@frozen(kw_only=True)
class Event:
    """One change to announce: what changed, how, and the payload's ``data``/``previous``."""

    action: str
    entity: str
    entity_id: int
    company_id: int
    user_id: int
    change_source: str
    timestamp: datetime
    host: str
    data: Mapping[str, Any] | None
    previous: Mapping[str, Any] | None
    correlation_id: str
    event_id: str
    merged_to_id: int | None = None
    merged_from_id: int | None = None


@frozen(order=True)
class _Pending:
    due: float
    seq: int
    webhook_id: int = field(order=False)
    event: Event = field(order=False)
    attempt: int = field(order=False)


def _url_problem(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return "invalid or non-reachable URL"
    if parts.hostname == "pipedrive.com" or parts.hostname.endswith(".pipedrive.com"):
        return "cannot be a Pipedrive URL"
    return None


def subscription_problems(
    body: Mapping[str, Any], user_exists: Callable[[int], bool]
) -> dict[str, list[str]]:
    """What is wrong with an ``addWebhook`` body, keyed by field (empty when fine)."""
    problems: dict[str, list[str]] = {}
    for key in ("subscription_url", "event_action", "event_object", "name"):
        if not isinstance(body.get(key), str) or not body[key].strip():
            problems[key] = ["is required"]
    if "subscription_url" not in problems and (trouble := _url_problem(body["subscription_url"])):
        problems["subscription_url"] = [trouble]
    if "event_action" not in problems and body.get("event_action") not in ACTIONS:
        problems["event_action"] = [f"must be one of {', '.join(ACTIONS)}"]
    if "event_object" not in problems and body.get("event_object") not in OBJECTS:
        problems["event_object"] = [f"must be one of {', '.join(OBJECTS)}"]
    for key in ("http_auth_user", "http_auth_password"):
        if body.get(key) is not None and not isinstance(body[key], str):
            problems[key] = ["must be a string"]
    user_id = body.get("user_id")
    if user_id is not None and (
        isinstance(user_id, bool) or not isinstance(user_id, int) or not user_exists(user_id)
    ):
        problems["user_id"] = ["no such user"]
    if body.get("version", "2.0") != "2.0":
        problems["version"] = ["only version 2.0 payloads are emulated"]
    return problems


class WebhookCenter:
    """Every subscription of one emulator and the deliveries waiting on the clock."""

    def __init__(self, clock: Callable[[], datetime], rng: random.Random) -> None:
        self._now = clock
        self._rng = rng
        self.subscriptions: dict[int, Subscription] = {}
        self._queue: list[_Pending] = []
        self._seq = 0
        self._next_id = 1

    def new_uuid(self) -> str:
        """A random (seeded) UUID for event and correlation ids."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def subscribe(self, company_id: int, owner_id: int, body: Mapping[str, Any]) -> Subscription:
        """Add a subscription from a checked ``addWebhook`` body."""
        password = body.get("http_auth_password")
        subscription = Subscription(
            id=self._next_id,
            company_id=company_id,
            owner_id=owner_id,
            user_id=body.get("user_id") or owner_id,
            event_action=body["event_action"],
            event_object=body["event_object"],
            url=body["subscription_url"],
            name=body["name"],
            add_time=self._now().timestamp(),
            http_auth_user=body.get("http_auth_user"),
            http_auth_password=None if password is None else Secret(password),
        )
        self._next_id += 1
        self.subscriptions[subscription.id] = subscription
        return subscription

    def of_company(self, company_id: int) -> list[Subscription]:
        """A company's subscriptions, oldest first."""
        return [s for s in self.subscriptions.values() if s.company_id == company_id]

    def listening(self, company_id: int, action: str, entity: str) -> bool:
        """Whether any subscription of the company wants this kind of event."""
        return any(
            s.company_id == company_id and s.matches(action, entity)
            for s in self.subscriptions.values()
        )

    def publish(self, event: Event) -> None:
        """Queue the event's first attempt for every matching subscription."""
        due = event.timestamp.timestamp()
        for subscription in self.subscriptions.values():
            if subscription.company_id == event.company_id and subscription.matches(
                event.action, event.entity
            ):
                self._push(_Pending(due, self._take_seq(), subscription.id, event, 1))

    def _take_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _push(self, pending: _Pending) -> None:
        heapq.heappush(self._queue, pending)

    def next_due(self) -> tuple[Subscription, _Pending] | None:
        """The next delivery due now; banned or removed subscriptions' ones are dropped."""
        now = self._now().timestamp()
        while self._queue and self._queue[0].due <= now:
            pending = heapq.heappop(self._queue)
            subscription = self.subscriptions.get(pending.webhook_id)
            if subscription is None:
                continue
            if now < subscription.banned_until:
                subscription.dropped += 1
                continue
            return subscription, pending
        return None

    def delivery(self, subscription: Subscription, pending: _Pending) -> WebhookDelivery:
        """The request of one attempt: JSON body, Basic auth when configured."""
        event = pending.event
        meta: dict[str, Any] = {
            "action": event.action,
            "company_id": str(event.company_id),
            "correlation_id": event.correlation_id,
            "entity_id": str(event.entity_id),
            "entity": event.entity,
            "id": event.event_id,
            "is_bulk_edit": False,
            "timestamp": rfc3339_ms(event.timestamp),
            "type": "general",
            "user_id": str(event.user_id),
            "version": "2.0",
            "webhook_id": str(subscription.id),
            "webhook_owner_id": str(subscription.owner_id),
            "change_source": event.change_source,
            "permitted_user_ids": sorted({str(subscription.owner_id), str(event.user_id)}),
            "attempt": pending.attempt,
            "host": event.host,
        }
        if event.merged_to_id is not None:
            meta["merged_to_id"] = str(event.merged_to_id)
        if event.merged_from_id is not None:
            meta["merged_from_id"] = str(event.merged_from_id)
        body = {"data": event.data, "previous": event.previous, "meta": meta}
        headers = {"content-type": "application/json", "user-agent": "Pipedrive Webhooks"}
        if subscription.http_auth_user is not None:
            password = subscription.http_auth_password
            pair = f"{subscription.http_auth_user}:{password.reveal() if password else ''}"
            headers["authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        return WebhookDelivery(
            service="pipedrive",
            url=subscription.url,
            headers=headers,
            body=json.dumps(body, separators=(",", ":")).encode(),
            attempt=pending.attempt,
        )

    def record(self, subscription: Subscription, pending: _Pending, status: int) -> None:
        """Count an attempt's outcome; schedule the retry, start a ban, or remove."""
        now = self._now().timestamp()
        subscription.last_delivery_time = now
        subscription.last_http_status = status or None
        if 200 <= status < 300:  # noqa: PLR2004
            subscription.delivered += 1
            subscription.first_failures = 0
            subscription.failing_since = None
            return
        subscription.failed += 1
        if subscription.failing_since is None:
            subscription.failing_since = now
        if pending.attempt == 1:
            subscription.first_failures += 1
            if subscription.first_failures >= FIRST_FAILURES_BEFORE_BAN:
                subscription.banned_until = now + BAN_SECONDS
                subscription.first_failures = 0
        if now - subscription.failing_since >= REMOVE_AFTER_SECONDS:
            self.unsubscribe(subscription.id)
            return
        if pending.attempt <= len(RETRY_DELAYS):
            delay = RETRY_DELAYS[pending.attempt - 1]
            self._push(
                _Pending(
                    now + delay,
                    self._take_seq(),
                    subscription.id,
                    pending.event,
                    pending.attempt + 1,
                )
            )
        else:
            subscription.dropped += 1

    def unsubscribe(self, webhook_id: int) -> bool:
        """Remove a subscription and its waiting deliveries; False if unknown."""
        if self.subscriptions.pop(webhook_id, None) is None:
            return False
        self._queue = [p for p in self._queue if p.webhook_id != webhook_id]
        heapq.heapify(self._queue)
        return True

    def status(self, webhook_id: int) -> WebhookStatus | None:
        """The delivery counts of one subscription."""
        subscription = self.subscriptions.get(webhook_id)
        if subscription is None:
            return None
        now = self._now().timestamp()
        return WebhookStatus(
            delivered=subscription.delivered,
            failed=subscription.failed,
            dropped=subscription.dropped,
            first_attempt_failures=subscription.first_failures,
            banned_until=datetime.fromtimestamp(subscription.banned_until, UTC)
            if now < subscription.banned_until
            else None,
            pending=sum(1 for p in self._queue if p.webhook_id == webhook_id),
        )
