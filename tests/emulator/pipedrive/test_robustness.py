"""Bad input never crashes the emulator: any JSON body gets a 200 or a 400, never an error."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pdmc.emulator._service import EmulatedRequest
from pdmc.emulator.pipedrive import PipedriveEmulator

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
PERSON_KEYS = st.sampled_from(
    [
        "name",
        "emails",
        "phones",
        "im",
        "owner_id",
        "org_id",
        "visible_to",
        "label_ids",
        "postal_address",
        "notes",
        "birthday",
        "job_title",
        "marketing_status",
        "custom_fields",
        "add_time",
        "unknown",
    ]
)
EMULATOR = PipedriveEmulator()
CODES = [
    EMULATOR.add_person_field(kind, kind, options=["A", "B"] if kind in {"enum", "set"} else None)
    for kind in ("varchar", "enum", "set", "monetary", "address", "daterange", "people", "json")
]
TOKEN = EMULATOR.default_company.api_token.reveal()


def _send(method: str, path: str, body: Any) -> int:
    EMULATOR.clock.advance(2)  # keep clear of the burst window
    request = EmulatedRequest(
        method=method,
        host="api.pipedrive.com",
        path=path,
        headers={"x-api-token": TOKEN, "content-type": "application/json"},
        body=json.dumps(body).encode(),
    )
    return EMULATOR.execute(request).status


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.dictionaries(PERSON_KEYS, JSON, max_size=4), custom=st.lists(JSON, max_size=3))
def test_any_person_body_is_answered_200_or_400(body: dict[str, Any], custom: list[Any]) -> None:
    """Creating and patching a person with arbitrary JSON answers 200 or 400."""
    body = {**body, "custom_fields": dict(zip(CODES, custom, strict=False))} if custom else body
    assert _send("POST", "/api/v2/persons", body) in {200, 400}
    assert _send("PATCH", "/api/v2/persons/1", body) in {200, 400, 404}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conditions=JSON, kind=st.sampled_from(["people", "deals", "org", 5]))
def test_any_filter_body_is_answered_200_or_400(conditions: Any, kind: Any) -> None:
    """Creating a filter with an arbitrary condition tree answers 200 or 400."""
    body = {"name": "fuzz", "type": kind, "conditions": conditions}
    assert _send("POST", "/v1/filters", body) in {200, 400}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.dictionaries(
        st.sampled_from(
            [
                "title",
                "stage_id",
                "pipeline_id",
                "person_id",
                "status",
                "value",
                "currency",
                "org_id",
            ]
        ),
        JSON,
    )
)
def test_any_deal_body_is_answered_200_or_400(body: dict[str, Any]) -> None:
    """Creating a deal with arbitrary JSON answers 200 or 400."""
    assert _send("POST", "/api/v2/deals", body) in {200, 400}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.dictionaries(
        st.sampled_from(
            [
                "subscription_url",
                "event_action",
                "event_object",
                "name",
                "user_id",
                "version",
                "http_auth_user",
            ]
        ),
        JSON,
    )
)
def test_any_webhook_body_is_answered_201_or_400(body: dict[str, Any]) -> None:
    """Registering a webhook with arbitrary JSON answers 201 or 400."""
    assert _send("POST", "/v1/webhooks", body) in {201, 400}
    for subscription in list(EMULATOR.webhooks.subscriptions):
        EMULATOR.webhooks.unsubscribe(subscription)
