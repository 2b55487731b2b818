"""A small world for the safety proofs: a seeded emulator, a store, an engine, webhooks.

Every proof here builds the same kind of account pair: the emulator seeded with a few
realistic contacts, a filter and a tag the flows watch, a state store on the
emulator's clock, and a :class:`~pdmc.flows.SyncEngine` whose webhooks the emulator
delivers to :meth:`~pdmc.flows.SyncEngine.receive`. The functions that read both
services' state back leave out what legitimately differs between two equal runs
(ids, timestamps), so two runs can be compared as wholes.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

from attrs import define

from pdmc import Secret
from pdmc.emulator import Emulator, EmulatorTransport, Fault, FaultKind, FaultPlan, SeedSummary
from pdmc.emulator.mailchimp import MailchimpEmulator
from pdmc.emulator.pipedrive import PipedriveEmulator
from pdmc.flows import (
    DealStageTrigger,
    Flow,
    MailchimpSegmentsTrigger,
    MailchimpWebhookAuth,
    NewMailchimpContactTrigger,
    NewMemberStatus,
    PipedriveFiltersTrigger,
    PipedriveWebhookAuth,
    SyncEngine,
    SyncReport,
)
from pdmc.mapping import Direction, FieldPair
from pdmc.storage import MemoryStore, SQLiteStore, StateStore

PUBLIC_URL: Final = "https://hooks.example.org/pdmc"
PIPEDRIVE_AUTH: Final = PipedriveWebhookAuth("pdmc", Secret("pipedrive-hook-password"))
MAILCHIMP_AUTH: Final = MailchimpWebhookAuth(url_secret=Secret("mailchimp-url-secret"))

SCORE_THRESHOLD: Final = 70
"""Persons whose lead score is at least this match the filter the filter flows use."""
WATCHED_TAG: Final = "Customer"
"""The seeded Mailchimp tag the tag flows watch."""
WATCHED_STAGE: Final = ("Sales", "Demo scheduled")
"""The pipeline and stage the deal-stage flows watch."""

_VOLATILE_PERSON_KEYS: Final = frozenset({"id", "add_time", "update_time", "owner_id"})


def new_engine(emulator: Emulator, store: StateStore, *, holder: str | None = None) -> SyncEngine:
    """An engine on the emulator's default accounts and clock, with both webhook secrets."""
    return SyncEngine(
        emulator.pipedrive_client(),
        emulator.mailchimp_client(),
        store,
        clock=emulator.clock,
        holder=holder,
        pipedrive_webhook_auth=PIPEDRIVE_AUTH,
        mailchimp_webhook_auth=MAILCHIMP_AUTH,
    )


