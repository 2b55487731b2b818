"""PersonLabelTrigger: persons who carry a label sync to Mailchimp (on the emulator)."""

from __future__ import annotations

import pytest
from label_trigger import PersonLabelTrigger

from pdmc import Secret
from pdmc.emulator import Emulator
from pdmc.flows import Flow, PipedriveWebhookAuth, SyncEngine
from pdmc.mapping import Direction
from pdmc.storage import MemoryStore

ADA, GRACE = "ada@acme-robotics.io", "grace@acme-robotics.io"


@pytest.fixture
def emulator() -> Emulator:
    """Pipedrive and Mailchimp, emulated."""
    return Emulator()


@pytest.fixture
def engine(emulator: Emulator) -> SyncEngine:
    """An engine on the emulator that receives its webhooks."""
    engine = SyncEngine(
        emulator.pipedrive_client(),
        emulator.mailchimp_client(),
        MemoryStore(clock=emulator.clock),
        pipedrive_webhook_auth=PipedriveWebhookAuth("pdmc", Secret("a long random password")),
    )
    emulator.on_webhook(
        lambda hook: engine.receive(hook.method, hook.url, hook.headers, hook.body).status
    )
    return engine


@pytest.fixture
def labels(engine: SyncEngine) -> dict[str, int]:
    """The company's person labels by name."""
    field = next(f for f in engine.pipedrive.list_person_fields() if f.field_code == "label_ids")
    return {option.label: int(option.id) for option in field.options or ()}


def start(emulator: Emulator, engine: SyncEngine, label_id: int) -> None:
    """Create, activate and hook up a flow of the label's persons, and run it once."""
    audience_id = emulator.mailchimp.default_audience_id
    flow = Flow(
        id="customers",
        name="Customers to the newsletter",
        trigger=PersonLabelTrigger(label_id),
        pairs=engine.default_pairs(Direction.PD_TO_MC, audience_id),
        audience_id=audience_id,
        tag="customer",
    )
    engine.create_flow(flow, confirm_subscribed=True)
    engine.activate(flow.id)
    engine.ensure_webhooks("https://hooks.acme-robotics.io/pdmc")
    engine.run_due()


def member(emulator: Emulator, email: str) -> dict | None:
    """The member as Mailchimp shows it, or ``None``."""
    return emulator.mailchimp.get_member(emulator.mailchimp.default_audience_id, email)


def test_the_first_run_syncs_the_persons_who_carry_the_label(emulator, engine, labels):
    """Only labelled persons become members, subscribed and tagged."""
    emulator.pipedrive.add_person(name="Ada Lovelace", emails=[ADA], label_ids=[labels["Customer"]])
    emulator.pipedrive.add_person(name="Grace Hopper", emails=[GRACE])
    start(emulator, engine, labels["Customer"])
    ada = member(emulator, ADA)
    assert ada is not None
    assert (ada["status"], [tag["name"] for tag in ada["tags"]]) == ("subscribed", ["customer"])
    assert member(emulator, GRACE) is None


def test_adding_the_label_syncs_the_person_within_seconds(emulator, engine, labels):
    """The person.change webhook brings a newly labelled person over before any run."""
    grace = emulator.pipedrive.add_person(name="Grace Hopper", emails=[GRACE])
    start(emulator, engine, labels["Customer"])
    emulator.pipedrive.update_person(grace, {"label_ids": [labels["Customer"]]})
    emulator.deliver_webhooks()
    assert member(emulator, GRACE) is not None


def test_a_person_who_loses_the_label_keeps_the_member_but_not_the_updates(
    emulator, engine, labels
):
    """Without the label the member stays, and neither webhooks nor runs update it."""
    ada = emulator.pipedrive.add_person(
        name="Ada Lovelace", emails=[ADA], label_ids=[labels["Customer"]]
    )
    start(emulator, engine, labels["Customer"])
    emulator.pipedrive.update_person(ada, {"label_ids": [labels["Hot lead"]]})
    emulator.pipedrive.update_person(ada, {"name": "Ada King"})
    emulator.deliver_webhooks()
    emulator.advance(24 * 3600)
    engine.run_due()
    kept = member(emulator, ADA)
    assert kept is not None
    assert (kept["status"], kept["merge_fields"]["LNAME"]) == ("subscribed", "Lovelace")


def test_later_runs_read_only_the_persons_changed_since(emulator, engine, labels):
    """After the first full pass, a scheduled run sees only persons changed since the last."""
    emulator.pipedrive.add_person(name="Ada Lovelace", emails=[ADA], label_ids=[labels["Customer"]])
    start(emulator, engine, labels["Customer"])
    emulator.advance(4 * 3600)
    engine.run_due()  # still sees Ada, who changed just as the first pass began
    emulator.advance(4 * 3600)
    [report] = engine.run_due()
    assert sum(report.counts.values()) == 0


def test_the_flow_deactivates_when_its_label_is_gone(emulator, engine):
    """A label that does not exist deactivates the flow, with the reason."""
    start(emulator, engine, 999)
    state = engine.get_flow("customers")
    assert (state.status, state.status_reason) == (
        "deactivated",
        "the person label 999 was deleted",
    )


def test_a_saved_flow_finds_its_trigger_by_type_name(emulator, engine, labels):
    """The store keeps the trigger's type_name and config; loading rebuilds the same trigger."""
    start(emulator, engine, labels["Customer"])
    trigger = engine.get_flow("customers").flow.trigger
    assert type(trigger) is PersonLabelTrigger
    assert trigger == PersonLabelTrigger(labels["Customer"])
