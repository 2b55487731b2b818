"""Webhooks: the v1 management API and v2 payloads, Basic auth, retries and bans on the clock."""

from __future__ import annotations

import base64
import http.server
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from pdmc import Secret
from pdmc.emulator.pipedrive import BAN_SECONDS, FIRST_FAILURES_BEFORE_BAN, RETRY_DELAYS
from tests.contracts import SPECS_DIR
from tests.emulator.pipedrive.conftest import Rig

EXAMPLES = Path(SPECS_DIR) / "webhooks"
URL = "https://hooks.example.com/pipedrive"


def _example(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / f"pipedrive-v2-person-{name}.json").read_text())
    return loaded


def _subscribe(http: httpx.Client, **extra: Any) -> dict[str, Any]:
    body = {
        "subscription_url": URL,
        "event_action": "*",
        "event_object": "*",
        "name": "sync",
        **extra,
    }
    response = http.post("/v1/webhooks", json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def test_a_create_carries_the_documented_shape(http: httpx.Client, rig: Rig) -> None:
    """A created person's payload has the example's meta and data keys and previous null."""
    _subscribe(http)
    rig.pipedrive.add_person(name="Jane Doe", emails=["jane@example.com"], source="api")
    rig.pipedrive.deliver_webhooks()
    (payload,) = rig.inbox.payloads()
    example = _example("change")
    assert set(payload) == {"data", "previous", "meta"}
    assert set(payload["meta"]) == set(example["meta"])
    assert set(payload["data"]) == set(example["data"])
    assert payload["previous"] is None
    meta = payload["meta"]
    assert (meta["action"], meta["entity"], meta["change_source"], meta["attempt"]) == (
        "create",
        "person",
        "api",
        1,
    )
    for key in ("company_id", "entity_id", "user_id", "webhook_id", "webhook_owner_id"):
        assert isinstance(meta[key], str), key
    assert all(isinstance(user, str) for user in meta["permitted_user_ids"])
    assert meta["timestamp"].endswith("Z")
    assert meta["host"] == f"{rig.pipedrive.default_company.domain}.pipedrive.com"
    assert payload["data"]["visible_to"] == "3"


def test_a_change_sends_only_the_changed_fields_as_previous(http: httpx.Client, rig: Rig) -> None:
    """previous holds the changed fields (and update_time), custom fields typed one by one."""
    tier = rig.pipedrive.add_person_field("Tier", "enum", options=["Gold", "Silver"])
    source = rig.pipedrive.add_person_field("Source", "varchar")
    options = rig.pipedrive.person_field_options(tier)
    person = rig.pipedrive.add_person(
        name="Jane", emails=["old@example.com"], custom_fields={tier: options["Gold"], source: "Ad"}
    )
    _subscribe(http)
    rig.clock.advance(30)
    http.patch(
        f"/api/v2/persons/{person}",
        json={
            "emails": [{"value": "new@example.com", "primary": True, "label": "work"}],
            "custom_fields": {tier: options["Silver"]},
        },
    )
    (payload,) = rig.inbox.payloads()
    previous = payload["previous"]
    assert set(previous) == {"emails", "update_time", "custom_fields"}
    assert previous["emails"] == [{"value": "old@example.com", "primary": True, "label": "work"}]
    assert previous["custom_fields"] == {tier: {"type": "enum", "id": options["Gold"]}}
    assert payload["data"]["custom_fields"] == {
        tier: {"type": "enum", "id": options["Silver"]},
        source: {"type": "varchar", "value": "Ad"},
    }
    assert payload["meta"]["change_source"] == "api"


def test_a_change_by_the_app_says_so(http: httpx.Client, rig: Rig) -> None:
    """Direct state actions stand for the app: change_source is app."""
    person = rig.pipedrive.add_person(name="A")
    _subscribe(http)
    rig.pipedrive.update_person(person, {"job_title": "CEO"})
    rig.pipedrive.deliver_webhooks()
    assert [m["change_source"] for m in rig.inbox.metas()] == ["app"]


def test_a_no_op_change_sends_nothing(http: httpx.Client, rig: Rig) -> None:
    """A PATCH that changes nothing makes no webhook."""
    person = rig.pipedrive.add_person(name="A")
    _subscribe(http)
    http.patch(f"/api/v2/persons/{person}", json={"name": "A"})
    assert rig.inbox.deliveries == []


def test_a_delete_sends_the_last_state_and_no_data(http: httpx.Client, rig: Rig) -> None:
    """A deleted person's payload has data null and the full last state in previous."""
    person = rig.pipedrive.add_person(name="Jane Doe", emails=["jane@example.com"])
    _subscribe(http)
    http.delete(f"/api/v2/persons/{person}")
    (payload,) = rig.inbox.payloads()
    assert payload["data"] is None
    assert set(payload["previous"]) == set(_example("delete")["previous"])
    assert payload["previous"]["emails"][0]["value"] == "jane@example.com"
    assert payload["meta"]["action"] == "delete"
    assert "merged_to_id" not in payload["meta"]


def test_a_merge_sends_a_delete_and_a_change(http: httpx.Client, rig: Rig) -> None:
    """Merging sends delete with merged_to_id and change with merged_from_id, one correlation."""
    keep = rig.pipedrive.add_person(name="Keep")
    gone = rig.pipedrive.add_person(name="Gone", emails=["gone@example.com"])
    _subscribe(http)
    rig.pipedrive.merge_persons(keep, gone)
    rig.pipedrive.deliver_webhooks()
    deleted, changed = rig.inbox.payloads()
    assert (deleted["meta"]["action"], deleted["meta"]["merged_to_id"]) == ("delete", str(keep))
    assert (changed["meta"]["action"], changed["meta"]["merged_from_id"]) == ("change", str(gone))
    assert deleted["meta"]["correlation_id"] == changed["meta"]["correlation_id"]
    assert changed["previous"]["emails"] == []
    assert changed["data"]["emails"][0]["value"] == "gone@example.com"


def test_a_merge_with_nothing_to_add_still_announces_the_change(
    http: httpx.Client, rig: Rig
) -> None:
    """The kept person gets a change (update_time only) even when nothing else moved over."""
    keep = rig.pipedrive.add_person(name="Keep")
    gone = rig.pipedrive.add_person(name="Gone")
    _subscribe(http, event_action="change")
    rig.clock.advance(5)
    rig.pipedrive.merge_persons(keep, gone)
    rig.pipedrive.deliver_webhooks()
    (changed,) = rig.inbox.payloads()
    assert set(changed["previous"]) == {"update_time"}


def test_deal_events_follow_creates_moves_and_deletes(http: httpx.Client, rig: Rig) -> None:
    """Deals announce create, change (a stage move) and delete as v2 payloads."""
    _subscribe(http, event_object="deal")
    rig.pipedrive.add_person(name="Not a deal")
    deal = http.post("/api/v2/deals", json={"title": "D", "stage_id": 1}).json()["data"]["id"]
    rig.clock.advance(60)
    http.patch(f"/api/v2/deals/{deal}", json={"stage_id": 3})
    rig.pipedrive.delete_deal(deal)
    rig.pipedrive.deliver_webhooks()
    created, moved, deleted = rig.inbox.payloads()
    assert created["meta"]["entity"] == "deal"
    assert created["data"]["stage_id"] == 1
    assert set(moved["previous"]) == {"stage_id", "stage_change_time", "update_time"}
    assert moved["previous"]["stage_id"] == 1
    assert moved["data"]["stage_id"] == 3
    assert (deleted["data"], deleted["previous"]["stage_id"]) == (None, 3)
    assert deleted["meta"]["change_source"] == "app"


def test_subscriptions_filter_by_action_and_object(http: httpx.Client, rig: Rig) -> None:
    """A create.person subscription hears creates of persons and nothing else."""
    _subscribe(http, event_action="create", event_object="person")
    person = rig.pipedrive.add_person(name="A")
    rig.pipedrive.update_person(person, {"name": "B"})
    rig.pipedrive.add_deal(title="D", person_id=person, stage_id=1)
    rig.pipedrive.add_person(name="Quiet", notify=False)
    rig.pipedrive.deliver_webhooks()
    assert [(m["action"], m["entity"]) for m in rig.inbox.metas()] == [("create", "person")]


def test_deliveries_carry_basic_auth_when_configured(rig: Rig) -> None:
    """Credentials given at registration come back as an Authorization: Basic header."""
    with rig.client() as client:
        client.create_webhook(
            subscription_url=URL,
            event_action="*",
            event_object="person",
            name="auth",
            http_auth_user="pd",
            http_auth_password=Secret("s3cret"),
        )
        client.create_webhook(
            subscription_url=URL + "/open", event_action="*", event_object="person", name="open"
        )
    rig.pipedrive.add_person(name="A")
    rig.pipedrive.deliver_webhooks()
    with_auth, without = rig.inbox.deliveries
    expected = "Basic " + base64.b64encode(b"pd:s3cret").decode()
    assert with_auth.headers["authorization"] == expected
    assert "authorization" not in without.headers
    assert with_auth.headers["content-type"] == "application/json"
    assert with_auth.url == URL


def test_failed_attempts_retry_after_3_30_and_150_seconds(http: httpx.Client, rig: Rig) -> None:
    """A failing endpoint gets attempts 1-4 at 0, 3, 33 and 183 seconds, then no more."""
    webhook = _subscribe(http)
    rig.inbox.status = 500
    start = rig.clock.monotonic()
    rig.pipedrive.add_person(name="A")
    rig.pipedrive.deliver_webhooks()
    times = [rig.clock.monotonic() - start]
    for delay in (*RETRY_DELAYS, 1000.0):
        rig.advance(delay - 0.5)
        assert len(rig.inbox.deliveries) == len(times)
        rig.advance(0.5)
        times.append(rig.clock.monotonic() - start)
    assert [m["attempt"] for m in rig.inbox.metas()] == [1, 2, 3, 4]
    assert len({m["id"] for m in rig.inbox.metas()}) == 1
    status = rig.pipedrive.webhook_status(webhook["id"])
    assert status is not None
    assert (status.failed, status.dropped, status.pending) == (4, 1, 0)
    listed = http.get("/v1/webhooks").json()["data"][0]
    assert listed["last_http_status"] == 500


def test_a_success_stops_the_retries(http: httpx.Client, rig: Rig) -> None:
    """Once an attempt succeeds the event is not sent again."""
    _subscribe(http)
    rig.inbox.status = 503
    rig.pipedrive.add_person(name="A")
    rig.pipedrive.deliver_webhooks()
    rig.inbox.status = 204
    rig.advance(RETRY_DELAYS[0])
    rig.advance(sum(RETRY_DELAYS))
    assert [m["attempt"] for m in rig.inbox.metas()] == [1, 2]


def test_ten_failed_first_attempts_ban_the_webhook_and_drop_events(
    http: httpx.Client, rig: Rig
) -> None:
    """The 10th failed first attempt starts a 30-minute ban; events meanwhile are lost."""
    webhook = _subscribe(http)
    rig.inbox.status = 500
    for n in range(FIRST_FAILURES_BEFORE_BAN):
        rig.pipedrive.add_person(name=f"P{n}")
        rig.pipedrive.deliver_webhooks()
    banned = rig.pipedrive.webhooks_banned_until
    assert banned == {webhook["id"]: rig.clock.now() + timedelta(seconds=BAN_SECONDS)}
    rig.inbox.status = 200
    attempts = len(rig.inbox.deliveries)
    rig.pipedrive.add_person(name="During the ban")
    rig.advance(BAN_SECONDS - 1)
    assert len(rig.inbox.deliveries) == attempts
    status = rig.pipedrive.webhook_status(webhook["id"])
    assert status is not None
    assert status.dropped > 1  # the event during the ban and the retries that came due
    rig.advance(1)
    assert rig.pipedrive.webhooks_banned_until == {}
    rig.pipedrive.add_person(name="After the ban")
    rig.pipedrive.deliver_webhooks()
    assert rig.inbox.payloads()[-1]["data"]["name"] == "After the ban"
    names = [p["data"]["name"] for p in rig.inbox.payloads()]
    assert "During the ban" not in names


def test_a_success_resets_the_ban_counter(http: httpx.Client, rig: Rig) -> None:
    """Failures separated by a success never add up to a ban."""
    webhook = _subscribe(http, event_action="create")
    for n in range(2 * FIRST_FAILURES_BEFORE_BAN - 1):
        rig.inbox.status = 200 if n == FIRST_FAILURES_BEFORE_BAN - 1 else 500
        rig.pipedrive.add_person(name=f"P{n}")
        rig.pipedrive.deliver_webhooks()
    status = rig.pipedrive.webhook_status(webhook["id"])
    assert status is not None
    assert status.banned_until is None
    assert status.first_attempt_failures == FIRST_FAILURES_BEFORE_BAN - 1


def test_three_days_without_success_remove_the_webhook(http: httpx.Client, rig: Rig) -> None:
    """A subscription that never succeeds for three days is deleted."""
    webhook = _subscribe(http, event_action="create")
    rig.inbox.status = 500
    for _ in range(4):
        rig.pipedrive.add_person(name="P")
        rig.advance(24 * 3600)
    assert rig.pipedrive.webhook_status(webhook["id"]) is None
    assert http.get("/v1/webhooks").json()["data"] == []


def test_a_handler_that_raises_counts_as_a_failure(http: httpx.Client, rig: Rig) -> None:
    """An exception in the caller's handler is recorded as a failed attempt and re-raised."""
    webhook = _subscribe(http)

    def broken(_: Any) -> int:
        raise RuntimeError("endpoint bug")

    rig.pipedrive.webhook_handler = broken
    rig.pipedrive.add_person(name="A")
    with pytest.raises(RuntimeError, match="endpoint bug"):
        rig.pipedrive.deliver_webhooks()
    status = rig.pipedrive.webhook_status(webhook["id"])
    assert status is not None
    assert (status.failed, status.pending) == (1, 1)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"subscription_url": "ftp://x"}, "subscription_url"),
        ({"subscription_url": "https://api.pipedrive.com/v1/x"}, "subscription_url"),
        ({"event_action": "added"}, "event_action"),
        ({"event_object": "persons"}, "event_object"),
        ({"name": ""}, "name"),
        ({"user_id": 1}, "user_id"),
        ({"version": "1.0"}, "version"),
        ({"http_auth_user": 5}, "http_auth_user"),
    ],
)
def test_bad_subscriptions_are_refused_in_the_webhook_error_format(
    http: httpx.Client, body: dict[str, Any], field: str
) -> None:
    """addWebhook answers 400 with errors keyed by field, as its contract documents."""
    full = {"subscription_url": URL, "event_action": "*", "event_object": "*", "name": "n", **body}
    response = http.post("/v1/webhooks", json=full)
    assert response.status_code == 400
    answer = response.json()
    assert (answer["status"], answer["success"]) == ("error", False)
    assert field in answer["errors"]


