"""No duplicates under concurrency: one new Mailchimp contact, many deliveries at once.

Mailchimp delivers at least once and retries, and a caller's web server answers
deliveries in parallel threads or processes. Whatever the interleaving, one new
contact must become exactly one Pipedrive person. The engine's guards are the
store's claim on the address and the links it commits; these tests share one SQLite
file between threads and between two engines, as real deployments do.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from pdmc.emulator import EmulatorTransport, WebhookDelivery
from pdmc.flows import SyncEngine, WebhookResult
from pdmc.storage import Claim, SQLiteStore, StateStore
from tests.flows_safety.world import World, emails_of_persons, new_engine

THREADS = 8
NEW_CONTACTS = (
    "lena.hoffmann@brightwave-studio.de",
    "mateo.garcia@vinedos-rioja.es",
    "aiko.tanaka@sakura-kogyo.jp",
    "pieter.dejong@polder-tech.nl",
    "sofia.rossi@trattoria-bella.it",
)


@pytest.fixture(autouse=True)
def _busy_thread_switching() -> Iterator[None]:
    """Switch threads far more often than usual, so interleavings vary widely."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


@pytest.fixture
def world(sqlite_world: World) -> World:
    """A SQLite-backed world with a new-contact flow active and its webhook set up."""
    sqlite_world.start(sqlite_world.new_contact_flow())
    return sqlite_world


class _HeldMemberReads(httpx.BaseTransport):
    """Holds each read of one Mailchimp member until ``parties`` threads are reading it.

    Every delivery then has passed the duplicate check and read the contact before
    any of them writes: the widest overlap the engine can meet.
    """

    def __init__(self, inner: EmulatorTransport, world: World, parties: int) -> None:
        self._inner = inner
        self._world = world
        self._barrier = threading.Barrier(parties, timeout=30)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        route = self._world.emulator.mailchimp.match(request.method, request.url.path)
        if route is not None and route[0].operation_id == "getListsIdMembersId":
            # Fewer readers than expected break the barrier: nothing left to hold them for.
            with contextlib.suppress(threading.BrokenBarrierError):
                self._barrier.wait()
        return self._inner.handle_request(request)


class _LateClaims:
    """A store whose address claims, but the first, wait until the first one's batch is in.

    A delivery that read "no person yet" and only then claims the address, after
    the winner created the person and let its claim go, is the subtle case: the
    claim is free again, so only a second look at the store can stop a duplicate.
    """

    def __init__(self, store: StateStore) -> None:
        self._store = store
        self._first = threading.Lock()
        self._winner: int | None = None
        self._committed = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def claim(self, key: str, holder: str, ttl: timedelta) -> Claim | None:
        if self._first.acquire(blocking=False):
            self._winner = threading.get_ident()
        else:
            self._committed.wait(timeout=30)
        return self._store.claim(key, holder, ttl)

    def commit_batch(self, batch: Any) -> None:
        self._store.commit_batch(batch)
        if threading.get_ident() == self._winner:
            self._committed.set()


def _subscribe_delivery(world: World, email: str) -> WebhookDelivery:
    """Sign ``email`` up as a person would and catch Mailchimp's ``subscribe`` delivery."""
    caught: list[WebhookDelivery] = []
    world.emulator.on_webhook(lambda delivery: caught.append(delivery) or 200)
    world.emulator.advance(60)
    first = email.split(".", maxsplit=1)[0].title()
    world.emulator.mailchimp.subscribe(world.audience, email, merge_fields={"FNAME": first})
    world.emulator.deliver_webhooks()
    world.wire_webhooks()
    (delivery,) = (d for d in caught if b"type=subscribe" in d.body)
    return delivery


def _refired(delivery: WebhookDelivery, second: int) -> bytes:
    """The same event as another delivery: Mailchimp fired it again ``second`` s later."""
    form = urllib.parse.parse_qsl(delivery.body.decode(), keep_blank_values=True)
    return urllib.parse.urlencode(
        [(k, f"{v[:-2]}{second:02d}" if k == "fired_at" else v) for k, v in form]
    ).encode()


