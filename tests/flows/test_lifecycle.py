"""A flow's life: create (checked against the live catalogs), preview, save, activate, pause,
edit, delete, list and history, through the engine on the emulator."""

from __future__ import annotations

import pytest

from pdmc.errors import (
    ConfigurationError,
    FieldMapRuleError,
    FlowNotFoundError,
    InvalidFieldMapError,
)
from pdmc.flows import (
    DEFAULT_INTERVAL,
    DealStageTrigger,
    MailchimpSegmentsTrigger,
    NewMailchimpContactTrigger,
    PipedriveFiltersTrigger,
)
from pdmc.mapping import Direction, FieldPair
from tests.flows.conftest import HOOKS, Scene


@pytest.fixture
def buyers(scene: Scene) -> int:
    """A "job title is Buyer" filter matching Ada and Cleo."""
    scene.person("Ada Lovelace", "ada@lovelace-labs.io", job_title="Buyer")
    scene.person("Cleo Marsh", "cleo@marsh-trading.co.uk", job_title="Buyer")
    scene.person("Bob Stone", "bob@stone-works.io", job_title="Engineer")
    return scene.job_filter("Buyer")


def _pipedrive_hooks(scene: Scene) -> set[tuple[str, str]]:
    return {(h.event_object, h.event_action) for h in scene.pipedrive.list_webhooks()}


def test_create_checks_the_field_map_against_the_live_catalogs_and_lists_every_problem(
    scene: Scene, buyers: int
):
    """An invalid field map is refused at creation with every broken rule, each naming its field."""
    plan = scene.emulator.pipedrive.add_person_field("Plan", "enum", options=["Free", "Pro"])
    scene.emulator.mailchimp.add_merge_field(scene.audience, tag="PLAN", name="Plan", type="text")
    pairs = (
        *scene.pairs(Direction.PD_TO_MC),
        FieldPair(pipedrive="no_such_field", mailchimp="ADDRESS"),
        FieldPair(pipedrive="job_title", mailchimp="NOSUCHTAG"),
        FieldPair(pipedrive=plan, mailchimp="PLAN"),
    )
    flow = scene.flow(PipedriveFiltersTrigger([buyers])).evolve(pairs=pairs)

    with pytest.raises(InvalidFieldMapError) as refused:
        scene.engine.create_flow(flow, confirm_subscribed=True)

    problems = refused.value.exceptions
    assert all(isinstance(p, FieldMapRuleError) for p in problems)
    named = " | ".join(f"{p.field}: {p.reason}" for p in problems)
    for field in ("no_such_field", "NOSUCHTAG", plan):
        assert field in named
    assert len(problems) >= 3
    assert scene.store.get_flow(flow.id) is None


def test_create_refuses_subscribed_without_confirmation_and_allows_pending(
    scene: Scene, buyers: int
):
    """New members "subscribed" need the caller's confirmation; "pending" (opt-in) does not."""
    subscribed = scene.flow(PipedriveFiltersTrigger([buyers]), flow_id="subscribed")
    pending = scene.flow(
        PipedriveFiltersTrigger([buyers]), flow_id="pending", new_member_status="pending"
    )

    with pytest.raises(ConfigurationError, match="confirm_subscribed"):
        scene.engine.create_flow(subscribed)
    state = scene.engine.create_flow(pending)
    scene.engine.activate(pending.id)
    scene.tick()

    assert state.status == "paused"
    assert scene.mc("ada@lovelace-labs.io")["status"] == "pending"
    assert [s.id for s in scene.engine.list_flows()] == ["pending"]


def test_create_refuses_a_taken_id(scene: Scene, buyers: int):
    """A second flow under an existing id is refused; edit_flow is the way to change it."""
    flow = scene.flow(PipedriveFiltersTrigger([buyers]))
    scene.engine.create_flow(flow, confirm_subscribed=True)
    with pytest.raises(ConfigurationError, match="exists"):
        scene.engine.create_flow(flow, confirm_subscribed=True)