def test_forty_webhooks_is_the_most(http: httpx.Client) -> None:
    """The 41st subscription of a user is refused."""
    for _ in range(40):
        _subscribe(http)
    response = http.post(
        "/v1/webhooks",
        json={"subscription_url": URL, "event_action": "*", "event_object": "*", "name": "n"},
    )
    assert response.status_code == 400


def test_deleting_a_webhook_drops_its_waiting_deliveries(http: httpx.Client, rig: Rig) -> None:
    """After deleteWebhook nothing more is sent; an unknown id is a 404 in the webhook format."""
    webhook = _subscribe(http)
    rig.inbox.status = 500
    rig.pipedrive.add_person(name="A")
    rig.pipedrive.deliver_webhooks()
    assert http.delete(f"/v1/webhooks/{webhook['id']}").json() == {"status": "ok", "success": True}
    rig.advance(sum(RETRY_DELAYS))
    assert len(rig.inbox.deliveries) == 1
    missing = http.delete(f"/v1/webhooks/{webhook['id']}")
    assert missing.status_code == 404
    assert missing.json()["errors"] == {"id": ["not found"]}


class _Endpoint(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str | None, bytes]] = []  # noqa: RUF012 - shared by the test server

    def do_POST(self) -> None:
        length = int(self.headers["content-length"])
        self.received.append((self.headers.get("authorization"), self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        del format, args


@pytest.fixture
def endpoint() -> Iterator[str]:
    """A real HTTP endpoint on localhost that records posts."""
    _Endpoint.received = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Endpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def test_without_a_handler_deliveries_go_over_http(
    http: httpx.Client, rig: Rig, endpoint: str
) -> None:
    """With no handler set, the emulator posts to the registered URL for real."""
    rig.pipedrive.webhook_handler = None
    http.post(
        "/v1/webhooks",
        json={
            "subscription_url": endpoint,
            "event_action": "*",
            "event_object": "person",
            "name": "real",
            "http_auth_user": "u",
            "http_auth_password": "p",
        },
    )
    rig.pipedrive.add_person(name="Over HTTP")
    assert rig.pipedrive.deliver_webhooks() == 1
    ((auth, body),) = _Endpoint.received
    assert auth == "Basic " + base64.b64encode(b"u:p").decode()
    assert json.loads(body)["data"]["name"] == "Over HTTP"
