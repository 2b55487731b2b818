"""What flows cost on the emulator: the scenarios the cost tests and the benchmark share.

Every figure comes from the emulators' own request logs (requests and Pipedrive tokens
per ``operationId``), never from the clock. A scenario builds a fresh emulator and
engine, loads an account (see :mod:`tests.flows_cost.accounts`), activates one flow and
runs it the way a caller's scheduler would: ``run_due`` after every interval. Only
:func:`near_instant` registers webhooks; elsewhere every change reaches the flow
through its scheduled pass.
"""

from __future__ import annotations

import gc
import math
import multiprocessing
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Final

import attrs
from attrs import define, frozen

from pdmc import Secret
from pdmc.clients import MailchimpClient, PipedriveClient
from pdmc.emulator import Emulator, OperationCounts
from pdmc.flows import (
    DEFAULT_INTERVAL,
    Flow,
    MailchimpSegmentsTrigger,
    MailchimpWebhookAuth,
    PipedriveFiltersTrigger,
    PipedriveWebhookAuth,
    SyncEngine,
    SyncReport,
)
from pdmc.mapping import Direction
from pdmc.storage import MemoryStore, SQLiteStore, normalise_email
from tests.flows_cost.accounts import (
    FilterAccount,
    TagAccount,
    add_tag_member,
    email_of,
    load_filter_account,
    load_tag_account,
    tag_email,
)

__all__ = [
    "CONSTANT_CALLS",
    "TICK",
    "FilterStory",
    "MemoryPeak",
    "Spent",
    "TagStory",
    "engine_peak",
    "incremental",
    "initial_bound",
    "is_write",
    "near_instant",
]

TICK: Final = DEFAULT_INTERVAL.total_seconds() + 1
"""Seconds from one scheduled run to the next (the default interval)."""

HOOKS_URL: Final = "https://hooks.example.org/pdmc"
"""Where the caller's (emulated) web app takes webhook deliveries."""

CONSTANT_CALLS: Final = {
    "getCurrentUser": "Pipedrive: the company's id, for the account pair (once per engine)",
    "getRoot": "Mailchimp: the account's id, for the account pair (once per engine)",
    "getFilter": "Pipedrive: the filter still exists (one per chosen filter)",
    "getPersonFields": "Pipedrive: the person field catalog (the field map is checked live)",
    "getListsIdMergeFields": "Mailchimp: the audience's merge field catalog",
    "getListsIdMembers": "Mailchimp: the archived members' page of the member index",
}
"""The calls an initial Pipedrive-filter run makes beyond its pages: one of each."""


def is_write(operation: str) -> bool:
    """Whether an ``operationId`` changes data (every one but ``get*`` and ``search*``)."""
    return not operation.startswith(("get", "search"))


@frozen
class Spent:
    """What one run cost, read from both emulators' request logs."""

    scenario: str
    contacts: int
    changed: int | None
    pipedrive: Mapping[str, OperationCounts]
    mailchimp: Mapping[str, OperationCounts]
    report: SyncReport | None
    """The run's report (``None`` for webhook deliveries, which make no report)."""
    earlier: tuple[SyncReport, ...] = ()
    """Reports of the runs a spent daily token budget ended before ``report``'s."""

    def calls(self, operation: str) -> int:
        """Requests for one ``operationId`` (on either service)."""
        found = self.pipedrive.get(operation) or self.mailchimp.get(operation)
        return found.requests if found else 0

    @property
    def pipedrive_calls(self) -> int:
        """Requests Pipedrive answered."""
        return sum(c.requests for c in self.pipedrive.values())

    @property
    def mailchimp_calls(self) -> int:
        """Requests Mailchimp answered."""
        return sum(c.requests for c in self.mailchimp.values())

    @property
    def calls_total(self) -> int:
        """Requests both services answered."""
        return self.pipedrive_calls + self.mailchimp_calls

    @property
    def tokens(self) -> int:
        """Pipedrive tokens charged."""
        return sum(c.tokens for c in self.pipedrive.values())

    @property
    def writes(self) -> dict[str, int]:
        """Write requests per ``operationId``, both services."""
        every = {**self.pipedrive, **self.mailchimp}
        return {op: c.requests for op, c in every.items() if is_write(op)}

    @property
    def tokens_per_contact(self) -> float:
        """Pipedrive tokens per contact the run concerned (the changed ones, if some changed)."""
        return self.tokens / (self.changed or self.contacts)

    def row(self) -> dict[str, Any]:
        """The figures as one JSON-ready mapping."""
        return {
            "scenario": self.scenario,
            "contacts": self.contacts,
            "changed": self.changed,
            "pipedrive_calls": self.pipedrive_calls,
            "mailchimp_calls": self.mailchimp_calls,
            "tokens": self.tokens,
            "tokens_per_contact": round(self.tokens_per_contact, 4),
            "writes": sum(self.writes.values()),
            "pipedrive": {op: [c.requests, c.tokens] for op, c in sorted(self.pipedrive.items())},
            "mailchimp": {op: c.requests for op, c in sorted(self.mailchimp.items())},
            "counts": {
                action: n for action, n in (self.report.counts if self.report else {}).items() if n
            },
        }


