"""Consent, as a stateful property: pdmc never changes a member's status, whatever happens.

Hypothesis drives one account pair through any sequence of three kinds of steps:

* flows, chosen at the start: a Pipedrive-filter flow and a deal-stage flow to
  Mailchimp (each with or without a tag, creating new members as ``subscribed`` or
  ``pending``), a Mailchimp-tag flow and a new-contact flow to Pipedrive;
* people acting in the apps: persons added, edited (name, lead score, address),
  deleted; deals moved; members added, subscribing, unsubscribing, cleaned,
  archived, forgotten, changing address, editing their profile;
* pdmc running: due flows after the clock moves, webhook deliveries, dry runs.

After every step it checks what consent means. The model holds each member's status
as the people's last action left it (members are told apart by Mailchimp's
``unique_email_id``, which survives an address change). A pdmc step may create new
members, only with a flow's ``status_if_new``; it may never change a known member's
status, never make an opted-out member (unsubscribed, cleaned, archived) subscribed,
never bring a forgotten address back, and never delete anything on either side. A
dry run writes nothing at all.
"""

from __future__ import annotations

from typing import Any, Final

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from pdmc.errors import ConfigurationError
from pdmc.flows import Flow
from tests.flows_safety.world import (
    SCORE_THRESHOLD,
    WATCHED_STAGE,
    WATCHED_TAG,
    World,
    make_world,
    writes_by_operation,
)

OPTED_OUT: Final = frozenset({"unsubscribed", "cleaned", "archived"})
POOL: Final = (
    "ana.silva@correio-norte.pt",
    "ben.okafor@lagos-trading.ng",
    "chloe.martin@atelier-lyon.fr",
    "dmitri.petrov@volga-tech.ru",
    "emma.schulz@hamburg-hafen.de",
    "farah.khan@karachi-textiles.pk",
    "goran.novak@zagreb-soft.hr",
    "hana.suzuki@kyoto-crafts.jp",
)
"""Addresses people use in the story; the seeded members' addresses join them."""
NAMES: Final = ("Ana", "Ben", "Chloé", "Dmitri", "Emma", "Farah", "Goran", "Hana")
ADDABLE_STATUSES: Final = ("subscribed", "pending", "unsubscribed", "cleaned", "transactional")

some = st.integers(min_value=0, max_value=10_000)
"""An index into a list the machine holds (taken modulo its length)."""


