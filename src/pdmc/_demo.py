"""``pdmc demo``: the whole job on the emulator, told as a short story.

It builds an emulated Pipedrive company and Mailchimp audience with realistic data,
creates one flow of each built-in trigger on the real engine, runs the initial syncs,
then plays what happens in a working week: a new subscriber, a deal moving, an email
change, an unsubscribe, an idle re-run. Every step checks its outcome on the
emulator's state and says what it saw; the summary table prices each flow.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from pdmc._secret import Secret
from pdmc.emulator import Emulator
from pdmc.flows import (
    DealStageTrigger,
    Flow,
    MailchimpSegmentsTrigger,
    MailchimpWebhookAuth,
    NewMailchimpContactTrigger,
    PipedriveFiltersTrigger,
    PipedriveWebhookAuth,
    Progress,
    SyncEngine,
    SyncReport,
)
from pdmc.mapping import Direction
from pdmc.storage import Link, MemoryStore, SQLiteStore, StateStore

__all__ = ["run_demo"]

PUBLIC_URL = "https://hooks.example.org/pdmc"
FLOW_NAMES = {
    "filters": "Software industry to Mailchimp",
    "deal-stage": "Contract signed to Mailchimp",
    "tags": "Customers to Pipedrive",
    "new-contact": "New subscribers to Pipedrive",
}


class _Story:
    """Prints steps, checks and a progress line, fitting a terminal or a log file."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tty = out.isatty()
        self.failures = 0

    def step(self, text: str) -> None:
        print(f"\n== {text}", file=self.out)

    def note(self, text: str) -> None:
        print(f"   {text}", file=self.out)

    def check(self, ok: bool, text: str) -> None:
        print(f"   [{'ok' if ok else 'FAILED'}] {text}", file=self.out)
        self.failures += not ok

    def fail(self, text: str) -> None:
        self.check(ok=False, text=text)

    def progress(self, name: str) -> Callable[[Progress], None]:
        def show(progress: Progress) -> None:
            if self.tty:
                print(f"\r   {name}: {progress.done} contacts", end="", file=self.out, flush=True)

        return show

    def end_progress(self) -> None:
        if self.tty:
            print(file=self.out)


def _store(store: str | None, emulator: Emulator) -> StateStore:
    if store in {None, "memory"}:
        return MemoryStore(clock=emulator.clock)
    path = Path(str(store))
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)  # the demo owns its file and starts afresh
    return SQLiteStore(path, clock=emulator.clock)