def initial_bound(persons: int) -> int:
    """The most calls the brief allows an initial Pipedrive-filter run of ``persons``."""
    pages = math.ceil(persons / 500)
    return 2 * pages + math.ceil(persons / 1000) + len(CONSTANT_CALLS)


@define
class _Scheduled:
    """One emulator, one engine, one active flow: run it as a scheduler would."""

    emulator: Emulator
    engine: SyncEngine
    flow_id: str
    contacts: int

    def run(self, scenario: str, *, changed: int | None = None) -> Spent:
        """Run every due flow (only this one) and price the run."""
        self._clear_logs()
        reports = self.engine.run_due()
        if [r.flow_id for r in reports] != [self.flow_id]:
            raise AssertionError(f"expected one run of {self.flow_id}, got {reports}")
        (report,) = reports
        earlier: list[SyncReport] = []
        while report.errors and all(
            error.startswith("QuotaExhaustedError") for error in report.errors
        ):
            # The daily token budget is spent: the flow is due again at the reset.
            record = self.engine.store.get_flow(self.flow_id)
            assert record is not None
            assert record.next_run_at is not None
            self.emulator.advance((record.next_run_at - self.emulator.clock.now()).total_seconds())
            earlier.append(report)
            (report,) = self.engine.run_due()
        if report.errors:
            raise AssertionError(f"the run reported errors: {report.errors}")
        return attrs.evolve(self._spent(scenario, changed, report), earlier=tuple(earlier))

    def hook(self) -> None:
        """Send webhook deliveries to the engine and register what the flow needs.

        Deliveries are then made only by :meth:`deliver`, one after another, as a web
        app answers them (the emulator would otherwise deliver the next event inside
        the API request that handling the previous one makes).
        """
        engine = self.engine
        self.emulator.auto_deliver = False
        self.emulator.on_webhook(
            lambda delivery: (
                engine.receive(
                    delivery.method, delivery.url, delivery.headers, delivery.body
                ).status
            )
        )
        engine.ensure_webhooks(HOOKS_URL)

    def deliver(self, scenario: str, *, changed: int) -> Spent:
        """Deliver the webhooks due now and price what handling them cost."""
        self._clear_logs()
        self.emulator.deliver_webhooks()
        return self._spent(scenario, changed, None)

    def _clear_logs(self) -> None:
        self.emulator.pipedrive.log.reset()
        self.emulator.mailchimp.log.reset()

    def _spent(self, scenario: str, changed: int | None, report: SyncReport | None) -> Spent:
        return Spent(
            scenario,
            self.contacts,
            changed,
            self.emulator.pipedrive.log.by_operation(),
            self.emulator.mailchimp.log.by_operation(),
            report,
        )

    def later(self, seconds: float = TICK) -> None:
        """Let time pass until the flow is due again."""
        self.emulator.advance(seconds)


def _engine(emulator: Emulator) -> SyncEngine:
    return SyncEngine(
        emulator.pipedrive_client(),
        emulator.mailchimp_client(),
        MemoryStore(clock=emulator.clock),
        clock=emulator.clock,
        pipedrive_webhook_auth=PipedriveWebhookAuth("pdmc", Secret("flows-cost-hook-password")),
        mailchimp_webhook_auth=MailchimpWebhookAuth(url_secret=Secret("flows-cost-url-secret")),
    )