class ConsentMachine(RuleBasedStateMachine):
    """One account pair, its flows, the people using it, and pdmc syncing it."""

    world: World
    pool: list[str]
    statuses: dict[str, str]
    forgotten: set[str]
    persons: set[int]
    new_statuses: frozenset[str]

    @initialize(
        filter_flow=st.sampled_from([None, "untagged", "tagged"]),
        stage_flow=st.sampled_from([None, "untagged", "tagged"]),
        tag_flow=st.booleans(),
        new_contact_flow=st.booleans(),
        new_status=st.sampled_from(["subscribed", "pending"]),
        seed=st.integers(min_value=0, max_value=3),
    )
    def start(
        self,
        *,
        filter_flow: str | None,
        stage_flow: str | None,
        tag_flow: bool,
        new_contact_flow: bool,
        new_status: Any,
        seed: int,
    ) -> None:
        """Seed a small account pair and start the chosen flows (at least one to Mailchimp)."""
        self.world = world = make_world(contacts=10, seed=seed, auto_deliver=False)
        for person in world.emulator.pipedrive.iter_persons():  # the filter starts with all
            hot = {world.score_field: SCORE_THRESHOLD + 20}
            world.emulator.pipedrive.update_person(person["id"], {"custom_fields": hot})
        if filter_flow is None and stage_flow is None:
            filter_flow = "untagged"
        flows: list[Flow] = []
        if filter_flow is not None:
            tag = "from-pipedrive" if filter_flow == "tagged" else None
            flows.append(world.filter_flow(tag=tag, status=new_status))
        if stage_flow is not None:
            tag = "demo-scheduled" if stage_flow == "tagged" else None
            flows.append(world.stage_flow(tag=tag, status=new_status))
        if tag_flow:
            flows.append(world.tag_flow())
        if new_contact_flow:
            flows.append(world.new_contact_flow())
        world.start(*flows)
        self.new_statuses = frozenset({new_status})
        seeded = [m["email_address"] for m in world.emulator.mailchimp.iter_members(world.audience)]
        self.pool = [*POOL, *seeded[:4]]
        self.forgotten = set()
        self._people_acted()

    # -- what the model knows -------------------------------------------------------

    def _members(self) -> list[dict[str, Any]]:
        return list(self.world.emulator.mailchimp.iter_members(self.world.audience))

    def _people_acted(self) -> None:
        """Take the services' state as the people's doing: the model starts over from it."""
        self.statuses = {m["unique_email_id"]: m["status"] for m in self._members()}
        self.persons = {p["id"] for p in self.world.emulator.pipedrive.iter_persons()}

    def _email(self, index: int) -> str:
        return self.pool[index % len(self.pool)]

    def _person(self, index: int) -> int | None:
        persons = sorted(self.persons)
        return persons[index % len(persons)] if persons else None

    def _act(self, action: Any, *args: Any, **kwargs: Any) -> None:
        """Do what a person does; the services may refuse it, as the apps would."""
        try:
            action(*args, **kwargs)
        except ConfigurationError:
            return
        self._people_acted()

    # -- people in Pipedrive ---------------------------------------------------------

    @rule(email=some, name=st.sampled_from(NAMES), hot=st.booleans(), with_email=st.booleans())
    def add_person(self, email: int, name: str, hot: bool, with_email: bool) -> None:
        """Someone adds a person in Pipedrive (maybe without an address)."""
        score = SCORE_THRESHOLD + 10 if hot else SCORE_THRESHOLD - 10
        self._act(
            self.world.emulator.pipedrive.add_person,
            name=f"{name} Neumann",
            emails=[self._email(email)] if with_email else [],
            custom_fields={self.world.score_field: score},
        )

    @rule(person=some, name=st.sampled_from(NAMES))
    def rename_person(self, person: int, name: str) -> None:
        """Someone changes a person's first name in Pipedrive."""
        if (person_id := self._person(person)) is not None:
            self._act(self.world.emulator.pipedrive.update_person, person_id, {"first_name": name})

    @rule(person=some, hot=st.booleans())
    def rescore_person(self, person: int, hot: bool) -> None:
        """Someone moves a person into or out of the filter by their lead score."""
        if (person_id := self._person(person)) is not None:
            score = SCORE_THRESHOLD + 5 if hot else SCORE_THRESHOLD - 5
            changes = {"custom_fields": {self.world.score_field: score}}
            self._act(self.world.emulator.pipedrive.update_person, person_id, changes)

    @rule(person=some, email=some)
    def change_person_email(self, person: int, email: int) -> None:
        """Someone gives a person another primary address in Pipedrive."""
        if (person_id := self._person(person)) is not None:
            emails = [{"value": self._email(email), "primary": True, "label": "work"}]
            self._act(self.world.emulator.pipedrive.update_person, person_id, {"emails": emails})

    @rule(person=some)
    def delete_person(self, person: int) -> None:
        """Someone deletes a person in Pipedrive."""
        if (person_id := self._person(person)) is not None:
            self._act(self.world.emulator.pipedrive.delete_person, person_id)

    @rule(person=some, into_stage=st.booleans())
    def add_deal(self, person: int, into_stage: bool) -> None:
        """Someone adds a deal for a person, in the watched stage or another one."""
        if (person_id := self._person(person)) is not None:
            stage = self.world.stage if into_stage else self._other_stage()
            self._act(
                self.world.emulator.pipedrive.add_deal,
                title="Renewal",
                person_id=person_id,
                stage_id=stage,
            )

    @rule(deal=some, into_stage=st.booleans())
    def move_deal(self, deal: int, into_stage: bool) -> None:
        """Someone drags a deal into the watched stage, or out of it."""
        deals = self._deals()
        if deals:
            stage = self.world.stage if into_stage else self._other_stage()
            self._act(self.world.emulator.pipedrive.move_deal, deals[deal % len(deals)], stage)

    def _other_stage(self) -> int:
        pipeline = self.world.summary.stages[WATCHED_STAGE[0]]
        return next(stage for stage in pipeline.values() if stage != self.world.stage)

    def _deals(self) -> list[int]:
        pipedrive = self.world.emulator.pipedrive
        return [d for d in range(1, 200) if pipedrive.get_deal(d) is not None]

    # -- people in Mailchimp ---------------------------------------------------------

    @rule(email=some, status=st.sampled_from(ADDABLE_STATUSES), tagged=st.booleans())
    def add_member(self, email: int, status: str, tagged: bool) -> None:
        """An admin adds a member, maybe with the watched tag."""
        self._act(
            self.world.emulator.mailchimp.add_member,
            self.world.audience,
            self._email(email),
            status=status,
            tags=(WATCHED_TAG,) if tagged else (),
            notify=True,
        )

    @rule(email=some)
    def subscribe(self, email: int) -> None:
        """A person signs up through a form (coming back after leaving, too)."""
        address = self._email(email)
        self._act(self.world.emulator.mailchimp.subscribe, self.world.audience, address)
        if self.world.emulator.mailchimp.get_member(self.world.audience, address) is not None:
            self.forgotten.discard(address.lower())

    @rule(email=some)
    def unsubscribe(self, email: int) -> None:
        """A person unsubscribes."""
        self._act(
            self.world.emulator.mailchimp.unsubscribe, self.world.audience, self._email(email)
        )

    @rule(email=some)
    def clean(self, email: int) -> None:
        """An address bounces hard and is cleaned."""
        self._act(self.world.emulator.mailchimp.clean, self.world.audience, self._email(email))

    @rule(email=some)
    def archive(self, email: int) -> None:
        """An admin archives a member."""
        self._act(self.world.emulator.mailchimp.archive, self.world.audience, self._email(email))

    @rule(email=some)
    def forget(self, email: int) -> None:
        """A person asks to be forgotten: the member is deleted for good."""
        address = self._email(email)
        before = self.world.emulator.mailchimp.get_member(self.world.audience, address)
        self._act(self.world.emulator.mailchimp.forget, self.world.audience, address)
        if before is not None:
            self.forgotten.add(address.lower())

    @rule(old=some, new=some)
    def change_member_email(self, old: int, new: int) -> None:
        """A person changes their address on the profile page."""
        self._act(
            self.world.emulator.mailchimp.change_email,
            self.world.audience,
            self._email(old),
            self._email(new),
        )

    @rule(email=some, name=st.sampled_from(NAMES))
    def edit_profile(self, email: int, name: str) -> None:
        """A person edits their first name on the profile page."""
        self._act(
            self.world.emulator.mailchimp.update_profile,
            self.world.audience,
            self._email(email),
            {"FNAME": name},
        )

    # -- pdmc ----------------------------------------------------------------------------

    @rule(seconds=st.sampled_from([60, 15 * 60 + 1, 4 * 3600 + 1]))
    def run_due(self, seconds: int) -> None:
        """The caller's scheduler ticks after the clock moved (webhooks due arrive too)."""
        self.world.emulator.advance(seconds)
        self._check_pdmc()
        self.world.engine.run_due()
        self._check_pdmc()

    @rule()
    def deliver_webhooks(self) -> None:
        """Both services deliver the webhooks that are due."""
        self.world.emulator.deliver_webhooks()
        self._check_pdmc()

    @rule(flow=some)
    def dry_run(self, flow: int) -> None:
        """The caller asks for a flow's plan: nothing may be written."""
        flows = self.world.engine.list_flows()
        before = self._writes()
        self.world.engine.dry_run(flows[flow % len(flows)].flow.id)
        assert self._writes() == before, "a dry run wrote"

    def _writes(self) -> dict[str, int]:
        emulator = self.world.emulator
        return {
            **writes_by_operation(emulator.pipedrive),
            **writes_by_operation(emulator.mailchimp),
        }

    def _check_pdmc(self) -> None:
        """What pdmc may have done since the people last acted: consent and no deletion."""
        seen: set[str] = set()
        for member in self._members():
            uid, status = member["unique_email_id"], member["status"]
            email = str(member["email_address"]).lower()
            seen.add(uid)
            known = self.statuses.get(uid)
            if known is None:
                assert status in self.new_statuses, f"pdmc created {email} as {status}"
                assert email not in self.forgotten, f"pdmc brought forgotten {email} back"
                self.statuses[uid] = status
                continue
            if known in OPTED_OUT:
                assert status != "subscribed", f"pdmc subscribed {email}, which was {known}"
            assert status == known, f"pdmc changed {email} from {known} to {status}"
        assert set(self.statuses) <= seen, "pdmc deleted a member"
        persons = {p["id"] for p in self.world.emulator.pipedrive.iter_persons()}
        assert self.persons <= persons, "pdmc deleted a person"
        self.persons |= persons

    @invariant()
    def consent_holds(self) -> None:
        """After every step, the services agree with the consent model."""
        if hasattr(self, "world"):
            self._check_pdmc()


