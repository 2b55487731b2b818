"""Verify, then parse, the webhooks both services send.

Authentication always comes first and compares in constant time; a delivery that
fails it raises :class:`~pdmc.errors.WebhookAuthError` before one byte of its body is
parsed. An authenticated body that is not in the vendor's format raises
:class:`~pdmc.errors.WebhookPayloadError`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final, Literal, TypeAlias
from urllib.parse import parse_qsl

from attrs import field, frozen

from pdmc._secret import Secret
from pdmc.errors import WebhookAuthError, WebhookPayloadError

__all__ = [
    "MailchimpEvent",
    "MailchimpEventType",
    "MailchimpWebhookAuth",
    "PipedriveEvent",
    "PipedriveWebhookAuth",
    "parse_mailchimp_event",
    "parse_pipedrive_event",
]

MailchimpEventType: TypeAlias = Literal[
    "subscribe", "unsubscribe", "profile", "upemail", "cleaned", "campaign"
]
_MAILCHIMP_TYPES: Final = frozenset(
    {"subscribe", "unsubscribe", "profile", "upemail", "cleaned", "campaign"}
)
_SIGNATURE_TOLERANCE: Final = 300.0


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


@frozen
class PipedriveWebhookAuth:
    """The Basic-auth credentials pdmc registers with its Pipedrive webhooks."""

    username: str
    password: Secret = field(repr=False)

    def expected_header(self) -> bytes:
        """The ``Authorization`` header value Pipedrive must send."""
        pair = f"{self.username}:{self.password.reveal()}".encode()
        return b"Basic " + base64.b64encode(pair)

    def verify(self, headers: Mapping[str, str]) -> None:
        """Raise :class:`~pdmc.errors.WebhookAuthError` unless the Basic auth matches."""
        given = (_header(headers, "authorization") or "").encode()
        if not hmac.compare_digest(given, self.expected_header()):
            raise WebhookAuthError("the Pipedrive webhook's Basic auth does not match")


@frozen
class MailchimpWebhookAuth:
    """How Mailchimp deliveries are authenticated: a secret in the URL, or HMAC signing.

    ``url_secret`` is the value of the ``secret`` query parameter pdmc puts in the
    callback URL it registers. ``signing_secret`` is the secret Mailchimp returned when
    the webhook was created with signing; when set, the signature header is required
    and must be no older than ``tolerance`` seconds.
    """

    url_secret: Secret | None = field(default=None, repr=False)
    signing_secret: Secret | None = field(default=None, repr=False)
    tolerance: float = _SIGNATURE_TOLERANCE

    def verify(
        self,
        *,
        query_secret: str | None,
        headers: Mapping[str, str],
        body: bytes,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """Raise :class:`~pdmc.errors.WebhookAuthError` unless the delivery is authentic."""
        if self.url_secret is None and self.signing_secret is None:
            raise WebhookAuthError("no Mailchimp webhook secret is configured")
        if self.url_secret is not None:
            given = (query_secret or "").encode()
            if not hmac.compare_digest(given, self.url_secret.reveal().encode()):
                raise WebhookAuthError("the Mailchimp webhook's URL secret does not match")
        if self.signing_secret is not None:
            self._verify_signature(headers, body, now().timestamp())

    def _verify_signature(self, headers: Mapping[str, str], body: bytes, now: float) -> None:
        raw = _header(headers, "x-mailchimp-signature")
        if not raw:
            raise WebhookAuthError("the Mailchimp webhook is not signed")
        parts = dict(part.strip().split("=", 1) for part in raw.split(",") if "=" in part)
        stamp, given = parts.get("t", ""), parts.get("v1", "")
        assert self.signing_secret is not None  # noqa: S101 - checked by the caller
        expected = hmac.new(
            self.signing_secret.reveal().encode(), stamp.encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise WebhookAuthError("the Mailchimp webhook's signature does not match")
        try:
            age = now - float(stamp)
        except ValueError:
            raise WebhookAuthError("the Mailchimp webhook's signature has no timestamp") from None
        if abs(age) > self.tolerance:
            raise WebhookAuthError("the Mailchimp webhook's signature is too old")


@frozen(kw_only=True)
class PipedriveEvent:
    """A verified Pipedrive v2 webhook event.

    ``data`` is the object after the change (``None`` on delete); ``previous`` holds
    only the changed fields on change, ``None`` on create, and the last state on
    delete. ``change_source`` is ``"api"`` for changes made through the API (pdmc's
    own writes among them) and ``"app"`` for people's edits.
    """

    id: str
    action: Literal["create", "change", "delete"]
    entity: str
    entity_id: int
    timestamp: datetime | None
    change_source: str | None = None
    attempt: int = 1
    company_id: str | None = None
    webhook_id: str | None = None
    data: Mapping[str, Any] | None = None
    previous: Mapping[str, Any] | None = None
    merged_to_id: int | None = None
    merged_from_id: int | None = None


@frozen(kw_only=True)
class MailchimpEvent:
    """A verified Mailchimp audience webhook event.

    ``email`` is the address the event concerns (the new one for ``upemail``, with
    ``old_email`` the previous). :attr:`key` identifies a delivery for de-duplication,
    since Mailchimp delivers at least once.
    """

    type: MailchimpEventType
    fired_at: datetime | None
    list_id: str
    email: str | None
    member_id: str | None = None
    old_email: str | None = None
    merges: Mapping[str, str] = field(factory=dict)
    reason: str | None = None
    action: str | None = None

    @property
    def key(self) -> str:
        """A stable id of this delivery: type, member, address and time."""
        stamp = self.fired_at.isoformat() if self.fired_at else ""
        return f"{self.type}:{self.list_id}:{self.member_id or ''}:{self.email or ''}:{stamp}"


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise WebhookPayloadError(f"expected an integer id, got {value!r}") from None


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace(" ", "T"))
    except ValueError:
        raise WebhookPayloadError(f"expected a timestamp, got {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_pipedrive_event(body: bytes) -> PipedriveEvent:
    """Read a Pipedrive v2 webhook body (call only after :meth:`PipedriveWebhookAuth.verify`).

    Raises:
        WebhookPayloadError: the body is not a v2 event.
    """
    try:
        payload = json.loads(body)
    except ValueError:
        raise WebhookPayloadError("the Pipedrive webhook body is not JSON") from None
    meta = payload.get("meta") if isinstance(payload, dict) else None
    if not isinstance(meta, dict) or str(meta.get("version", "2.0")) != "2.0":
        raise WebhookPayloadError("the Pipedrive webhook body is not a v2 event")
    action = meta.get("action")
    if action not in {"create", "change", "delete"}:
        raise WebhookPayloadError(f"unknown Pipedrive webhook action {action!r}")
    entity_id = _int(meta.get("entity_id"))
    if entity_id is None or not meta.get("id"):
        raise WebhookPayloadError("the Pipedrive webhook event has no id or entity id")
    return PipedriveEvent(
        id=str(meta["id"]),
        action=action,
        entity=str(meta.get("entity", "")),
        entity_id=entity_id,
        timestamp=_time(meta.get("timestamp")),
        change_source=meta.get("change_source"),
        attempt=_int(meta.get("attempt")) or 1,
        company_id=_optional_str(meta.get("company_id")),
        webhook_id=_optional_str(meta.get("webhook_id")),
        data=payload.get("data"),
        previous=payload.get("previous"),
        merged_to_id=_int(meta.get("merged_to_id")),
        merged_from_id=_int(meta.get("merged_from_id")),
    )


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def parse_mailchimp_event(body: bytes) -> MailchimpEvent:
    """Read a Mailchimp form-encoded webhook body (call only after verification).

    Raises:
        WebhookPayloadError: the body is not an audience event.
    """
    try:
        form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
    except (UnicodeDecodeError, ValueError):
        raise WebhookPayloadError("the Mailchimp webhook body is not a form") from None
    kind = form.get("type")
    if kind not in _MAILCHIMP_TYPES or not form.get("data[list_id]"):
        raise WebhookPayloadError(f"not a Mailchimp audience event (type {kind!r})")
    merges = {
        key[len("data[merges][") : -1]: value
        for key, value in form.items()
        if key.startswith("data[merges][") and key.endswith("]")
    }
    is_upemail = kind == "upemail"
    return MailchimpEvent(
        type=kind,  # type: ignore[arg-type]  # checked against the set above
        fired_at=_time(form.get("fired_at")),
        list_id=form["data[list_id]"],
        email=form.get("data[new_email]") if is_upemail else form.get("data[email]"),
        member_id=form.get("data[new_id]") if is_upemail else form.get("data[id]"),
        old_email=form.get("data[old_email]") if is_upemail else None,
        merges=merges,
        reason=form.get("data[reason]"),
        action=form.get("data[action]"),
    )