def run_demo(
    *,
    contacts: int = 2000,
    store: str | None = "pdmc-demo.sqlite3",
    seed: int = 7,
    out: TextIO | None = None,
) -> int:
    """Run the demo; return 0 when every step saw what it should, 1 otherwise."""
    story = _Story(out or sys.stdout)
    emulator = Emulator()
    story.step(f"An emulated Pipedrive and Mailchimp with {contacts} contacts (seed {seed})")
    summary = emulator.seed(contacts=contacts, seed=seed)
    emulator.advance(timedelta(days=1).total_seconds())  # the accounts existed before pdmc
    story.note(
        f"{summary.persons} persons, {summary.members} members, {summary.deals} deals; "
        f"state in {store or 'memory'}"
    )
    pipedrive, mailchimp = emulator.pipedrive_client(), emulator.mailchimp_client()
    engine = SyncEngine(
        pipedrive,
        mailchimp,
        _store(store, emulator),
        clock=emulator.clock,
        pipedrive_webhook_auth=PipedriveWebhookAuth("pdmc", Secret("demo-webhook-password")),
        mailchimp_webhook_auth=MailchimpWebhookAuth(url_secret=Secret("demo-url-secret")),
    )
    emulator.on_webhook(lambda d: engine.receive(d.method, d.url, d.headers, d.body).status)
    audience = summary.audience_id
    to_mailchimp = engine.default_pairs(Direction.PD_TO_MC, audience)
    to_pipedrive = engine.default_pairs(Direction.MC_TO_PD, audience)
    stage = summary.stages["Partnerships"]["Contract signed"]
    flows = [
        Flow(
            id="filters",
            name=FLOW_NAMES["filters"],
            trigger=PipedriveFiltersTrigger([summary.filters["Software industry"]]),
            pairs=to_mailchimp,
            audience_id=audience,
            tag="pipedrive-software",
        ),
        Flow(
            id="deal-stage",
            name=FLOW_NAMES["deal-stage"],
            trigger=DealStageTrigger(pipeline_id=_pipeline_of(emulator, stage), stage_id=stage),
            pairs=to_mailchimp,
            audience_id=audience,
            tag="contract-signed",
        ),
        Flow(
            id="tags",
            name=FLOW_NAMES["tags"],
            trigger=MailchimpSegmentsTrigger([summary.tags["Customer"]]),
            pairs=to_pipedrive,
            audience_id=audience,
        ),
        Flow(
            id="new-contact",
            name=FLOW_NAMES["new-contact"],
            trigger=NewMailchimpContactTrigger(),
            pairs=to_pipedrive,
            audience_id=audience,
        ),
    ]
    story.step("Four flows, one per built-in trigger")
    for flow in flows:
        preview = engine.preview(flow, limit=5)
        engine.create_flow(flow, confirm_subscribed=True)
        engine.activate(flow.id)
        story.note(f"{flow.id:<12} {flow.trigger.describe()} (preview: {len(preview)} contacts)")
    setup = engine.ensure_webhooks(PUBLIC_URL)
    story.note(f"{len(setup.created)} webhooks registered:")
    for hook in setup.created:
        story.note(f"  {hook}")
    again = engine.ensure_webhooks(PUBLIC_URL)
    story.check(not again.changed, "registering webhooks again changes nothing")

    story.step("Initial syncs (the flows were due at activation)")
    for report in _run_due(engine, story):
        story.note(report.summary())

    _story_new_subscriber(story, emulator, audience)
    _story_deal_moves(story, emulator, audience, stage)
    _story_email_change(story, emulator, engine, audience)
    _story_unsubscribe(story, emulator, engine, audience)

    story.step("An idle re-run writes nothing")
    emulator.advance(timedelta(hours=5).total_seconds())
    idle = [engine.run_flow(flow.id) for flow in flows]
    story.check(all(r.writes == 0 for r in idle), "no flow wrote anything")

    story.step("Summary")
    _table(story, engine, flows)
    story.note(
        f"Pipedrive answered {emulator.pipedrive.log.requests} requests "
        f"({emulator.pipedrive.log.tokens} tokens); Mailchimp {emulator.mailchimp.log.requests}."
    )
    if story.failures:
        story.note(f"{story.failures} check(s) failed")
        return 1
    return 0


def _pipeline_of(emulator: Emulator, stage_id: int) -> int:
    with emulator.pipedrive_client() as client:
        return next(s.pipeline_id for s in client.list_stages() if s.id == stage_id)


def _run_due(engine: SyncEngine, story: _Story) -> list[SyncReport]:
    reports = []
    for state in engine.list_flows():
        engine.progress = story.progress(state.id)
        if state.status == "active" and state.record.next_run_at is not None:
            reports.append(engine.run_flow(state.id))
            story.end_progress()
    engine.progress = None
    return reports


def _story_new_subscriber(story: _Story, emulator: Emulator, audience: str) -> None:
    story.step("A new Mailchimp subscriber appears in Pipedrive")
    email = "ines.duarte@example-mail.net"
    emulator.mailchimp.subscribe(audience, email, merge_fields={"FNAME": "Inês", "LNAME": "Duarte"})
    emulator.deliver_webhooks()
    with emulator.pipedrive_client() as client:
        found = [p for p in client.list_persons() if (p.primary_email or "").lower() == email]
    story.check(
        len(found) == 1, f"{email} signed up and is now person {found[0].id if found else '?'}"
    )