def _activate(engine: SyncEngine, flow: Flow) -> None:
    engine.create_flow(flow, confirm_subscribed=True)
    engine.activate(flow.id)


@define
class FilterStory(_Scheduled):
    """A Pipedrive-filter flow over a :class:`FilterAccount`."""

    account: FilterAccount

    @classmethod
    def start(cls, persons: int) -> FilterStory:
        """Load ``persons`` persons and activate a flow of their filter (not run yet)."""
        emulator = Emulator()
        account = load_filter_account(emulator, persons)
        engine = _engine(emulator)
        pairs = engine.default_pairs(Direction.PD_TO_MC, account.audience_id)
        flow = Flow(
            id="filter",
            name="Every person",
            trigger=PipedriveFiltersTrigger([account.filter_id]),
            pairs=pairs,
            audience_id=account.audience_id,
        )
        _activate(engine, flow)
        return cls(emulator, engine, flow.id, persons, account)

    def change(self, count: int) -> None:
        """Change ``count`` plain persons in the app: a new first name (every tenth: address)."""
        pipedrive = self.emulator.pipedrive
        for i, n in enumerate(self.account.plain(count)):
            person_id = self.account.person_id(n)
            if i % 10 == 9:
                address = f"moved.{email_of(n)}"
                pipedrive.update_person(
                    person_id, {"emails": [{"value": address, "primary": True, "label": "work"}]}
                )
            else:
                pipedrive.update_person(person_id, {"first_name": f"Renamed {n}"})


@define
class TagStory(_Scheduled):
    """A Mailchimp-tag flow (to Pipedrive) over a :class:`TagAccount`."""

    account: TagAccount
    added: int = 0

    @classmethod
    def start(cls, members: int) -> TagStory:
        """Load ``members`` tagged members and activate a flow of their tag (not run yet)."""
        emulator = Emulator()
        account = load_tag_account(emulator, members)
        engine = _engine(emulator)
        pairs = engine.default_pairs(Direction.MC_TO_PD, account.audience_id)
        flow = Flow(
            id="tag",
            name="Tagged members",
            trigger=MailchimpSegmentsTrigger([account.segment_id]),
            pairs=pairs,
            audience_id=account.audience_id,
        )
        _activate(engine, flow)
        return cls(emulator, engine, flow.id, members, account)

    def change(self, count: int) -> None:
        """Edit ``count`` members' profiles, and add ``count`` new members to the tag."""
        mailchimp, audience = self.emulator.mailchimp, self.account.audience_id
        for n in self.account.plain(count):
            mailchimp.update_profile(audience, tag_email(n), {"FNAME": f"Renamed {n}"})
        for _ in range(count):
            add_tag_member(self.emulator, audience, self.account.members + self.added)
            self.added += 1

    def persons_per_address(self) -> Counter[str]:
        """How many Pipedrive persons hold each address (any of their addresses)."""
        held: Counter[str] = Counter()
        for person in self.emulator.pipedrive.iter_persons():
            for address in {normalise_email(e["value"]) for e in person.get("emails") or ()}:
                held[address] += 1
        return held


def incremental(persons: int, changed: int) -> Spent:
    """The run after ``changed`` of ``persons`` persons changed, in a settled flow.

    The flow makes its initial run and one more (which reads back the members the
    first wrote, see the report); then the persons change and the flow runs again.
    """
    story = FilterStory.start(persons)
    story.run("initial")
    story.later()
    story.run("settle")
    story.change(changed)
    story.later()
    return story.run(f"{changed} changed", changed=changed)


def near_instant(persons: int, changed: int) -> tuple[Spent, Spent]:
    """``changed`` persons change with webhooks on: the deliveries, then the next run.

    The deliveries sync the changes near-instantly; the scheduled run after them
    finds nothing left to write.
    """
    story = FilterStory.start(persons)
    story.run("initial")
    story.later()
    story.run("settle")
    story.hook()
    story.change(changed)
    events = story.deliver(f"{changed} changed, by webhook", changed=changed)
    story.later()
    return events, story.run("the run after the webhooks", changed=changed)


# -- memory -----------------------------------------------------------------------------


_LOAD_TIMEOUT: Final = 900.0
"""Seconds the emulator process may take to load its account (generous: 100,000 persons)."""