def test_preview_before_saving_shows_each_triggers_contacts_and_writes_nothing(
    scene: Scene, buyers: int
):
    """A preview lists what a flow would sync, before it is saved, and writes nothing anywhere."""
    scene.member("dora@prospect-mail.de", fname="Dora")
    tag = scene.tag("Prospects", ["dora@prospect-mail.de"])
    segments = scene.flow(MailchimpSegmentsTrigger([tag]))
    deal = scene.flow(DealStageTrigger(scene.default_pipeline(), 1))

    preview = scene.engine.preview(segments)

    assert [(r.email, r.values.get("first_name")) for r in preview.rows] == [
        ("dora@prospect-mail.de", "Dora")
    ]
    assert len(scene.engine.preview(deal)) == 0  # nothing happened yet to an event trigger
    assert scene.persons().keys() == {
        "ada@lovelace-labs.io",
        "cleo@marsh-trading.co.uk",
        "bob@stone-works.io",
    }
    assert scene.store.list_flows() == []


def test_save_keeps_a_new_flow_paused_until_activated(scene: Scene, buyers: int):
    """A saved flow neither runs nor handles webhooks until it is activated."""
    flow = scene.flow(PipedriveFiltersTrigger([buyers]))
    state = scene.engine.create_flow(flow, confirm_subscribed=True)
    scene.engine.ensure_webhooks(HOOKS)

    scene.later(DEFAULT_INTERVAL)
    assert scene.tick() == {}
    assert state.status == "paused"
    assert scene.engine.get_flow(flow.id).flow == flow
    assert _pipedrive_hooks(scene) == set()  # no active flow needs a webhook
    assert scene.members() == {}


def test_pause_stops_runs_and_webhooks_and_activate_catches_up(scene: Scene, buyers: int):
    """A paused flow gets no runs and ignores webhooks; activated again, it catches up at once."""
    flow = scene.filters_flow(buyers)
    scene.tick()
    ada = scene.persons()["ada@lovelace-labs.io"]["id"]

    assert scene.engine.pause(flow.id).status == "paused"
    scene.update_person(ada, first_name="Augusta")
    scene.webhooks_now()
    assert scene.answers[-1].status == 200
    assert scene.answers[-1].synced == 0
    scene.later(DEFAULT_INTERVAL * 2)
    assert scene.tick() == {}
    assert scene.mc("ada@lovelace-labs.io")["merge_fields"]["FNAME"] == "Ada"

    scene.engine.activate(flow.id)
    report = scene.tick()[flow.id]
    assert report.counts["updated"] == 1
    assert scene.mc("ada@lovelace-labs.io")["merge_fields"]["FNAME"] == "Augusta"


def test_edit_replaces_the_definition_and_keeps_status_links_and_history(scene: Scene, buyers: int):
    """Editing a flow changes what it syncs next; its status, links and past runs stay."""
    flow = scene.filters_flow(buyers)
    scene.tick()
    scene.person("Eve Adams", "eve@adams-ops.io", job_title="Engineer")
    engineers = scene.job_filter("Engineer")
    links = scene.store.count_links(scene.engine.account_pair, scene.audience)

    edited = flow.evolve(trigger=PipedriveFiltersTrigger([engineers]), tag="Engineers")
    state = scene.engine.edit_flow(edited, confirm_subscribed=True)
    scene.later(DEFAULT_INTERVAL)
    scene.tick()

    assert state.status == "active"
    assert scene.engine.get_flow(flow.id).flow == edited
    assert scene.tag_names("eve@adams-ops.io") == ["Engineers"]
    assert scene.tag_names("bob@stone-works.io") == ["Engineers"]
    assert scene.store.count_links(scene.engine.account_pair, scene.audience) >= links
    assert len(scene.engine.history(flow.id)) >= 2
    bad = edited.evolve(pairs=(*edited.pairs, FieldPair(pipedrive="nope", mailchimp="NOPE")))
    with pytest.raises(InvalidFieldMapError):
        scene.engine.edit_flow(bad, confirm_subscribed=True)
    assert scene.engine.get_flow(flow.id).flow == edited


