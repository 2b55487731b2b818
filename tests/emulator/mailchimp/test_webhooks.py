"""Audience webhooks: validation GET, form-encoded events, sources, HMAC signing, retries."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import parse_qsl

import pytest

from pdmc.clients.mailchimp import MemberUpsert, WebhookEvents, WebhookSources
from pdmc.emulator.mailchimp import signature_header
from pdmc.errors import BadRequestError
from tests.contracts import SPECS_DIR

URL = "https://hooks.pdmc.dev/mailchimp?secret=s3"
ADA = "ada@lovelace.dev"
EVERY_EVENT = WebhookEvents(
    subscribe=True, unsubscribe=True, profile=True, cleaned=True, upemail=True
)


def sample_keys(event_type: str) -> list[str]:
    """The form keys of the documented sample of ``event_type``, in order."""
    samples = json.loads(
        (
            SPECS_DIR / "webhooks" / "mailchimp-audience-webhook-subscribe-unsubscribe.json"
        ).read_text()
    )
    event = next(e for e in samples["events"] if e["form_fields"]["type"] == event_type)
    return [key for key, _ in parse_qsl(event["raw_body"], keep_blank_values=True)]


@pytest.fixture
def hook(client, list_id):
    return client.create_webhook(
        list_id, URL, events=EVERY_EVENT, sources=WebhookSources(user=True, admin=True, api=True)
    )


def test_creating_a_webhook_sends_a_validation_get(hook, rig):
    """Saving a webhook first sends a GET to its URL; the event deliveries are POSTs."""
    assert [(d.method, d.url) for d in rig.inbox.deliveries] == [("GET", URL)]


def test_a_url_that_does_not_answer_200_is_refused(rig, client, list_id):
    """Creation fails with a 400 naming the url when the validation GET does not get 200."""
    rig.inbox.status = 404
    with pytest.raises(BadRequestError) as refused:
        client.create_webhook(list_id, URL, events=EVERY_EVENT, sources=WebhookSources(api=True))
    assert refused.value.body["errors"][0]["field"] == "url"
    assert client.list_webhooks(list_id) == []


def test_the_signing_secret_is_shown_once(hook, client, http, list_id):
    """The create response carries signing_secret; listing and reading never do again."""
    assert hook.signing_enabled
    assert hook.signing_secret is not None
    assert [h.id for h in client.list_webhooks(list_id)] == [hook.id]
    shown = http.get(f"/lists/{list_id}/webhooks/{hook.id}").json()
    assert shown["signing_enabled"] is True
    assert "signing_secret" not in shown


def test_subscribe_and_unsubscribe_bodies_follow_the_documented_samples(hook, rig, client, list_id):
    """Events are form-encoded with the documented keys, in the documented order."""
    client.upsert_member(
        list_id,
        MemberUpsert(email_address=ADA, status_if_new="subscribed", merge_fields={"FNAME": "Ada"}),
    )
    rig.mailchimp.unsubscribe(list_id, ADA)
    rig.mailchimp.deliver_webhooks()
    subscribe, unsubscribe = rig.inbox.posts
    assert subscribe.headers["content-type"] == "application/x-www-form-urlencoded"
    for delivery, kind in ((subscribe, "subscribe"), (unsubscribe, "unsubscribe")):
        keys = [key for key, _ in parse_qsl(delivery.body.decode(), keep_blank_values=True)]
        documented = [
            k
            for k in sample_keys(kind)
            if k not in {"data[merges][INTERESTS]", "data[campaign_id]"}
        ]
        assert keys[: len(documented)] == documented
    sub, unsub = rig.inbox.events()
    assert (sub["data[email]"], sub["data[merges][FNAME]"], sub["fired_at"]) == (
        ADA,
        "Ada",
        "2026-01-05 09:00:00",
    )
    assert (unsub["data[action]"], unsub["data[reason]"]) == ("unsub", "manual")


def test_profile_upemail_and_cleaned_events(hook, rig, list_id):
    """A profile change, an address change and a bounce send profile, upemail and cleaned."""
    mailchimp = rig.mailchimp
    mailchimp.add_member(list_id, ADA)
    mailchimp.update_profile(list_id, ADA, {"LNAME": "Lovelace"})
    mailchimp.change_email(list_id, ADA, "ada@analytical.engine.dev")
    mailchimp.clean(list_id, "ada@analytical.engine.dev")
    mailchimp.deliver_webhooks()
    profile, upemail, cleaned = rig.inbox.events()
    assert (profile["type"], profile["data[merges][LNAME]"]) == ("profile", "Lovelace")
    assert (upemail["data[old_email]"], upemail["data[new_email]"]) == (
        ADA,
        "ada@analytical.engine.dev",
    )
    assert (cleaned["type"], cleaned["data[reason]"]) == ("cleaned", "hard")


def test_address_objects_become_bracketed_keys(hook, rig, list_id):
    """An address merge value is sent as data[merges][ADDRESS][addr1] and friends."""
    address = {"addr1": "1 Main St", "city": "Springfield", "state": "IL", "zip": "62701"}
    rig.mailchimp.subscribe(list_id, ADA, merge_fields={"ADDRESS": address})
    rig.mailchimp.deliver_webhooks()
    (event,) = rig.inbox.events()
    assert event["data[merges][ADDRESS][city]"] == "Springfield"


def test_sources_decide_who_hears_what(rig, client, list_id):
    """A webhook without sources.api hears people and admins, never the API's own writes."""
    client.create_webhook(
        list_id, URL, events=EVERY_EVENT, sources=WebhookSources(user=True, admin=False, api=False)
    )
    client.upsert_member(list_id, MemberUpsert(email_address=ADA, status_if_new="subscribed"))
    client.update_member(list_id, ADA, merge_fields={"FNAME": "Ada"})
    rig.mailchimp.update_profile(list_id, ADA, {"LNAME": "Lovelace"}, source="admin")
    rig.mailchimp.unsubscribe(list_id, ADA, source="user")
    rig.mailchimp.deliver_webhooks()
    assert rig.inbox.types() == ["unsubscribe"]


