"""Fixtures for the flows tests: an emulator, a state store and an engine wired together.

``scene`` is the usual entry point: a fresh emulator (both services, one clock), a
store on the emulator's clock (a MemoryStore, then a SQLiteStore in ``tmp_path``:
each test using it runs on both), and a SyncEngine whose webhooks the emulator
delivers straight to :meth:`SyncEngine.receive`. The :class:`Scene` helpers set the
stage as people in both apps would and read the outcome back from the services'
state, never from the engine's own view.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pdmc import Secret
from pdmc.clients.mailchimp import TagUpdate
from pdmc.emulator import Emulator, WebhookDelivery
from pdmc.flows import (
    DealStageTrigger,
    Flow,
    MailchimpSegmentsTrigger,
    MailchimpWebhookAuth,
    NewMailchimpContactTrigger,
    PipedriveFiltersTrigger,
    PipedriveWebhookAuth,
    SyncEngine,
    SyncReport,
    Trigger,
    WebhookResult,
)
from pdmc.mapping import Direction, FieldPair
from pdmc.storage import MemoryStore, SQLiteStore, StateStore

HOOKS = "https://hooks.crm-sync.net/pdmc"
"""Where the caller's web app serves pdmc's webhook endpoints."""

PIPEDRIVE_AUTH = PipedriveWebhookAuth("pdmc", Secret("pd-hook-pass-7f3a"))
MAILCHIMP_AUTH = MailchimpWebhookAuth(url_secret=Secret("mc-url-secret-91bd"))


class Scene:
    """Both services, a store and an engine, with helpers in the words of the apps' users."""

    def __init__(self, emulator: Emulator, store: StateStore) -> None:
        self.emulator = emulator
        self.store = store
        self.audience = emulator.mailchimp.default_audience_id
        self.pipedrive = emulator.pipedrive_client()
        self.mailchimp = emulator.mailchimp_client()
        self.engine = self.new_engine(holder="engine-a")
        self.answers: list[WebhookResult] = []
        emulator.on_webhook(self.deliver)

    def new_engine(self, store: StateStore | None = None, **options: Any) -> SyncEngine:
        """An engine on this scene's services (and store, unless another is given)."""
        options.setdefault("pipedrive_webhook_auth", PIPEDRIVE_AUTH)
        options.setdefault("mailchimp_webhook_auth", MAILCHIMP_AUTH)
        return SyncEngine(
            self.emulator.pipedrive_client(),
            self.emulator.mailchimp_client(),
            store if store is not None else self.store,
            clock=self.emulator.clock,
            **options,
        )

    def deliver(self, delivery: WebhookDelivery) -> int:
        """The caller's endpoint: hand the delivery to the engine, answer its status."""
        answer = self.engine.receive(delivery.method, delivery.url, delivery.headers, delivery.body)
        self.answers.append(answer)
        return answer.status

    # -- time ----------------------------------------------------------------------

    def now(self) -> datetime:
        """The emulated time both services and the engine share."""
        return self.emulator.clock.now()

    def later(self, delta: timedelta = timedelta(minutes=1)) -> None:
        """Let time pass (webhooks that fall due are delivered)."""
        self.emulator.advance(delta.total_seconds())

    def tick(self) -> dict[str, SyncReport]:
        """The caller's scheduler ticks: run the due flows, by flow id."""
        return {report.flow_id: report for report in self.engine.run_due()}

    def outage(self, duration: timedelta = timedelta(hours=2)) -> None:
        """The caller's endpoint answers 503 for ``duration``: every delivery and retry fails.

        Time moves a minute at a time, so each retry falls due and fails, and both
        services give the deliveries up (Pipedrive after 3 minutes, Mailchimp 75).
        """
        self.emulator.on_webhook(lambda _: 503)
        for _ in range(int(duration / timedelta(minutes=1))):
            self.later(timedelta(minutes=1))
        self.emulator.on_webhook(self.deliver)

    def webhooks_now(self) -> None:
        """Deliver the webhooks the last changes made (the services send them at once)."""
        self.emulator.deliver_webhooks()

    # -- Pipedrive, as its users act ---------------------------------------------------

    def person(self, name: str, email: str | None = None, **values: Any) -> int:
        """Add a person in the Pipedrive app; return its id."""
        return self.emulator.pipedrive.add_person(
            name=name, emails=[email] if email else (), **values
        )

    def update_person(self, person_id: int, **changes: Any) -> None:
        """Change a person in the Pipedrive app (Pipedrive sends a ``person.change``)."""
        self.emulator.pipedrive.update_person(person_id, changes)

    def job_filter(self, job_title: str) -> int:
        """A people filter "job title is ``job_title``"; return its id."""
        field_id = self.emulator.pipedrive.person_field_id("job_title")
        return self.emulator.pipedrive.add_filter(
            job_title, filter_conditions(field_id, "=", job_title)
        )

    def persons(self) -> dict[str, dict[str, Any]]:
        """Every Pipedrive person by primary address (lower case)."""
        found = {}
        for person in self.emulator.pipedrive.iter_persons():
            primary = next((e["value"] for e in person["emails"] if e["primary"]), None)
            if primary:
                found[primary.lower()] = person
        return found

    def stage(self, pipeline: int, position: int) -> int:
        """The id of the stage at ``position`` (0-based) of ``pipeline``."""
        stages = [s.id for s in self.pipedrive.list_stages(pipeline_id=pipeline)]
        return stages[position]

    def default_pipeline(self) -> int:
        """The pipeline every Pipedrive company starts with."""
        return next(iter(self.pipedrive.list_pipelines())).id

    # -- Mailchimp, as its users act ---------------------------------------------------

    def member(self, email: str, *, fname: str = "", lname: str = "", **options: Any) -> None:
        """Add a member as an admin would (no webhook), opted in now."""
        options.setdefault("timestamp_opt", self.now())
        self.emulator.mailchimp.add_member(
            self.audience, email, merge_fields={"FNAME": fname, "LNAME": lname}, **options
        )

    def update_profile(self, email: str, **merge_fields: Any) -> None:
        """The member changes their profile (Mailchimp sends a ``profile`` webhook)."""
        self.emulator.mailchimp.update_profile(self.audience, email, merge_fields)

    def mc(self, email: str) -> dict[str, Any] | None:
        """The member as Mailchimp shows it, or ``None``."""
        return self.emulator.mailchimp.get_member(self.audience, email)

    def members(self) -> dict[str, dict[str, Any]]:
        """Every member of the audience (archived ones too) by address."""
        return {
            m["email_address"].lower(): m
            for m in self.emulator.mailchimp.iter_members(self.audience)
        }

    def tag(self, name: str, emails: Sequence[str] = ()) -> int:
        """Create a tag holding ``emails``; return its segment id."""
        return self.emulator.mailchimp.add_tag(self.audience, name, emails)

    def set_tag(self, email: str, name: str, *, on: bool) -> None:
        """Put a tag on a member or take it off (tag changes send no webhook)."""
        self.mailchimp.update_member_tags(
            self.audience, email, [TagUpdate(name=name, status="active" if on else "inactive")]
        )

    def tag_names(self, email: str) -> list[str]:
        """The tags on a member, sorted."""
        return sorted(t.name for t in self.mailchimp.list_member_tags(self.audience, email))

    # -- flows -----------------------------------------------------------------------

    def flow(self, trigger: Trigger, *, flow_id: str | None = None, **options: Any) -> Flow:
        """A flow with the default field pairs of the trigger's direction."""
        return Flow(
            id=flow_id or trigger.type_name,
            name=flow_id or trigger.type_name,
            trigger=trigger,
            pairs=self.engine.default_pairs(trigger.direction, self.audience),
            audience_id=self.audience,
            **options,
        )

    def start(self, flow: Flow) -> Flow:
        """Create, activate and wire a flow's webhooks, as a caller sets one up."""
        self.engine.create_flow(flow, confirm_subscribed=True)
        self.engine.activate(flow.id)
        self.engine.ensure_webhooks(HOOKS)
        return flow

    # Each started with the default pairs; ``options`` go to Flow (tag, interval, ...).

    def filters_flow(self, *filter_ids: int, **options: Any) -> Flow:
        return self.start(self.flow(PipedriveFiltersTrigger(list(filter_ids)), **options))

    def deal_flow(self, pipeline_id: int, stage_id: int, **options: Any) -> Flow:
        return self.start(self.flow(DealStageTrigger(pipeline_id, stage_id), **options))

    def segments_flow(self, *segment_ids: int, **options: Any) -> Flow:
        return self.start(self.flow(MailchimpSegmentsTrigger(list(segment_ids)), **options))

    def new_contact_flow(self, **options: Any) -> Flow:
        return self.start(self.flow(NewMailchimpContactTrigger(), **options))

    def pairs(self, direction: Direction) -> tuple[FieldPair, ...]:
        """The default field pairs of a flow going ``direction``."""
        return self.engine.default_pairs(direction, self.audience)


