"""Webhook handling: authenticate before parsing, Mailchimp's URL check, de-duplication,
re-reading current state, and ensure_webhooks, through the engine on the emulator."""

from __future__ import annotations

import base64
import json
import urllib.parse

import pytest

from pdmc import Secret
from pdmc.clients.mailchimp import WebhookEvents, WebhookSources
from pdmc.emulator import WebhookDelivery
from pdmc.emulator.mailchimp import signature_header
from pdmc.flows import MailchimpWebhookAuth
from tests.flows.conftest import HOOKS, MAILCHIMP_AUTH, Scene

PIPEDRIVE_URL = f"{HOOKS}/pipedrive"
MAILCHIMP_URL = f"{HOOKS}/mailchimp?secret={MAILCHIMP_AUTH.url_secret.reveal()}"  # type: ignore[union-attr]
NOT_A_BODY = b"\xff{ this is neither JSON nor a form"


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}", "Content-Type": "application/json"}


@pytest.fixture
def ada(scene: Scene) -> int:
    """Ada matches a filter flow that ran once; her member exists."""
    ada = scene.person("Ada Lovelace", "ada@lovelace-labs.io", job_title="Buyer")
    scene.filters_flow(scene.job_filter("Buyer"))
    scene.tick()
    scene.later()
    return ada


def _caught(scene: Scene, service: str) -> list[WebhookDelivery]:
    """Keep the services' deliveries from the engine, answering 200, and return them."""
    caught: list[WebhookDelivery] = []

    def catch(delivery: WebhookDelivery) -> int:
        if delivery.service == service:
            caught.append(delivery)
        return 200

    scene.emulator.on_webhook(catch)
    return caught


# -- authentication first --------------------------------------------------------------------


def test_pipedrive_wrong_basic_auth_is_refused_before_the_body_is_parsed(scene: Scene):
    """A Pipedrive delivery with wrong credentials gets 401, even when its body is garbage."""
    wrong = scene.engine.receive("POST", PIPEDRIVE_URL, _basic("pdmc", "guess"), NOT_A_BODY)
    missing = scene.engine.receive("POST", PIPEDRIVE_URL, {}, NOT_A_BODY)
    right = scene.engine.receive(
        "POST", PIPEDRIVE_URL, _basic("pdmc", "pd-hook-pass-7f3a"), NOT_A_BODY
    )

    assert (wrong.status, missing.status) == (401, 401)
    assert right.status == 400  # authenticated, then found malformed
    assert "guess" not in (wrong.note or "")


def test_mailchimp_wrong_url_secret_is_refused_before_the_body_is_parsed(scene: Scene):
    """A Mailchimp delivery with a wrong or missing URL secret gets 401 whatever its body."""
    wrong = scene.engine.receive("POST", f"{HOOKS}/mailchimp?secret=guess", {}, NOT_A_BODY)
    missing = scene.engine.receive("POST", f"{HOOKS}/mailchimp", {}, NOT_A_BODY)
    right = scene.engine.receive("POST", MAILCHIMP_URL, {}, NOT_A_BODY)

    assert (wrong.status, missing.status) == (401, 401)
    assert right.status == 400


def test_mailchimp_url_check_is_answered_200(scene: Scene):
    """Mailchimp's GET that validates a new webhook URL gets 200 and changes nothing."""
    assert scene.engine.receive("GET", f"{HOOKS}/mailchimp", {}, b"").status == 200
    assert scene.engine.receive("POST", f"{HOOKS}/elsewhere", {}, b"").status == 404