def _story_deal_moves(story: _Story, emulator: Emulator, audience: str, stage: int) -> None:
    story.step("A deal reaches 'Contract signed'; its person lands in Mailchimp with a tag")
    email = "kwame.mensah@example-mail.net"
    person_id = emulator.pipedrive.add_person(
        name="Kwame Mensah", emails=[{"value": email, "primary": True, "label": "work"}]
    )
    with emulator.pipedrive_client() as client:
        first_stage = next(s.id for s in client.list_stages() if s.id != stage)
    deal = emulator.pipedrive.add_deal(
        title="Mensah partnership", person_id=person_id, stage_id=first_stage
    )
    emulator.pipedrive.move_deal(deal, stage)
    emulator.deliver_webhooks()
    member = emulator.mailchimp.get_member(audience, email)
    tags = {t["name"] for t in (member or {}).get("tags", [])}
    story.check(
        member is not None and "contract-signed" in tags,
        f"{email} is a member tagged contract-signed",
    )


def _story_email_change(
    story: _Story, emulator: Emulator, engine: SyncEngine, audience: str
) -> None:
    story.step("A person's email changes in Pipedrive; the member follows")
    link = _subscribed_link(engine, audience)
    if link is None or link.person_id is None:
        story.fail("no synced person of the filter flow to change")
        return
    new = f"changed.{link.email}"
    emulator.pipedrive.update_person(
        link.person_id, {"emails": [{"value": new, "primary": True, "label": "work"}]}
    )
    emulator.deliver_webhooks()
    old_member = emulator.mailchimp.get_member(audience, link.email)
    new_member = emulator.mailchimp.get_member(audience, new)
    story.check(
        new_member is not None and old_member is None,
        f"one member, moved from {link.email}\n          to {new}",
    )


def _subscribed_link(engine: SyncEngine, audience: str) -> Link | None:
    """A person the filter flow synced whose member is subscribed: the story's next actor."""
    return next(
        (
            link
            for link in engine.store.iter_links(engine.account_pair, audience)
            if link.person_id is not None
            and link.member_status == "subscribed"
            and engine.store.tracked("filters", [f"person:{link.person_id}"])
        ),
        None,
    )


def _story_unsubscribe(
    story: _Story, emulator: Emulator, engine: SyncEngine, audience: str
) -> None:
    story.step("A member unsubscribes; pdmc never subscribes them again")
    link = _subscribed_link(engine, audience)
    if link is None or link.person_id is None:
        story.fail("no synced person of the filter flow to unsubscribe")
        return
    emulator.mailchimp.unsubscribe(audience, link.email)
    emulator.pipedrive.update_person(link.person_id, {"job_title": "Head of Procurement"})
    emulator.deliver_webhooks()
    emulator.advance(timedelta(hours=5).total_seconds())
    engine.run_flow("filters")
    member = emulator.mailchimp.get_member(audience, link.email)
    story.check(
        member is not None and member["status"] == "unsubscribed",
        f"{link.email}, edited in Pipedrive, is still unsubscribed",
    )


def _table(story: _Story, engine: SyncEngine, flows: list[Flow]) -> None:
    """Per flow, every run's counts (scheduled and webhook-driven) from the store."""
    header = (
        f"{'flow':<12} {'runs':>4} {'created':>7} {'updated':>7} {'unchanged':>9} "
        f"{'skipped':>7} {'calls':>6} {'tokens':>6}"
    )
    print(f"   {header}", file=story.out)
    print(f"   {'-' * len(header)}", file=story.out)
    for flow in flows:
        runs = engine.history(flow.id, limit=10_000)
        count = {
            key: sum(run.counts.get(key, 0) for run in runs)
            for key in ("created", "updated", "unchanged", "skipped", "api_calls", "tokens")
        }
        print(
            f"   {flow.id:<12} {len(runs):>4} {count['created']:>7} {count['updated']:>7} "
            f"{count['unchanged']:>9} {count['skipped']:>7} {count['api_calls']:>6} "
            f"{count['tokens']:>6}",
            file=story.out,
        )
        reasons: dict[str, int] = {}
        for run in runs:
            for outcome in engine.store.iter_outcomes(run.run_id, action="skipped"):
                reason = outcome.reason or "skipped"
                reasons[reason] = reasons.get(reason, 0) + 1
        for reason, n in sorted(reasons.items(), key=lambda item: -item[1]):
            print(f"   {'':<12} {n:>5} skipped: {reason}", file=story.out)
