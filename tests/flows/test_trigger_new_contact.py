"""The "New contact in a Mailchimp audience" row of the trigger table, one test per sentence.

| New contact in a Mailchimp audience | MC→PD | event | Only contacts added after
activation; created or updated in Pipedrive near-instantly; members that existed before
activation are never synced. |
"""

from __future__ import annotations

import pytest

from pdmc.flows import DEFAULT_INTERVAL, Flow
from tests.flows.conftest import Scene

OLD_MEMBERS = ("olga@archive-mail.ru", "oscar@old-list.se")


@pytest.fixture
def flow(scene: Scene) -> Flow:
    """Two members joined before the flow was activated; the flow's first run is done."""
    for email in OLD_MEMBERS:
        scene.member(email, fname=email.split("@")[0].title())
    scene.later()
    flow = scene.new_contact_flow()
    scene.tick()
    scene.later()
    return flow


def test_new_contact_only_contacts_added_after_activation_are_synced(scene: Scene, flow: Flow):
    """'Only contacts added after activation': a sign-up after activation reaches Pipedrive."""
    scene.emulator.mailchimp.subscribe(
        scene.audience, "nina@new-signup.fi", merge_fields={"FNAME": "Nina", "LNAME": "Laine"}
    )
    scene.webhooks_now()

    persons = scene.persons()
    assert sorted(persons) == ["nina@new-signup.fi"]
    assert persons["nina@new-signup.fi"]["last_name"] == "Laine"


def test_new_contact_is_created_or_updated_in_pipedrive_near_instantly(scene: Scene, flow: Flow):
    """'Created or updated in Pipedrive near-instantly': by webhook, never a second person."""
    known = scene.person("Pia Berg", "Pia.Berg@Known-Lead.no")
    scene.later()

    scene.emulator.mailchimp.subscribe(
        scene.audience, "pia.berg@known-lead.no", merge_fields={"FNAME": "Pia", "LNAME": "Lund"}
    )
    scene.emulator.mailchimp.subscribe(
        scene.audience, "nina@new-signup.fi", merge_fields={"FNAME": "Nina"}
    )
    scene.webhooks_now()  # no scheduled run in between

    persons = scene.persons()
    assert sorted(persons) == ["nina@new-signup.fi", "pia.berg@known-lead.no"]
    assert persons["pia.berg@known-lead.no"]["id"] == known
    assert persons["pia.berg@known-lead.no"]["last_name"] == "Lund"
    assert scene.emulator.pipedrive.person_count() == 2


def test_new_contact_members_that_existed_before_activation_are_never_synced(
    scene: Scene, flow: Flow
):
    """'Members that existed before activation are never synced', by webhook or by schedule."""
    scene.update_profile(OLD_MEMBERS[0], FNAME="Olya")
    scene.emulator.mailchimp.unsubscribe(scene.audience, OLD_MEMBERS[1])
    scene.emulator.mailchimp.subscribe(scene.audience, OLD_MEMBERS[1])  # back, by themselves
    scene.webhooks_now()
    scene.later(DEFAULT_INTERVAL)
    report = scene.tick()[flow.id]

    assert scene.persons() == {}
    assert report.writes == 0


def test_new_contact_a_missed_webhook_is_made_up_by_the_polling_fallback(scene: Scene, flow: Flow):
    """A sign-up whose webhook never arrived is created by the flow's next scheduled run."""
    scene.emulator.mailchimp.subscribe(
        scene.audience, "nina@new-signup.fi", merge_fields={"FNAME": "Nina"}
    )
    scene.outage()
    assert scene.persons() == {}
    scene.later(DEFAULT_INTERVAL)
    report = scene.tick()[flow.id]

    assert report.counts["created"] == 1
    assert sorted(scene.persons()) == ["nina@new-signup.fi"]


def test_new_contact_later_updates_are_not_synced_by_this_flow(scene: Scene, flow: Flow):
    """A new contact is synced once: its later profile changes stay out of this flow."""
    scene.emulator.mailchimp.subscribe(
        scene.audience, "nina@new-signup.fi", merge_fields={"FNAME": "Nina"}
    )
    scene.webhooks_now()
    scene.later()

    scene.update_profile("nina@new-signup.fi", FNAME="Nea")
    scene.webhooks_now()
    scene.later(DEFAULT_INTERVAL)
    report = scene.tick()[flow.id]

    assert scene.persons()["nina@new-signup.fi"]["first_name"] == "Nina"
    assert report.writes == 0