def filter_conditions(field_id: int, operator: str, value: str | None) -> dict[str, Any]:
    """The condition tree of a one-condition people filter, as the app saves it."""
    condition = {
        "object": "person",
        "field_id": str(field_id),
        "operator": operator,
        "value": value,
        "extra_value": None,
    }
    return {
        "glue": "and",
        "conditions": [
            {"glue": "and", "conditions": [condition]},
            {"glue": "or", "conditions": []},
        ],
    }


@pytest.fixture
def emulator() -> Emulator:
    """Both services, empty, on a clock that moves only when told."""
    return Emulator()


@pytest.fixture(params=["memory", "sqlite"])
def store(
    request: pytest.FixtureRequest, emulator: Emulator, tmp_path: Path
) -> Iterator[StateStore]:
    """An empty store on the emulator's clock: a MemoryStore, then a SQLiteStore."""
    opened: StateStore = (
        MemoryStore(clock=emulator.clock)
        if request.param == "memory"
        else SQLiteStore(tmp_path / "state.sqlite3", clock=emulator.clock)
    )
    yield opened
    opened.close()


@pytest.fixture
def scene(emulator: Emulator, store: StateStore) -> Scene:
    """The emulator, a store and an engine wired together (webhooks go to the engine)."""
    return Scene(emulator, store)