def test_mailchimp_signed_deliveries_are_checked_when_signing_is_enabled(scene: Scene):
    """With a signing secret, a valid signature passes; a wrong or old one gets 401."""
    signing = Secret("whsec-signing-5e1f")
    scene.engine = scene.new_engine(
        mailchimp_webhook_auth=MailchimpWebhookAuth(signing_secret=signing)
    )
    body = urllib.parse.urlencode(
        {
            "type": "profile",
            "fired_at": scene.now().strftime("%Y-%m-%d %H:%M:%S"),
            "data[list_id]": scene.audience,
            "data[email]": "nobody@unknown-mail.net",
        }
    ).encode()
    stamp = int(scene.now().timestamp())

    def answer(header: str) -> int:
        headers = {"X-Mailchimp-Signature": header}
        return scene.engine.receive("POST", f"{HOOKS}/mailchimp", headers, body).status

    assert answer(signature_header(signing, stamp, body)) == 200
    assert answer(signature_header(Secret("another-secret"), stamp, body)) == 401
    assert answer(signature_header(signing, stamp, body + b"&tampered=1")) == 401
    assert answer(signature_header(signing, stamp - 3600, body)) == 401
    assert scene.engine.receive("POST", f"{HOOKS}/mailchimp", {}, NOT_A_BODY).status == 401


def test_mailchimp_deliveries_signed_by_the_service_pass(scene: Scene):
    """A caller who registered a signed webhook and gives pdmc its secret gets it synced."""
    scene.member("dora@prospect-mail.de", fname="Dora")
    scene.segments_flow(scene.tag("Prospects", ["dora@prospect-mail.de"]))
    scene.tick()
    for hook in scene.mailchimp.list_webhooks(scene.audience):
        scene.mailchimp.delete_webhook(scene.audience, hook.id)
    signed = scene.mailchimp.create_webhook(
        scene.audience,
        f"{HOOKS}/mailchimp",
        events=WebhookEvents(profile=True),
        sources=WebhookSources(user=True, admin=True, api=False),
    )
    assert signed.signing_secret is not None
    scene.engine = scene.new_engine(
        mailchimp_webhook_auth=MailchimpWebhookAuth(signing_secret=signed.signing_secret)
    )

    scene.update_profile("dora@prospect-mail.de", FNAME="Do")
    scene.webhooks_now()

    assert [(a.status, a.synced) for a in scene.answers[-1:]] == [(200, 1)]
    assert scene.persons()["dora@prospect-mail.de"]["first_name"] == "Do"


# -- de-duplication and current state ----------------------------------------------------------


def test_the_same_pipedrive_delivery_twice_is_a_duplicate(scene: Scene, ada: int):
    """Pipedrive's second delivery of one event is acknowledged as a duplicate and not synced."""
    caught = _caught(scene, "pipedrive")
    scene.update_person(ada, first_name="Augusta")
    scene.webhooks_now()
    (delivery,) = caught
    writes_before = scene.emulator.mailchimp.log.by_operation().get("postListsId")

    first = scene.engine.receive(delivery.method, delivery.url, delivery.headers, delivery.body)
    second = scene.engine.receive(delivery.method, delivery.url, delivery.headers, delivery.body)

    assert (first.duplicate, first.synced) == (False, 1)
    assert (second.status, second.duplicate, second.synced) == (200, True, 0)
    writes = scene.emulator.mailchimp.log.by_operation()["postListsId"].requests
    assert writes == (writes_before.requests if writes_before else 0) + 1


def test_the_same_mailchimp_delivery_twice_is_a_duplicate(scene: Scene):
    """Mailchimp's second delivery of one event is acknowledged as a duplicate and not synced."""
    scene.member("dora@prospect-mail.de", fname="Dora")
    scene.segments_flow(scene.tag("Prospects", ["dora@prospect-mail.de"]))
    scene.tick()
    scene.later()
    caught = _caught(scene, "mailchimp")
    scene.update_profile("dora@prospect-mail.de", FNAME="Dorothea")
    scene.webhooks_now()
    (delivery,) = caught

    first = scene.engine.receive(delivery.method, delivery.url, delivery.headers, delivery.body)
    second = scene.engine.receive(delivery.method, delivery.url, delivery.headers, delivery.body)

    assert (first.duplicate, first.synced) == (False, 1)
    assert (second.status, second.duplicate, second.synced) == (200, True, 0)
    assert scene.persons()["dora@prospect-mail.de"]["first_name"] == "Dorothea"