def _bodies(delivery: WebhookDelivery) -> list[bytes]:
    """Half the threads repeat the delivery itself, half get re-fired copies of it."""
    return [delivery.body if i % 2 == 0 else _refired(delivery, 10 + i) for i in range(THREADS)]


def _deliver_at_once(
    engines: list[SyncEngine], delivery: WebhookDelivery, bodies: list[bytes]
) -> list[WebhookResult]:
    """Hand every body to an engine (round robin), each in its own thread, all at once."""
    start = threading.Barrier(len(bodies))
    results: list[WebhookResult] = []
    failures: list[BaseException] = []

    def deliver(index: int) -> None:
        engine = engines[index % len(engines)]
        start.wait()
        try:
            results.append(
                engine.receive(delivery.method, delivery.url, delivery.headers, bodies[index])
            )
        except BaseException as error:  # noqa: BLE001 - the test reports it
            failures.append(error)

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    return results


def _assert_one_person_each(world: World, emails: tuple[str, ...]) -> None:
    held = emails_of_persons(world.emulator)
    assert {email: held[email] for email in emails} == dict.fromkeys(emails, 1)


def _engines(world: World, tmp_path: Path, count: int) -> list[SyncEngine]:
    """``count`` engines on the world's SQLite file: the world's own, then fresh ones."""
    extra = [
        new_engine(
            world.emulator,
            SQLiteStore(tmp_path / "state.sqlite3", clock=world.emulator.clock),
            holder=f"worker-{i}",
        )
        for i in range(1, count)
    ]
    return [world.engine, *extra]


@pytest.mark.parametrize("engines", [1, 2], ids=["one engine", "two engines"])
def test_simultaneous_deliveries_of_one_new_contact_create_one_person(world, tmp_path, engines):
    """Many threads delivering the same and re-fired subscribe events create one person."""
    pool = _engines(world, tmp_path, engines)
    for email in NEW_CONTACTS:
        delivery = _subscribe_delivery(world, email)
        results = _deliver_at_once(pool, delivery, _bodies(delivery))
        assert {r.status for r in results} == {200}
    _assert_one_person_each(world, NEW_CONTACTS)
    world.settle()
    _assert_one_person_each(world, NEW_CONTACTS)


@pytest.mark.parametrize("engines", [1, 2], ids=["one engine", "two engines"])
def test_deliveries_that_all_read_before_any_writes_create_one_person(world, tmp_path, engines):
    """Deliveries that all read the new contact before any of them writes create one person."""
    world.emulator.transport = _HeldMemberReads(world.emulator.transport, world, THREADS)
    pool = [
        new_engine(world.emulator, engine.store, holder=engine.holder)
        for engine in _engines(world, tmp_path, engines)
    ]
    delivery = _subscribe_delivery(world, NEW_CONTACTS[0])
    _deliver_at_once(pool, delivery, _bodies(delivery))
    _assert_one_person_each(world, NEW_CONTACTS[:1])
    world.settle()
    _assert_one_person_each(world, NEW_CONTACTS[:1])


def test_a_delivery_that_claims_after_the_winner_finished_creates_no_second_person(world):
    """A delivery that read "no person" and claims after the winner let go creates no one."""
    late = _LateClaims(world.store)
    world.emulator.transport = _HeldMemberReads(world.emulator.transport, world, THREADS)
    pool = [new_engine(world.emulator, late, holder=world.engine.holder)]
    delivery = _subscribe_delivery(world, NEW_CONTACTS[0])
    _deliver_at_once(pool, delivery, _bodies(delivery))
    _assert_one_person_each(world, NEW_CONTACTS[:1])
    world.settle()
    _assert_one_person_each(world, NEW_CONTACTS[:1])
