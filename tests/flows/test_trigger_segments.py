"""The "Mailchimp segments or tags" row of the trigger table, one test per sentence.

| Mailchimp segments or tags (one or more) | MC→PD | scheduled | Initial sync starts
within 10 min of activation. New matching contacts and updates sync several times a
day. Field updates of already-synced contacts sync near-instantly. A contact that stops
matching stays in Pipedrive but gets no more updates until it matches again.
Archive/delete in Mailchimp never deletes in Pipedrive. If all chosen segments/tags are
deleted, the flow deactivates itself (with the reason recorded). |
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from pdmc.flows import DEFAULT_INTERVAL, MailchimpSegmentsTrigger
from tests.flows.conftest import Scene

CUSTOMERS = ("ada@lovelace-labs.io", "bob@stone-works.io", "cleo@marsh-trading.co.uk")


@pytest.fixture
def customers(scene: Scene) -> int:
    """A "Customer" tag on three members; a fourth member has no tag."""
    for email in CUSTOMERS:
        scene.member(email, fname=email.split("@")[0].title(), lname="Customer")
    scene.member("dora@prospect-mail.de", fname="Dora")
    return scene.tag("Customer", CUSTOMERS)


def test_segments_initial_sync_starts_within_10_minutes_of_activation(scene: Scene, customers: int):
    """'Initial sync starts within 10 min of activation': activated at T, it runs at T."""
    flow = scene.flow(MailchimpSegmentsTrigger([customers]))
    scene.engine.create_flow(flow)
    assert scene.tick() == {}
    activated_at = scene.now()
    assert scene.engine.activate(flow.id).record.next_run_at == activated_at

    reports = {r.flow_id: r for r in scene.engine.run_due(activated_at)}

    assert reports[flow.id].counts["created"] == 3
    persons = scene.persons()
    assert sorted(persons) == sorted(CUSTOMERS)
    assert persons["ada@lovelace-labs.io"]["first_name"] == "Ada"


def test_segments_new_matching_contacts_and_updates_sync_several_times_a_day(
    scene: Scene, customers: int
):
    """'New matching contacts and updates sync several times a day', on the flow's interval."""
    flow = scene.segments_flow(customers)
    assert flow.interval == DEFAULT_INTERVAL
    assert timedelta(days=1) / DEFAULT_INTERVAL >= 3
    scene.tick()
    scene.later()

    scene.set_tag("dora@prospect-mail.de", "Customer", on=True)
    # Another integration renames Bob through the API: no webhook reaches pdmc for it.
    scene.mailchimp.update_member(
        scene.audience, "bob@stone-works.io", merge_fields={"FNAME": "Robert"}
    )
    scene.webhooks_now()
    assert scene.tick() == {}
    assert "dora@prospect-mail.de" not in scene.persons()
    scene.later(DEFAULT_INTERVAL)
    report = scene.tick()[flow.id]

    persons = scene.persons()
    assert persons["dora@prospect-mail.de"]["first_name"] == "Dora"
    assert persons["bob@stone-works.io"]["first_name"] == "Robert"
    assert (report.counts["created"], report.counts["updated"]) == (1, 1)


def test_segments_field_updates_of_synced_contacts_sync_near_instantly(
    scene: Scene, customers: int
):
    """'Field updates of already-synced contacts sync near-instantly', by webhook."""
    scene.segments_flow(customers)
    scene.tick()
    scene.later()

    scene.update_profile("ada@lovelace-labs.io", FNAME="Augusta")
    scene.webhooks_now()  # no scheduled run in between

    assert scene.persons()["ada@lovelace-labs.io"]["first_name"] == "Augusta"


def test_segments_contact_that_stops_matching_stays_in_pipedrive_and_gets_no_updates_until_it_matches_again(  # noqa: E501 - named after the sentence
    scene: Scene, customers: int
):
    """'A contact that stops matching stays in Pipedrive but gets no more updates until it
    matches again.'"""
    flow = scene.segments_flow(customers)
    scene.tick()
    scene.later()

    scene.set_tag("ada@lovelace-labs.io", "Customer", on=False)
    scene.later(DEFAULT_INTERVAL)
    scene.tick()  # the pass no longer finds Ada
    assert scene.persons()["ada@lovelace-labs.io"]["first_name"] == "Ada"

    scene.update_profile("ada@lovelace-labs.io", FNAME="Augusta")
    scene.webhooks_now()
    scene.later(DEFAULT_INTERVAL)
    scene.tick()
    assert scene.persons()["ada@lovelace-labs.io"]["first_name"] == "Ada"

    scene.set_tag("ada@lovelace-labs.io", "Customer", on=True)
    scene.later(DEFAULT_INTERVAL)
    report = scene.tick()[flow.id]
    assert scene.persons()["ada@lovelace-labs.io"]["first_name"] == "Augusta"
    assert report.counts["updated"] == 1

    scene.update_profile("ada@lovelace-labs.io", LNAME="King")
    scene.webhooks_now()
    assert scene.persons()["ada@lovelace-labs.io"]["last_name"] == "King"


def test_segments_archive_or_delete_in_mailchimp_never_deletes_in_pipedrive(
    scene: Scene, customers: int
):
    """'Archive/delete in Mailchimp never deletes in Pipedrive.'"""
    flow = scene.segments_flow(customers)
    scene.tick()
    scene.later()
    before = scene.persons()

    scene.emulator.mailchimp.archive(scene.audience, "ada@lovelace-labs.io")
    scene.emulator.mailchimp.forget(scene.audience, "bob@stone-works.io")
    scene.webhooks_now()
    scene.later(DEFAULT_INTERVAL)
    report = scene.tick()[flow.id]

    assert scene.persons() == before
    assert report.writes == 0


def test_segments_deleting_every_chosen_segment_or_tag_deactivates_the_flow_with_the_reason(
    scene: Scene, customers: int
):
    """'If all chosen segments/tags are deleted, the flow deactivates itself (with the reason).'"""
    vip = scene.emulator.mailchimp.add_saved_segment(
        scene.audience,
        "Named Ada",
        {
            "match": "all",
            "conditions": [
                {"condition_type": "TextMerge", "field": "FNAME", "op": "is", "value": "Ada"}
            ],
        },
    )
    flow = scene.segments_flow(customers, vip)
    scene.tick()

    scene.emulator.mailchimp.delete_segment(scene.audience, customers)
    scene.later(DEFAULT_INTERVAL)
    assert scene.tick()[flow.id].errors == ()  # the segment that is left keeps syncing
    assert scene.engine.get_flow(flow.id).status == "active"

    scene.emulator.mailchimp.delete_segment(scene.audience, vip)
    scene.later(DEFAULT_INTERVAL)
    report = scene.tick()[flow.id]

    record = scene.store.get_flow(flow.id)
    assert record is not None
    assert record.status == "deactivated"
    assert record.status_reason == report.deactivated
    assert str(customers) in (record.status_reason or "")
    assert str(vip) in (record.status_reason or "")
    scene.later(DEFAULT_INTERVAL * 3)
    assert scene.tick() == {}
    scene.update_profile("ada@lovelace-labs.io", FNAME="Augusta")
    scene.webhooks_now()
    assert scene.persons()["ada@lovelace-labs.io"]["first_name"] == "Ada"