def test_a_stale_pipedrive_event_writes_the_current_values(scene: Scene, ada: int):
    """The engine re-reads the person, so an old event writes what Pipedrive holds now."""
    caught = _caught(scene, "pipedrive")
    scene.update_person(ada, first_name="Augusta")
    scene.later()
    scene.update_person(ada, first_name="Augusta Ada", last_name="King")
    scene.webhooks_now()
    stale = caught[0]
    assert json.loads(stale.body)["data"]["first_name"] == "Augusta"

    answer = scene.engine.receive(stale.method, stale.url, stale.headers, stale.body)

    assert answer.status == 200
    member = scene.mc("ada@lovelace-labs.io")
    assert (member["merge_fields"]["FNAME"], member["merge_fields"]["LNAME"]) == (
        "Augusta Ada",
        "King",
    )


def test_a_stale_mailchimp_event_writes_the_current_values(scene: Scene):
    """The engine re-reads the member, so an old profile event writes what Mailchimp holds now."""
    scene.member("dora@prospect-mail.de", fname="Dora")
    scene.segments_flow(scene.tag("Prospects", ["dora@prospect-mail.de"]))
    scene.tick()
    scene.later()
    caught = _caught(scene, "mailchimp")
    scene.update_profile("dora@prospect-mail.de", FNAME="Do")
    scene.later()
    scene.update_profile("dora@prospect-mail.de", FNAME="Dorothea", LNAME="Weiss")
    scene.webhooks_now()
    stale = caught[0]
    assert b"data%5Bmerges%5D%5BFNAME%5D=Do&" in stale.body

    scene.engine.receive(stale.method, stale.url, stale.headers, stale.body)

    person = scene.persons()["dora@prospect-mail.de"]
    assert (person["first_name"], person["last_name"]) == ("Dorothea", "Weiss")


# -- ensure_webhooks -------------------------------------------------------------------------


def test_ensure_webhooks_is_idempotent(scene: Scene, ada: int):
    """A second ensure_webhooks creates and deletes nothing."""
    scene.new_contact_flow()

    again = scene.engine.ensure_webhooks(HOOKS)
    third = scene.engine.ensure_webhooks(HOOKS)

    assert (again.created, again.deleted) == ((), ())
    assert not again.changed
    assert third == again
    assert sorted(again.kept) == ["mailchimp " + scene.audience, "pipedrive person.change"]


def test_ensure_webhooks_repairs_a_deleted_webhook(scene: Scene, ada: int):
    """A webhook someone deleted is registered again, and only that one."""
    scene.new_contact_flow()
    (pipedrive_hook,) = scene.pipedrive.list_webhooks()
    (mailchimp_hook,) = scene.mailchimp.list_webhooks(scene.audience)
    scene.pipedrive.delete_webhook(pipedrive_hook.id)
    scene.mailchimp.delete_webhook(scene.audience, mailchimp_hook.id)

    setup = scene.engine.ensure_webhooks(HOOKS)

    assert sorted(setup.created) == ["mailchimp " + scene.audience, "pipedrive person.change"]
    assert setup.deleted == ()
    scene.update_person(ada, first_name="Augusta")
    scene.webhooks_now()
    assert scene.mc("ada@lovelace-labs.io")["merge_fields"]["FNAME"] == "Augusta"


def test_ensure_webhooks_registers_authenticated_webhooks(scene: Scene, ada: int):
    """Pipedrive webhooks carry the Basic-auth user and v2 payloads; Mailchimp's the URL secret."""
    (hook,) = scene.pipedrive.list_webhooks()
    scene.new_contact_flow()
    (audience_hook,) = scene.mailchimp.list_webhooks(scene.audience)

    assert hook.subscription_url == PIPEDRIVE_URL
    assert hook.http_auth_user == "pdmc"
    assert str(hook.version) == "2.0"
    assert audience_hook.url == MAILCHIMP_URL
    assert audience_hook.sources.api is False