@define
class World:
    """One account pair on the emulator, with the engine that syncs it."""

    emulator: Emulator
    summary: SeedSummary
    store: StateStore
    engine: SyncEngine
    score_filter: int

    @property
    def audience(self) -> str:
        """The seeded Mailchimp audience."""
        return self.summary.audience_id

    @property
    def score_field(self) -> str:
        """The key of the "Lead score" person field the filter reads."""
        return self.summary.person_fields["Lead score"]

    @property
    def stage(self) -> int:
        """The stage the deal-stage flows watch."""
        pipeline, stage = WATCHED_STAGE
        return self.summary.stages[pipeline][stage]

    def wire_webhooks(self, engine: SyncEngine | None = None) -> None:
        """Deliver both services' webhooks to ``engine`` (this world's by default)."""
        target = engine or self.engine
        self.emulator.on_webhook(
            lambda delivery: (
                target.receive(
                    delivery.method, delivery.url, delivery.headers, delivery.body
                ).status
            )
        )

    def pairs(self, direction: Direction) -> tuple[FieldPair, ...]:
        """The default field pairs of a flow in ``direction``."""
        return self.engine.default_pairs(direction, self.audience)

    def filter_flow(
        self,
        flow_id: str = "filter",
        *,
        tag: str | None = None,
        status: NewMemberStatus = "subscribed",
    ) -> Flow:
        """A Pipedrive-filter flow over persons with a high lead score."""
        return Flow(
            id=flow_id,
            name="hot leads to Mailchimp",
            trigger=PipedriveFiltersTrigger([self.score_filter]),
            pairs=self.pairs(Direction.PD_TO_MC),
            audience_id=self.audience,
            tag=tag,
            new_member_status=status,
        )

    def stage_flow(
        self,
        flow_id: str = "stage",
        *,
        tag: str | None = None,
        status: NewMemberStatus = "subscribed",
    ) -> Flow:
        """A deal-stage flow: the person of a deal that reaches the watched stage."""
        return Flow(
            id=flow_id,
            name="demo scheduled to Mailchimp",
            trigger=DealStageTrigger(self._pipeline_id(), self.stage),
            pairs=self.pairs(Direction.PD_TO_MC),
            audience_id=self.audience,
            tag=tag,
            new_member_status=status,
        )

    def _pipeline_id(self) -> int:
        name = WATCHED_STAGE[0]
        return next(p.id for p in self.engine.pipedrive.list_pipelines() if p.name == name)

    def tag_flow(self, flow_id: str = "tag") -> Flow:
        """A Mailchimp-tag flow over the watched tag."""
        return Flow(
            id=flow_id,
            name="customers to Pipedrive",
            trigger=MailchimpSegmentsTrigger([self.summary.tags[WATCHED_TAG]]),
            pairs=self.pairs(Direction.MC_TO_PD),
            audience_id=self.audience,
        )

    def new_contact_flow(self, flow_id: str = "new") -> Flow:
        """A new-contact flow over the seeded audience."""
        return Flow(
            id=flow_id,
            name="new subscribers to Pipedrive",
            trigger=NewMailchimpContactTrigger(),
            pairs=self.pairs(Direction.MC_TO_PD),
            audience_id=self.audience,
        )

    def start(self, *flows: Flow) -> None:
        """Save and activate ``flows``, then register the webhooks they need."""
        for flow in flows:
            self.engine.create_flow(flow, confirm_subscribed=True)
            self.engine.activate(flow.id)
        self.engine.ensure_webhooks(PUBLIC_URL)

    def settle(self, *, rounds: int = 12, broken_mappings_ok: bool = False) -> list[SyncReport]:
        """Run due flows, hours apart, until a round writes nothing and retries nothing.

        Each round moves the clock past the retry delay and the flows' interval, so
        every flow and every row waiting for a retry runs again. With
        ``broken_mappings_ok``, a round whose only errors are broken mappings (a field
        deleted on purpose) still counts as quiet.

        Raises:
            AssertionError: the flows still write after ``rounds`` rounds.
        """
        reports: list[SyncReport] = []
        for _ in range(rounds):
            round_reports = self.engine.run_due()
            reports.extend(round_reports)
            self.emulator.advance(timedelta(hours=5).total_seconds())
            if round_reports and all(
                _quiet(report, broken_mappings_ok=broken_mappings_ok) for report in round_reports
            ):
                return reports
        raise AssertionError(f"the flows did not settle: {[r.summary() for r in reports[-4:]]}")


def primary_email(person: dict[str, Any]) -> str | None:
    """A person's primary address in the v2 wire shape, if any."""
    return next((e["value"] for e in person["emails"] if e["primary"]), None)


def two_way(world: World, contacts: int = 3) -> list[dict[str, Any]]:
    """Both directions over ``contacts`` persons whose members are subscribed, settled.

    The persons get a lead score the filter matches, their members a new tag, and a
    filter flow and a tag flow over that tag start and settle. Returns the persons.
    """
    pipedrive, mailchimp = world.emulator.pipedrive, world.emulator.mailchimp
    shared = [
        person
        for person in pipedrive.iter_persons()
        if (email := primary_email(person)) is not None
        and (member := mailchimp.get_member(world.audience, email)) is not None
        and member["status"] == "subscribed"
    ][:contacts]
    assert len(shared) == contacts
    for person in shared:
        pipedrive.update_person(person["id"], {"custom_fields": {world.score_field: 95}})
    tag = mailchimp.add_tag(world.audience, "Two-way", [primary_email(p) for p in shared])
    tag_flow = world.tag_flow()
    world.start(world.filter_flow(), tag_flow.evolve(trigger=type(tag_flow.trigger)([tag])))
    world.settle()
    return shared