def test_delete_keeps_links_and_removes_webhooks_no_other_flow_needs(scene: Scene, buyers: int):
    """Deleting a flow keeps every link; ensure_webhooks then drops only webhooks nobody needs."""
    filters = scene.filters_flow(buyers)
    deals = scene.deal_flow(scene.default_pipeline(), 1)
    new_members = scene.new_contact_flow()
    scene.tick()
    links = scene.store.count_links(scene.engine.account_pair, scene.audience)
    assert _pipedrive_hooks(scene) == {("person", "change"), ("deal", "change"), ("deal", "create")}
    assert len(scene.mailchimp.list_webhooks(scene.audience)) == 1

    scene.engine.delete_flow(deals.id)
    setup = scene.engine.ensure_webhooks(HOOKS)

    assert _pipedrive_hooks(scene) == {("person", "change")}
    assert len(setup.deleted) == 2
    with pytest.raises(FlowNotFoundError):
        scene.engine.get_flow(deals.id)
    assert scene.store.count_links(scene.engine.account_pair, scene.audience) == links

    scene.engine.delete_flow(new_members.id, public_url=HOOKS)
    scene.engine.delete_flow(filters.id, public_url=HOOKS)
    assert _pipedrive_hooks(scene) == set()
    assert scene.mailchimp.list_webhooks(scene.audience) == []
    assert scene.store.count_links(scene.engine.account_pair, scene.audience) == links
    assert scene.engine.list_flows() == []


def test_deleting_the_last_flow_of_an_audience_removes_its_mailchimp_webhook(scene: Scene):
    """After the only flow of an audience is deleted, ensure_webhooks removes its webhook."""
    scene.member("dora@prospect-mail.de", fname="Dora")
    flow = scene.segments_flow(scene.tag("Prospects", ["dora@prospect-mail.de"]))
    assert len(scene.mailchimp.list_webhooks(scene.audience)) == 1

    scene.engine.delete_flow(flow.id)
    setup = scene.engine.ensure_webhooks(HOOKS)

    assert scene.mailchimp.list_webhooks(scene.audience) == []
    assert setup.deleted == (f"mailchimp {scene.audience}",)


def test_list_shows_every_flow_oldest_first_with_its_status(scene: Scene, buyers: int):
    """list_flows returns every saved flow, oldest first, each with its status."""
    scene.filters_flow(buyers, flow_id="buyers")
    scene.later()
    scene.engine.create_flow(scene.flow(NewMailchimpContactTrigger(), flow_id="sign-ups"))
    scene.later()
    scene.deal_flow(scene.default_pipeline(), 2, flow_id="demos")
    scene.engine.pause("demos")

    listed = [(state.id, state.status) for state in scene.engine.list_flows()]

    assert listed == [("buyers", "active"), ("sign-ups", "paused"), ("demos", "paused")]


def test_history_lists_runs_with_their_per_contact_outcomes(scene: Scene, buyers: int):
    """history returns the flow's runs, newest first; the store holds each run's outcomes."""
    flow = scene.filters_flow(buyers)
    first = scene.tick()[flow.id]
    scene.later(DEFAULT_INTERVAL)
    second = scene.tick()[flow.id]

    runs = scene.engine.history(flow.id)

    assert [run.run_id for run in runs][:2] == [second.run_id, first.run_id]
    assert runs[-1].status == "succeeded"
    assert runs[-1].counts["created"] == 2
    outcomes = list(scene.store.iter_outcomes(first.run_id))
    assert sorted((o.action, o.email) for o in outcomes) == [
        ("created", "ada@lovelace-labs.io"),
        ("created", "cleo@marsh-trading.co.uk"),
    ]
    with pytest.raises(FlowNotFoundError):
        scene.engine.history("no-such-flow")