@frozen
class MemoryPeak:
    """The engine's memory during one initial run, with the emulator in another process."""

    persons: int
    peak_bytes: int
    """tracemalloc's peak during the run, above what was traced when it began."""
    retained_bytes: int
    """What the run left allocated once its objects were collected (its report, caches)."""
    synced: int
    """Persons the run wrote or found in sync already (a check that it did the whole job)."""

    def row(self) -> dict[str, Any]:
        """The figures as one JSON-ready mapping."""
        return {
            "persons": self.persons,
            "peak_bytes": self.peak_bytes,
            "retained_bytes": self.retained_bytes,
            "synced": self.synced,
        }


def _serve_filter_account(persons: int, connection: Connection) -> None:
    """In a child process: load a filter account and serve it until told to stop."""
    emulator = Emulator()
    account = load_filter_account(emulator, persons)
    stop = threading.Event()

    def follow_real_time() -> None:  # rate-limit windows must roll over as time passes
        last = time.monotonic()
        while not stop.wait(0.05):
            now = time.monotonic()
            emulator.advance(now - last)
            last = now

    with emulator.serve() as server:
        follower = threading.Thread(target=follow_real_time, daemon=True)
        follower.start()
        connection.send(
            {
                "account": account,
                "pipedrive_url": server.url_of(emulator.pipedrive),
                "mailchimp_url": server.url_of(emulator.mailchimp),
                "pipedrive_token": emulator.pipedrive.default_company.api_token.reveal(),
                "mailchimp_key": emulator.mailchimp.default_account.api_key.reveal(),
            }
        )
        connection.recv()  # the parent's word that it is done
        stop.set()
        follower.join()


@contextmanager
def _served_filter_account(persons: int) -> Iterator[dict[str, Any]]:
    spawn = multiprocessing.get_context("spawn")
    ours, theirs = spawn.Pipe()
    child = spawn.Process(target=_serve_filter_account, args=(persons, theirs), daemon=True)
    child.start()
    try:
        if not ours.poll(_LOAD_TIMEOUT):
            raise TimeoutError(f"the emulator process did not start (exit code {child.exitcode})")
        yield ours.recv()
    finally:
        with suppress(OSError):  # the child may be gone already
            ours.send("done")
        child.join(timeout=30)
        if child.is_alive():
            child.kill()


def engine_peak(persons: int) -> MemoryPeak:
    """Peak memory of the engine during the initial run of a filter flow of ``persons``.

    The emulator runs in a child process (started with ``spawn``, its clock following
    real time) and is reached over local HTTP, so nothing it allocates (the members
    the run creates, their values, its logs) is traced here; the state
    store is SQLite on disk, so the links it keeps are not traced either (SQLite
    allocates outside Python's allocator). What is traced is the engine's own work:
    pages read, batches planned and written, the report, the clients and the store's
    Python side. tracemalloc starts after the account is loaded and the flow saved,
    and the peak is taken over the run alone.
    """
    with _served_filter_account(persons) as served, tempfile.TemporaryDirectory() as folder:
        account: FilterAccount = served["account"]
        pipedrive = PipedriveClient(
            Secret(served["pipedrive_token"]), base_url=served["pipedrive_url"]
        )
        mailchimp = MailchimpClient(
            Secret(served["mailchimp_key"]), base_url=served["mailchimp_url"]
        )
        store = SQLiteStore(Path(folder) / "state.sqlite3")
        engine = SyncEngine(pipedrive, mailchimp, store, account_pair="memory-bench")
        pairs = engine.default_pairs(Direction.PD_TO_MC, account.audience_id)
        _activate(
            engine,
            Flow(
                id="filter",
                name="Every person",
                trigger=PipedriveFiltersTrigger([account.filter_id]),
                pairs=pairs,
                audience_id=account.audience_id,
            ),
        )
        gc.collect()
        tracemalloc.start()
        try:
            began = tracemalloc.get_traced_memory()[0]
            report = engine.run_flow("filter")
            peak = tracemalloc.get_traced_memory()[1] - began
            synced = report.writes + report.counts["unchanged"]
            del report
            gc.collect()
            retained = tracemalloc.get_traced_memory()[0] - began
        finally:
            tracemalloc.stop()
            store.close()
            pipedrive.close()
            mailchimp.close()
    return MemoryPeak(persons, peak, retained, synced)
