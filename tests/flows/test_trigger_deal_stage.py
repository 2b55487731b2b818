"""The "Deal reaches a pipeline stage" row of the trigger table, one test per sentence.

| Deal reaches a pipeline stage | PD→MC | event | When a deal moves into the chosen
stage (of the chosen pipeline), the deal's person is synced near-instantly; existing
Mailchimp contacts are updated. Later updates of that contact are not synced by this
flow; moving the deal out of the stage changes nothing; archiving or deleting the deal
or person deletes nothing. New contacts "subscribed" (confirmed); optional tag. |
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from pdmc.errors import ConfigurationError
from pdmc.flows import DEFAULT_INTERVAL, DealStageTrigger, Flow
from tests.flows.conftest import Scene


@dataclass
class Pipeline:
    """The default pipeline's stages, a second pipeline's stage, and Ada's deal."""

    id: int
    lead_in: int
    demo: int
    proposal: int
    other_pipeline_stage: int
    ada: int
    deal: int


@pytest.fixture
def sales(scene: Scene) -> Pipeline:
    """Ada has a deal in the first stage of the default pipeline."""
    pipeline = scene.default_pipeline()
    partners = scene.emulator.pipedrive.add_pipeline("Partnerships")
    other = scene.emulator.pipedrive.add_stage(partners, "In talks")
    ada = scene.person("Ada Lovelace", "ada@lovelace-labs.io")
    lead_in = scene.stage(pipeline, 0)
    deal = scene.emulator.pipedrive.add_deal(title="Engines", person_id=ada, stage_id=lead_in)
    return Pipeline(
        id=pipeline,
        lead_in=lead_in,
        demo=scene.stage(pipeline, 2),
        proposal=scene.stage(pipeline, 3),
        other_pipeline_stage=other,
        ada=ada,
        deal=deal,
    )


def _demo_flow(scene: Scene, sales: Pipeline, **options: object) -> Flow:
    """The flow "deal reaches Demo scheduled", started, its first (empty) run done."""
    flow = scene.deal_flow(sales.id, sales.demo, **options)
    scene.tick()
    scene.later()
    return flow


def test_deal_stage_moving_a_deal_into_the_chosen_stage_syncs_its_person_near_instantly(
    scene: Scene, sales: Pipeline
):
    """'When a deal moves into the chosen stage, the deal's person is synced near-instantly.'"""
    _demo_flow(scene, sales)
    assert scene.members() == {}

    scene.emulator.pipedrive.move_deal(sales.deal, sales.demo)
    scene.webhooks_now()  # no scheduled run in between

    member = scene.mc("ada@lovelace-labs.io")
    assert member is not None
    assert member["merge_fields"]["FNAME"] == "Ada"


def test_deal_stage_only_the_chosen_stage_of_the_chosen_pipeline_counts(
    scene: Scene, sales: Pipeline
):
    """'Moves into the chosen stage (of the chosen pipeline)': other stages and pipelines do not."""
    flow = _demo_flow(scene, sales)

    scene.emulator.pipedrive.move_deal(sales.deal, sales.proposal)
    scene.emulator.pipedrive.move_deal(sales.deal, sales.other_pipeline_stage)
    scene.webhooks_now()
    scene.later(flow.interval)
    scene.tick()

    assert scene.members() == {}


def test_deal_stage_existing_mailchimp_contacts_are_updated(scene: Scene, sales: Pipeline):
    """'Existing Mailchimp contacts are updated': their fields change, their status does not."""
    scene.member("ada@lovelace-labs.io", fname="A.", status="pending")
    _demo_flow(scene, sales)

    scene.emulator.pipedrive.move_deal(sales.deal, sales.demo)
    scene.webhooks_now()

    member = scene.mc("ada@lovelace-labs.io")
    assert member is not None
    assert member["merge_fields"]["FNAME"] == "Ada"
    assert member["status"] == "pending"
    assert len(scene.members()) == 1