_SETTINGS: Final[dict[str, Any]] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}


class TestConsent(ConsentMachine.TestCase):
    """Consent holds through 100 random stories of up to 40 steps each."""

    settings = settings(max_examples=100, stateful_step_count=40, **_SETTINGS)


@pytest.mark.slow
class TestConsentHeavy(ConsentMachine.TestCase):
    """Consent holds through 300 random stories of up to 60 steps each (CI runs it)."""

    settings = settings(max_examples=300, stateful_step_count=60, **_SETTINGS)


def test_a_person_given_an_archived_members_address_does_not_resubscribe_it():
    """A person whose new address is an archived member's leaves that member archived."""
    machine = ConsentMachine()
    machine.start(
        filter_flow="untagged",
        stage_flow=None,
        tag_flow=False,
        new_contact_flow=False,
        new_status="subscribed",
        seed=2,
    )
    machine.run_due(seconds=60)
    members = machine._members()
    archived = next(m["email_address"] for m in members if m["status"] == "archived")
    linked = {m["email_address"].lower() for m in members}
    person = next(
        p["id"]
        for p in machine.world.emulator.pipedrive.iter_persons()
        if not {e["value"].lower() for e in p["emails"]} & linked
    )
    machine._act(
        machine.world.emulator.pipedrive.update_person,
        person,
        {"emails": [{"value": archived, "primary": True}]},
    )
    machine.run_due(seconds=60)
    machine.run_due(seconds=4 * 3600 + 1)
    assert (
        machine.world.emulator.mailchimp.get_member(machine.world.audience, archived)["status"]
        == "archived"
    )
