"""The "Pipedrive filters" row of the trigger table, one test per sentence, on the emulator.

| Pipedrive filters (one or more) | PD→MC | scheduled | Initial sync within 10 min of
activation; new matches several times a day; field updates near-instant. Contacts stay
in Mailchimp when they stop matching, and their updates keep syncing. Deleting a
person in Pipedrive never deletes in Mailchimp, and stops its updates. If all chosen
filters are deleted, the flow deactivates itself. Preview the matching contacts before
saving; a new filter can be created while configuring the flow. New Mailchimp contacts
are created as "subscribed" (the caller confirms this). Optional tag. |
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from pdmc.clients.pipedrive.models import FilterCondition, FilterConditionGroup, FilterConditions
from pdmc.errors import ConfigurationError
from pdmc.flows import DEFAULT_INTERVAL, PipedriveFiltersTrigger
from tests.flows.conftest import Scene


@pytest.fixture
def buyers(scene: Scene) -> int:
    """A "job title is Buyer" filter matching Ada and Cleo; Bob is an engineer."""
    scene.person("Ada Lovelace", "ada@lovelace-labs.io", job_title="Buyer")
    scene.person("Bob Stone", "bob@stone-works.io", job_title="Engineer")
    scene.person("Cleo Marsh", "Cleo.Marsh@Marsh-Trading.co.uk", job_title="Buyer")
    return scene.job_filter("Buyer")


def test_filters_initial_sync_starts_within_10_minutes_of_activation(scene: Scene, buyers: int):
    """'Initial sync within 10 min of activation': a flow activated at T is due, and runs, at T."""
    flow = scene.flow(PipedriveFiltersTrigger([buyers]))
    scene.engine.create_flow(flow, confirm_subscribed=True)
    assert scene.tick() == {}  # a saved flow that is not active never runs
    activated_at = scene.now()
    state = scene.engine.activate(flow.id)
    assert state.record.next_run_at == activated_at

    reports = {r.flow_id: r for r in scene.engine.run_due(activated_at)}

    assert reports[flow.id].counts["created"] == 2
    members = scene.members()
    assert sorted(members) == ["ada@lovelace-labs.io", "cleo.marsh@marsh-trading.co.uk"]
    assert members["ada@lovelace-labs.io"]["merge_fields"]["FNAME"] == "Ada"


def test_filters_new_matches_sync_several_times_a_day(scene: Scene, buyers: int):
    """'New matches several times a day': a new match appears once the flow's interval elapses."""
    flow = scene.filters_flow(buyers)
    assert flow.interval == DEFAULT_INTERVAL
    assert timedelta(days=1) / DEFAULT_INTERVAL >= 3  # several runs a day
    scene.tick()
    scene.later()
    scene.person("Dan Okafor", "dan@okafor-supply.ng", job_title="Buyer")

    assert scene.tick() == {}  # not due yet: nothing between the runs
    assert scene.mc("dan@okafor-supply.ng") is None
    scene.later(DEFAULT_INTERVAL)
    reports = scene.tick()

    assert reports[flow.id].counts["created"] == 1
    assert scene.mc("dan@okafor-supply.ng")["status"] == "subscribed"


def test_filters_field_updates_sync_near_instantly(scene: Scene, buyers: int):
    """'Field updates near-instant': a synced person's change reaches Mailchimp by webhook."""
    scene.filters_flow(buyers)
    scene.tick()
    ada = scene.persons()["ada@lovelace-labs.io"]["id"]

    scene.update_person(ada, first_name="Augusta Ada")
    scene.webhooks_now()  # no scheduled run in between

    assert scene.mc("ada@lovelace-labs.io")["merge_fields"]["FNAME"] == "Augusta Ada"
    assert scene.answers[-1].synced == 1


def test_filters_contacts_that_stop_matching_stay_in_mailchimp_and_their_updates_keep_syncing(
    scene: Scene, buyers: int
):
    """'Contacts stay in Mailchimp when they stop matching, and their updates keep syncing.'"""
    flow = scene.filters_flow(buyers)
    scene.tick()
    ada = scene.persons()["ada@lovelace-labs.io"]["id"]

    scene.update_person(ada, job_title="Engineer")  # no longer matches the filter
    scene.webhooks_now()
    scene.later(DEFAULT_INTERVAL)
    scene.tick()
    assert scene.mc("ada@lovelace-labs.io")["status"] == "subscribed"

    scene.update_person(ada, last_name="King")
    scene.webhooks_now()
    assert scene.mc("ada@lovelace-labs.io")["merge_fields"]["LNAME"] == "King"

    scene.update_person(ada, first_name="Augusta")
    scene.outage()  # the webhook and its retries fail; Pipedrive gives up
    assert scene.mc("ada@lovelace-labs.io")["merge_fields"]["FNAME"] == "Ada"
    scene.later(DEFAULT_INTERVAL)
    reports = scene.tick()
    assert reports[flow.id].counts["updated"] == 1  # the scheduled pass makes up for it
    assert scene.mc("ada@lovelace-labs.io")["merge_fields"]["FNAME"] == "Augusta"