def test_deal_stage_later_updates_of_that_contact_are_not_synced_by_this_flow(
    scene: Scene, sales: Pipeline
):
    """'Later updates of that contact are not synced by this flow', by webhook or schedule."""
    flow = _demo_flow(scene, sales)
    scene.emulator.pipedrive.move_deal(sales.deal, sales.demo)
    scene.webhooks_now()

    scene.later()
    scene.update_person(sales.ada, first_name="Augusta")
    scene.webhooks_now()
    scene.later(flow.interval)
    report = scene.tick()[flow.id]

    assert scene.mc("ada@lovelace-labs.io")["merge_fields"]["FNAME"] == "Ada"
    assert report.writes == 0

    scene.emulator.pipedrive.move_deal(sales.deal, sales.proposal)
    scene.later()
    scene.emulator.pipedrive.move_deal(sales.deal, sales.demo)  # a new move into the stage
    scene.webhooks_now()
    assert scene.mc("ada@lovelace-labs.io")["merge_fields"]["FNAME"] == "Augusta"


def test_deal_stage_moving_the_deal_out_of_the_stage_changes_nothing(scene: Scene, sales: Pipeline):
    """'Moving the deal out of the stage changes nothing' in Mailchimp."""
    flow = _demo_flow(scene, sales)
    scene.emulator.pipedrive.move_deal(sales.deal, sales.demo)
    scene.webhooks_now()
    scene.later()
    before = scene.members()

    scene.emulator.pipedrive.move_deal(sales.deal, sales.proposal)
    scene.webhooks_now()
    scene.later(flow.interval)
    report = scene.tick()[flow.id]

    assert scene.members() == before
    assert report.writes == 0


def test_deal_stage_archiving_or_deleting_the_deal_or_person_deletes_nothing(
    scene: Scene, sales: Pipeline
):
    """'Archiving or deleting the deal or person deletes nothing' in Mailchimp."""
    flow = _demo_flow(scene, sales)
    scene.emulator.pipedrive.move_deal(sales.deal, sales.demo)
    scene.webhooks_now()
    scene.later()
    before = scene.members()

    _close_as_lost(scene, sales.deal)  # the emulator has no archive: closing is nearest
    scene.webhooks_now()
    scene.emulator.pipedrive.delete_deal(sales.deal)
    scene.emulator.pipedrive.delete_person(sales.ada)
    scene.webhooks_now()
    scene.later(flow.interval)
    scene.tick()

    assert scene.members() == before
    assert before["ada@lovelace-labs.io"]["status"] == "subscribed"


def _close_as_lost(scene: Scene, deal_id: int) -> None:
    """A user closes the deal as lost, through the API (the state API has no such call)."""
    token = scene.emulator.pipedrive.default_company.api_token.reveal()
    with httpx.Client(transport=scene.emulator.transport) as http:
        answer = http.patch(
            f"https://api.pipedrive.com/api/v2/deals/{deal_id}",
            headers={"x-api-token": token},
            json={"status": "lost"},
        )
    assert answer.status_code == 200


def test_deal_stage_new_contacts_are_created_subscribed_once_confirmed(
    scene: Scene, sales: Pipeline
):
    """'New contacts "subscribed" (confirmed)': refused unconfirmed, subscribed once confirmed."""
    flow = scene.flow(DealStageTrigger(sales.id, sales.demo))
    with pytest.raises(ConfigurationError, match="confirm_subscribed"):
        scene.engine.create_flow(flow)
    scene.start(flow)

    scene.emulator.pipedrive.move_deal(sales.deal, sales.demo)
    scene.webhooks_now()

    assert scene.mc("ada@lovelace-labs.io")["status"] == "subscribed"


def test_deal_stage_optional_tag(scene: Scene, sales: Pipeline):
    """'Optional tag': the flow's tag is put on the deal's person in Mailchimp."""
    _demo_flow(scene, sales, tag="Demo booked")

    scene.emulator.pipedrive.move_deal(sales.deal, sales.demo)
    scene.webhooks_now()

    assert scene.tag_names("ada@lovelace-labs.io") == ["Demo booked"]


def test_deal_stage_a_missed_webhook_is_made_up_by_the_scheduled_fallback(
    scene: Scene, sales: Pipeline
):
    """A move whose webhook never arrived is synced by the flow's next scheduled run."""
    flow = _demo_flow(scene, sales)

    scene.emulator.pipedrive.move_deal(sales.deal, sales.demo)
    scene.outage()
    assert scene.members() == {}
    scene.later(DEFAULT_INTERVAL)
    report = scene.tick()[flow.id]

    assert report.counts["created"] == 1
    assert scene.mc("ada@lovelace-labs.io")["merge_fields"]["FNAME"] == "Ada"
