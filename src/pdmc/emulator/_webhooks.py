"""Outgoing webhook deliveries: what both fake services send to the caller."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import httpx
from attrs import field, frozen

__all__ = ["WebhookDelivery", "WebhookHandler", "post_over_http"]


@frozen(kw_only=True)
class WebhookDelivery:
    """One delivery attempt of a webhook: where it goes and exactly what is sent.

    ``body`` is the raw bytes (JSON for Pipedrive, a form for Mailchimp) and
    ``headers`` include any Basic-auth or signature header, as the real services send.
    """

    service: str
    url: str
    method: str = "POST"
    headers: Mapping[str, str] = field(factory=dict)
    body: bytes = b""
    attempt: int = 1


WebhookHandler = Callable[[WebhookDelivery], int]
"""Receives a delivery and returns the HTTP status the endpoint answered."""


def post_over_http(delivery: WebhookDelivery, *, timeout: float = 10.0) -> int:
    """Deliver over real HTTP (the default when no handler is set); 0 if unreachable."""
    try:
        response = httpx.request(
            delivery.method,
            delivery.url,
            content=delivery.body,
            headers=dict(delivery.headers),
            timeout=timeout,
        )
    except httpx.HTTPError:
        return 0
    return response.status_code