def test_filters_deleting_a_person_never_deletes_in_mailchimp_and_stops_its_updates(
    scene: Scene, buyers: int
):
    """'Deleting a person in Pipedrive never deletes in Mailchimp, and stops its updates.'"""
    flow = scene.filters_flow(buyers)
    scene.tick()
    ada = scene.persons()["ada@lovelace-labs.io"]["id"]
    scene.later()
    before = scene.mc("ada@lovelace-labs.io")

    scene.emulator.pipedrive.delete_person(ada)
    scene.webhooks_now()
    scene.later(DEFAULT_INTERVAL)
    reports = scene.tick()
    scene.later(DEFAULT_INTERVAL)
    later_reports = scene.tick()

    after = scene.mc("ada@lovelace-labs.io")
    assert after == before  # same status, fields and last change: nothing touched it
    assert reports[flow.id].writes == 0
    assert later_reports[flow.id].writes == 0
    assert scene.emulator.mailchimp.member_count(scene.audience) == 2


def test_filters_deleting_every_chosen_filter_deactivates_the_flow(scene: Scene, buyers: int):
    """'If all chosen filters are deleted, the flow deactivates itself' (with the reason)."""
    engineers = scene.job_filter("Engineer")
    flow = scene.filters_flow(buyers, engineers)
    scene.tick()

    scene.emulator.pipedrive.delete_filter(buyers)
    scene.person("Eve Adams", "eve@adams-ops.io", job_title="Engineer")
    scene.later(DEFAULT_INTERVAL)
    one_left = scene.tick()[flow.id]
    assert one_left.errors == ()  # the flow keeps syncing the filter that is left
    assert scene.engine.get_flow(flow.id).status == "active"
    assert scene.mc("eve@adams-ops.io") is not None

    scene.emulator.pipedrive.delete_filter(engineers)
    scene.later(DEFAULT_INTERVAL)
    report = scene.tick()[flow.id]

    record = scene.store.get_flow(flow.id)
    assert record is not None
    assert record.status == "deactivated"
    assert record.status_reason == report.deactivated
    assert "filter" in (record.status_reason or "")
    assert str(buyers) in (record.status_reason or "")
    scene.later(DEFAULT_INTERVAL * 3)
    assert scene.tick() == {}
    assert scene.engine.run_due(scene.now() + timedelta(days=30)) == []


def test_filters_preview_the_matching_contacts_before_saving(scene: Scene, buyers: int):
    """'Preview the matching contacts before saving': the matches, before anything is saved."""
    flow = scene.flow(PipedriveFiltersTrigger([buyers]))

    preview = scene.engine.preview(flow)

    assert sorted((row.email or "").lower() for row in preview.rows) == [
        "ada@lovelace-labs.io",
        "cleo.marsh@marsh-trading.co.uk",
    ]
    assert {row.values["FNAME"] for row in preview.rows} == {"Ada", "Cleo"}
    assert scene.store.list_flows() == []
    assert scene.members() == {}
    assert "<table>" in preview._repr_html_()


def test_filters_a_new_filter_can_be_created_while_configuring_the_flow(scene: Scene):
    """'A new filter can be created while configuring the flow': create, preview, save, run."""
    scene.person("Ines Peña", "ines.pena@correo-sur.es", job_title="Founder")
    field_id = scene.emulator.pipedrive.person_field_id("job_title")
    condition = FilterCondition(
        object="person", field_id=str(field_id), operator="=", value="Founder"
    )
    created = scene.pipedrive.create_filter(
        "Founders",
        FilterConditions(
            conditions=(
                FilterConditionGroup(glue="and", conditions=(condition,)),
                FilterConditionGroup(glue="or"),
            )
        ),
    )
    flow = scene.flow(PipedriveFiltersTrigger([created.id]))

    assert [row.email for row in scene.engine.preview(flow).rows] == ["ines.pena@correo-sur.es"]
    scene.start(flow)
    scene.tick()
    assert scene.mc("ines.pena@correo-sur.es")["merge_fields"]["FNAME"] == "Ines"


def test_filters_new_mailchimp_contacts_are_created_subscribed_once_the_caller_confirms(
    scene: Scene, buyers: int
):
    """'New Mailchimp contacts are created as "subscribed" (the caller confirms this).'"""
    scene.member("cleo.marsh@marsh-trading.co.uk", fname="C.", status="unsubscribed")
    flow = scene.flow(PipedriveFiltersTrigger([buyers]))
    with pytest.raises(ConfigurationError, match="confirm_subscribed"):
        scene.engine.create_flow(flow)
    assert scene.store.get_flow(flow.id) is None

    scene.start(flow)  # confirm_subscribed=True
    report = scene.tick()[flow.id]

    assert scene.mc("ada@lovelace-labs.io")["status"] == "subscribed"
    assert scene.mc("cleo.marsh@marsh-trading.co.uk")["status"] == "unsubscribed"
    assert report.counts["created"] == 1


def test_filters_optional_tag(scene: Scene, buyers: int):
    """'Optional tag': a flow with a tag puts it on its members; one without puts none."""
    scene.person("Eve Adams", "eve@adams-ops.io", job_title="Engineer")
    engineers = scene.job_filter("Engineer")
    scene.filters_flow(buyers, flow_id="buyers", tag="Pipedrive buyers")
    scene.filters_flow(engineers, flow_id="engineers")

    scene.tick()

    assert scene.tag_names("ada@lovelace-labs.io") == ["Pipedrive buyers"]
    assert scene.tag_names("cleo.marsh@marsh-trading.co.uk") == ["Pipedrive buyers"]
    assert scene.tag_names("eve@adams-ops.io") == []
    assert scene.tag_names("bob@stone-works.io") == []