def test_batch_subscribe_events_are_api_events(rig, client, http, list_id):
    """Rows written by batch subscribe notify only webhooks that listen to the API."""
    client.create_webhook(list_id, URL, events=EVERY_EVENT, sources=WebhookSources(api=True))
    http.post(
        f"/lists/{list_id}", json={"members": [{"email_address": ADA, "status": "subscribed"}]}
    )
    assert rig.inbox.types() == ["subscribe"]


def test_signed_deliveries_carry_a_verifiable_signature(hook, rig, list_id):
    """X-Mailchimp-Signature is t=<unix>,v1=HMAC-SHA256(secret, "{t}.{raw body}")."""
    rig.mailchimp.subscribe(list_id, ADA)
    rig.mailchimp.deliver_webhooks()
    (delivery,) = rig.inbox.posts
    parts = dict(p.split("=", 1) for p in delivery.headers["x-mailchimp-signature"].split(","))
    assert int(parts["t"]) == int(rig.clock.time())
    secret = hook.signing_secret.reveal().encode()
    expected = hmac.new(secret, parts["t"].encode() + b"." + delivery.body, hashlib.sha256)
    assert hmac.compare_digest(parts["v1"], expected.hexdigest())
    assert delivery.headers["x-mailchimp-signature"] == signature_header(
        hook.signing_secret, int(parts["t"]), delivery.body
    )


def test_webhooks_can_be_created_unsigned(rig, http, list_id):
    """signing_enabled=false makes a webhook that sends no signature (like older webhooks)."""
    created = http.post(
        f"/lists/{list_id}/webhooks",
        json={
            "url": URL,
            "events": {"subscribe": True},
            "sources": {"user": True},
            "signing_enabled": False,
        },
    ).json()
    assert (created["signing_enabled"], "signing_secret" in created) == (False, False)
    rig.mailchimp.subscribe(list_id, ADA)
    rig.mailchimp.deliver_webhooks()
    assert "x-mailchimp-signature" not in rig.inbox.posts[0].headers


def test_failed_deliveries_are_retried_on_the_clock(hook, rig, list_id):
    """A failed attempt is retried after 1, 4, 10, 20 and 40 minutes, then dropped."""
    rig.inbox.status = 500
    rig.mailchimp.subscribe(list_id, ADA)
    first = rig.mailchimp.deliver_webhooks()
    attempts = [first, *(rig.advance(wait) for wait in (59, 1, 240, 600, 1200, 2400, 10_000))]
    assert attempts == [1, 0, 1, 1, 1, 1, 1, 0]
    assert [d.attempt for d in rig.inbox.posts] == [1, 2, 3, 4, 5, 6]
    assert rig.mailchimp.pending_deliveries == 0


def test_a_success_stops_the_retries(hook, rig, list_id):
    """Once an attempt gets a 2xx, nothing more is sent."""
    rig.inbox.status = 503
    rig.mailchimp.subscribe(list_id, ADA)
    rig.mailchimp.deliver_webhooks()
    rig.inbox.status = 200
    assert rig.advance(60) == 1
    assert rig.advance(100_000) == 0


def test_deleting_a_webhook_drops_its_queued_deliveries(hook, rig, client, list_id):
    """A deleted webhook receives nothing more, not even queued retries."""
    rig.inbox.status = 500
    rig.mailchimp.subscribe(list_id, ADA)
    rig.mailchimp.deliver_webhooks()
    client.delete_webhook(list_id, hook.id)
    assert rig.mailchimp.pending_deliveries == 0
    assert client.list_webhooks(list_id) == []


def test_webhooks_can_be_changed(hook, http, list_id):
    """PATCH changes events and sources (and validates a new URL)."""
    changed = http.patch(
        f"/lists/{list_id}/webhooks/{hook.id}",
        json={"sources": {"user": True, "admin": False, "api": False}},
    ).json()
    assert changed["sources"] == {"user": True, "admin": False, "api": False}