def _quiet(report: SyncReport, *, broken_mappings_ok: bool = False) -> bool:
    counts = report.counts
    busy = counts["created"] + counts["updated"] + counts["retrying"] + counts["failed"]
    tolerated = len(report.broken_mappings) if broken_mappings_ok else 0
    return busy == 0 and len(report.errors) == tolerated


class FaultOnCall(FaultPlan):
    """Fails exactly one request: call number ``call`` (from 1) of ``operation``."""

    def __init__(self, kind: FaultKind, operation: str, call: int = 1) -> None:
        super().__init__()
        self.kind, self.operation, self.call = kind, operation, call
        self.seen = 0

    def draw(self, service: str, operation: str) -> Fault | None:
        if operation == self.operation:
            self.seen += 1
            if self.seen == self.call:
                self.injected[self.kind] += 1
                return Fault(self.kind)
        return super().draw(service, operation)


def make_world(
    *,
    contacts: int = 24,
    seed: int = 5,
    sqlite: Path | None = None,
    auto_deliver: bool = True,
    faults: FaultPlan | None = None,
) -> World:
    """A seeded emulator with a lead-score filter, an engine and a store on its clock.

    The store is a :class:`~pdmc.storage.SQLiteStore` at ``sqlite`` when given, else
    a :class:`~pdmc.storage.MemoryStore`. The clock moves two minutes past the
    seeding, so nothing the seed made counts as added after a flow's activation.
    ``faults`` replaces the emulator's fault plan.
    """
    emulator = Emulator(auto_deliver=auto_deliver)
    if faults is not None:
        emulator.faults = faults
        emulator.transport = EmulatorTransport(
            [emulator.pipedrive, emulator.mailchimp],
            faults,
            advance=emulator.clock.advance,
            after_request=lambda: emulator.auto_deliver and emulator.deliver_webhooks(),
        )
    summary = emulator.seed(contacts=contacts, seed=seed)
    score_field = summary.person_fields["Lead score"]
    score_filter = emulator.pipedrive.add_filter(
        "Lead score at least 70",
        {
            "glue": "and",
            "conditions": [
                {
                    "glue": "and",
                    "conditions": [
                        {
                            "object": "person",
                            "field_id": emulator.pipedrive.person_field_id(score_field),
                            "operator": ">=",
                            "value": SCORE_THRESHOLD,
                            "extra_value": None,
                        }
                    ],
                },
                {"glue": "or", "conditions": []},
            ],
        },
    )
    emulator.advance(120)
    store: StateStore = (
        MemoryStore(clock=emulator.clock)
        if sqlite is None
        else SQLiteStore(sqlite, clock=emulator.clock)
    )
    engine = new_engine(emulator, store)
    world = World(emulator, summary, store, engine, score_filter)
    world.wire_webhooks()
    return world


def persons_state(emulator: Emulator) -> Counter[str]:
    """Every Pipedrive person's values (no ids or times), counted: equal runs give equal counts."""
    return Counter(
        repr(sorted((k, v) for k, v in person.items() if k not in _VOLATILE_PERSON_KEYS))
        for person in emulator.pipedrive.iter_persons()
    )


def members_state(emulator: Emulator, audience: str) -> dict[str, tuple[Any, ...]]:
    """Every Mailchimp member by lower-cased address: status, merge fields and tag names."""
    state: dict[str, tuple[Any, ...]] = {}
    for member in emulator.mailchimp.iter_members(audience):
        email = str(member["email_address"]).lower()
        assert email not in state, f"two members hold {email}"
        state[email] = (
            member["status"],
            repr(sorted(member["merge_fields"].items())),
            tuple(sorted(tag["name"] for tag in member["tags"])),
        )
    return state


def emails_of_persons(emulator: Emulator) -> Counter[str]:
    """How many live persons hold each address (any of their addresses, lower-cased)."""
    return Counter(
        str(email["value"]).strip().lower()
        for person in emulator.pipedrive.iter_persons()
        for email in person["emails"]
        if email.get("value")
    )


def writes_by_operation(service: PipedriveEmulator | MailchimpEmulator) -> dict[str, int]:
    """The writes ``service`` answered, per operation: every non-GET but webhook set-up."""
    writing = {route.operation_id for route in service.routes if route.method != "GET"}
    return {
        op: c.requests
        for op, c in service.log.by_operation().items()
        if op in writing and "ebhook" not in op
    }
