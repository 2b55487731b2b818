"""Test helpers for state stores: a clock tests can move, and the conformance suite.

:class:`StateStoreContract` holds pdmc's conformance tests for the
:class:`~pdmc.storage.StateStore` protocol: every operation, the atomicity of a
batch, memberships and the end of a pass, leases and claims (including threads racing
for one) and processed-event dedup. pdmc
runs it against all of its own stores; run it against yours by subclassing it in a
test module and supplying one fixture, ``open_store``, that returns a function
opening a new handle on one fresh, empty store built with the given ``clock``::

    import pytest
    from pdmc.storage.testing import StateStoreContract

    class TestRedisStore(StateStoreContract):
        @pytest.fixture
        def open_store(self, clock, redis_url):
            return lambda: RedisStore(redis_url, clock=clock)

Each call of the function should return a new handle (a new connection) on the same
store, as a second worker would open it; a store that cannot be shared may return the
same object each time. The suite closes every handle it opened.

This module needs pytest, which pdmc does not install by itself.
"""

# The suite is a set of pytest tests: assert is how they check, and literal sizes are
# the expected values.
# ruff: noqa: S101, PLR2004

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from attrs import evolve

from pdmc.errors import (
    ConfigurationError,
    FlowNotFoundError,
    LeaseHeldError,
    LinkConflictError,
    StoreError,
)
from pdmc.storage._batch import Batch
from pdmc.storage._protocol import StateStore
from pdmc.storage._records import Claim, FlowRecord, Lease, Link, Outcome

__all__ = ["ManualClock", "OpenStore", "StateStoreContract"]

OpenStore = Callable[[], StateStore]
"""A function that opens a new handle on the store under test."""

PAIR = "pd-company-1/mc-account-1"
AUDIENCE = "audience-1"
MINUTE = timedelta(minutes=1)
CLAIM_KEY = f"create-person:{PAIR}:ada@example.org"


class ManualClock:
    """A clock that stands still until a test moves it; thread-safe.

    >>> clock = ManualClock(datetime(2025, 1, 1, tzinfo=UTC))
    >>> clock.advance(timedelta(minutes=5)).isoformat()
    '2025-01-01T00:05:00+00:00'
    """

    def __init__(self, start: datetime = datetime(2025, 1, 1, tzinfo=UTC)) -> None:
        if start.utcoffset() is None:
            raise ConfigurationError(f"ManualClock needs a timezone-aware start, got {start!r}")
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Return the clock's current time."""
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta``; return the new time."""
        with self._lock:
            self._now += delta
            return self._now

    def __repr__(self) -> str:
        return f"ManualClock({self.now().isoformat()!r})"


def make_link(n: int, **changes: Any) -> Link:
    """Return the link of test contact ``n`` (person ``n``, member ``m<n>``), with changes."""
    fields: dict[str, Any] = {
        "account_pair": PAIR,
        "audience_id": AUDIENCE,
        "email": f"contact{n}@example.com",
        "person_id": n,
        "member_id": f"m{n}",
    }
    fields.update(changes)
    return Link(**fields)


def save_flow(store: StateStore, flow_id: str = "f1", **changes: Any) -> FlowRecord:
    """Save a small flow named ``flow_id`` and return it as stored."""
    definition = {"trigger": {"kind": "pipedrive_filter", "filter_ids": [7]}, "tag": "crm"}
    return store.save_flow(
        FlowRecord(flow_id=flow_id, name=f"Flow {flow_id}", definition=definition, **changes)
    )


def commit_links(store: StateStore, *links: Link, flow_id: str = "f1") -> None:
    """Commit a batch that upserts ``links`` for ``flow_id``."""
    batch = Batch(flow_id)
    for link in links:
        batch.upsert_link(link)
    store.commit_batch(batch)


def person_key(n: int) -> str:
    """The membership key of test contact ``n``, as the engine names a person."""
    return f"person:{n}"


def snapshot(store: StateStore, flow_id: str = "f1") -> dict[str, Any]:
    """Everything the store holds for one flow and the test audience, for comparisons.

    Memberships are read for test contacts 1 to 9; claims are left out, as reading
    one means taking it.
    """
    runs = store.list_runs(flow_id, limit=100)
    return {
        "links": list(store.iter_links(PAIR, AUDIENCE)),
        "checkpoints": store.get_checkpoints(flow_id),
        "retries": (
            store.count_retries(flow_id),
            [(row.row_key, row.attempts, row.payload) for row in store.due_retries(flow_id)],
        ),
        "runs": runs,
        "outcomes": {run.run_id: list(store.iter_outcomes(run.run_id)) for run in runs},
        "events": [store.is_event_processed("pipedrive", str(n)) for n in range(3)],
        "memberships": store.tracked(flow_id, [person_key(n) for n in range(1, 10)]),
    }


def full_batch(flow_id: str, run_id: int, *links: Link, lease: Lease | None = None) -> Batch:
    """A batch with links, outcomes and memberships of ``links``, a checkpoint, a retry, an event.

    Add :meth:`~pdmc.storage.Batch.end_pass` and claims to release as a test needs them.
    """
    batch = Batch(flow_id, run_id=run_id, lease=lease)
    for link in links:
        batch.upsert_link(link)
        batch.record_outcome(Outcome(action="created", email=link.email, person_id=link.person_id))
        if link.person_id is not None:
            batch.track(person_key(link.person_id))
    batch.set_checkpoint("persons", {"cursor": "c-2"})
    batch.retry_later(
        "person:99",
        payload={"id": 99},
        error="timeout",
        next_attempt_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    batch.mark_event("pipedrive", "1")
    return batch


def track(store: StateStore, *keys: str, matching: bool = True, flow_id: str = "f1") -> None:
    """Commit a batch that tracks ``keys`` for ``flow_id``."""
    batch = Batch(flow_id)
    for key in keys:
        batch.track(key, matching=matching)
    store.commit_batch(batch)


def race(count: int, attempt: Callable[[int], object]) -> list[object]:
    """Run ``attempt(i)`` in ``count`` threads released at once; return results or errors."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = attempt(index)
        except Exception as exc:  # noqa: BLE001 - the race's losers are part of the result
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


class StateStoreContract:
    """Conformance tests for a :class:`~pdmc.storage.StateStore`.

    Subclass it in a test module and supply the ``open_store`` fixture.
    """

    # -- fixtures ------------------------------------------------------------------

    @pytest.fixture
    def clock(self) -> ManualClock:
        """The clock the store under test must read (2025-01-01 00:00 UTC, standing still)."""
        return ManualClock()

    @pytest.fixture
    def open_store(self, clock: ManualClock) -> OpenStore:
        """Override: return a function that opens a handle on one fresh store using ``clock``."""
        raise NotImplementedError("a StateStoreContract subclass must define open_store")

    @pytest.fixture
    def handles(self, open_store: OpenStore) -> Iterator[OpenStore]:
        """Open handles on the store under test; each is closed when the test ends."""
        opened: list[StateStore] = []

        def open_handle() -> StateStore:
            handle = open_store()
            opened.append(handle)
            return handle

        yield open_handle
        for handle in opened:
            handle.close()

    @pytest.fixture
    def store(self, handles: OpenStore) -> StateStore:
        """One handle on a fresh store."""
        return handles()

    # -- flows -------------------------------------------------------------------------

    def test_is_a_state_store(self, store: StateStore) -> None:
        """The store satisfies the StateStore protocol at run time."""
        assert isinstance(store, StateStore)

    def test_saved_flow_reads_back_with_store_timestamps(
        self, store: StateStore, clock: ManualClock
    ) -> None:
        """A saved flow reads back equal, its JSON definition and version intact, times set."""
        saved = save_flow(store, definition_version=3, next_run_at=clock.now() + MINUTE)
        assert saved.created_at == saved.updated_at == clock.now()
        assert saved.activated_at is None
        assert saved.status == "paused"
        assert store.get_flow("f1") == saved
        assert saved.definition == {
            "trigger": {"kind": "pipedrive_filter", "filter_ids": [7]},
            "tag": "crm",
        }
        assert saved.definition_version == 3

    def test_saving_again_keeps_created_at_and_replaces_the_definition(
        self, store: StateStore, clock: ManualClock
    ) -> None:
        """Saving a flow again replaces its definition, keeps created_at, moves updated_at."""
        first = save_flow(store)
        clock.advance(MINUTE)
        second = store.save_flow(
            FlowRecord(flow_id="f1", name="Renamed", definition={"v": 2}, definition_version=2)
        )
        assert second.created_at == first.created_at
        assert second.updated_at == clock.now()
        assert store.get_flow("f1") == second
        assert second.definition == {"v": 2}

    def test_get_flow_of_unknown_id_is_none(self, store: StateStore) -> None:
        """Asking for a flow that does not exist returns None."""
        assert store.get_flow("nope") is None

    def test_list_flows_oldest_first_and_by_status(
        self, store: StateStore, clock: ManualClock
    ) -> None:
        """Flows list oldest first, and a status filter keeps only that status."""
        save_flow(store, "b")
        clock.advance(MINUTE)
        save_flow(store, "a", status="active")
        assert [flow.flow_id for flow in store.list_flows()] == ["b", "a"]
        assert [flow.flow_id for flow in store.list_flows(status="active")] == ["a"]
        assert store.list_flows(status="deactivated") == []

    def test_activation_sets_activated_at_and_pausing_keeps_it(
        self, store: StateStore, clock: ManualClock
    ) -> None:
        """Turning a flow active stamps activated_at; pausing it keeps the stamp and the reason."""
        save_flow(store)
        clock.advance(MINUTE)
        active = store.set_flow_status("f1", "active")
        assert active.activated_at == clock.now()
        clock.advance(MINUTE)
        paused = store.set_flow_status("f1", "paused", reason="holiday")
        assert paused.activated_at == active.activated_at
        assert paused.status_reason == "holiday"
        assert store.get_flow("f1") == paused

    def test_deactivation_needs_a_reason(self, store: StateStore) -> None:
        """Deactivating a flow without a reason is refused; with one, the reason is kept."""
        save_flow(store)
        with pytest.raises(ConfigurationError, match="reason"):
            store.set_flow_status("f1", "deactivated")
        flow = store.set_flow_status("f1", "deactivated", reason="all filters were deleted")
        assert flow.status_reason == "all filters were deleted"
        assert store.get_flow("f1") == flow

    def test_status_change_of_unknown_flow_raises_flow_not_found(self, store: StateStore) -> None:
        """Changing the status or schedule of a missing flow raises FlowNotFoundError."""
        with pytest.raises(FlowNotFoundError):
            store.set_flow_status("nope", "active")
        with pytest.raises(FlowNotFoundError):
            store.set_flow_schedule("nope", next_run_at=None)

    def test_bad_status_is_refused(self, store: StateStore) -> None:
        """A status that is not a flow status is refused with ConfigurationError."""
        save_flow(store)
        with pytest.raises(ConfigurationError, match="status"):
            store.set_flow_status("f1", "running")  # type: ignore[arg-type]

    def test_flows_due_are_active_and_overdue_most_overdue_first(
        self, store: StateStore, clock: ManualClock
    ) -> None:
        """Only active flows whose next run is at or before the time are due, oldest first."""
        now = clock.now()
        save_flow(store, "late", status="active", next_run_at=now - 2 * MINUTE)
        save_flow(store, "now", status="active", next_run_at=now)
        save_flow(store, "later", status="active", next_run_at=now + MINUTE)
        save_flow(store, "paused", next_run_at=now - 5 * MINUTE)
        save_flow(store, "unscheduled", status="active")
        assert [flow.flow_id for flow in store.flows_due()] == ["late", "now"]
        due_later = store.flows_due(now + MINUTE)
        assert [flow.flow_id for flow in due_later] == ["late", "now", "later"]

    def test_schedule_keeps_last_run_unless_given(
        self, store: StateStore, clock: ManualClock
    ) -> None:
        """set_flow_schedule sets next_run_at, and last_run_at only when it is given."""
        save_flow(store)
        ran = clock.now()
        flow = store.set_flow_schedule("f1", next_run_at=ran + MINUTE, last_run_at=ran)
        assert (flow.next_run_at, flow.last_run_at) == (ran + MINUTE, ran)
        flow = store.set_flow_schedule("f1", next_run_at=None)
        assert (flow.next_run_at, flow.last_run_at) == (None, ran)
        assert store.get_flow("f1") == flow

    def test_definition_that_is_not_json_is_refused(self, store: StateStore) -> None:
        """A definition that is not JSON is refused with ConfigurationError; nothing is saved."""
        with pytest.raises(ConfigurationError, match="definition of flow 'f1'"):
            store.save_flow(FlowRecord(flow_id="f1", name="F", definition={"at": {1, 2}}))
        assert store.get_flow("f1") is None

    def test_delete_flow_removes_its_state_but_keeps_links(self, store: StateStore) -> None:
        """Deleting a flow removes its checkpoints, retries, runs, memberships and lease.

        Links stay, and so does every other flow's state.
        """
        save_flow(store)
        save_flow(store, "f2")
        run = store.start_run("f1")
        store.commit_batch(full_batch("f1", run.run_id, make_link(1)))
        track(store, person_key(1), flow_id="f2")
        store.acquire_lease("f1", "worker-a", MINUTE)
        assert store.delete_flow("f1") is True
        assert store.get_flow("f1") is None
        assert store.get_checkpoints("f1") == {}
        assert store.count_retries("f1") == 0
        assert store.list_runs("f1") == []
        assert store.get_run(run.run_id) is None
        assert list(store.iter_outcomes(run.run_id)) == []
        assert store.get_lease("f1") is None
        assert store.tracked("f1", [person_key(1)]) == {}
        assert store.count_links(PAIR, AUDIENCE) == 1
        assert store.get_flow("f2") is not None
        assert store.tracked("f2", [person_key(1)]) == {person_key(1): True}
        assert store.delete_flow("f1") is False
        save_flow(store)
        assert store.tracked("f1", [person_key(1)]) == {}

    # -- links and fingerprints ------------------------------------------------------

    def test_links_are_found_by_person_member_and_email(
        self, store: StateStore, clock: ManualClock
    ) -> None:
        """Committed links are found by person id, member id and email; others are absent."""
        save_flow(store)
        commit_links(store, make_link(1), make_link(2))
        link = make_link(1, created_at=clock.now(), updated_at=clock.now())
        assert store.links_for_persons(PAIR, AUDIENCE, [1, 3]) == {1: link}
        assert store.links_for_members(PAIR, AUDIENCE, ["m1", "m3"]) == {"m1": link}
        emails = ["contact1@example.com", "nobody@example.com"]
        assert store.links_for_emails(PAIR, AUDIENCE, emails) == {"contact1@example.com": link}
        assert store.links_for_persons(PAIR, AUDIENCE, []) == {}

    def test_email_lookup_is_case_insensitive(self, store: StateStore) -> None:
        """Emails are kept normalised and matched whatever their case and blanks."""
        save_flow(store)
        commit_links(store, make_link(1, email=" Ada.Lovelace@Example.COM "))
        found = store.links_for_emails(PAIR, AUDIENCE, ["ADA.lovelace@example.com"])
        assert list(found) == ["ada.lovelace@example.com"]
        assert found["ada.lovelace@example.com"].person_id == 1

    def test_lookups_of_many_keys_are_answered_in_full(self, store: StateStore) -> None:
        """A lookup of more keys than one database query takes still finds every link."""
        save_flow(store)
        commit_links(store, *(make_link(n) for n in range(1, 1201)))
        found = store.links_for_persons(PAIR, AUDIENCE, range(1, 1301))
        assert sorted(found) == list(range(1, 1201))
        members = store.links_for_members(PAIR, AUDIENCE, [f"m{n}" for n in range(1, 1201)])
        assert len(members) == 1200

    def test_upsert_by_person_follows_an_email_change(self, store: StateStore) -> None:
        """An upsert of a known person with a new email moves the link to the new address."""
        save_flow(store)
        commit_links(store, make_link(1))
        commit_links(store, make_link(1, email="new@example.com", member_id="m1-new"))
        assert store.links_for_emails(PAIR, AUDIENCE, ["contact1@example.com"]) == {}
        moved = store.links_for_emails(PAIR, AUDIENCE, ["new@example.com"])["new@example.com"]
        assert (moved.person_id, moved.member_id) == (1, "m1-new")
        assert store.links_for_members(PAIR, AUDIENCE, ["m1"]) == {}
        assert store.count_links(PAIR, AUDIENCE) == 1

    def test_upsert_keeps_stored_values_for_missing_fields(self, store: StateStore) -> None:
        """Fields left None in an upsert keep their stored values."""
        save_flow(store)
        commit_links(
            store, make_link(1, pipedrive_fingerprint="pd-1", mailchimp_fingerprint="mc-1")
        )
        commit_links(store, make_link(1, member_id=None, mailchimp_fingerprint="mc-2"))
        link = store.links_for_persons(PAIR, AUDIENCE, [1])[1]
        assert link.member_id == "m1"
        assert link.fingerprint("pipedrive") == "pd-1"
        assert link.fingerprint("mailchimp") == "mc-2"

    def test_upsert_matching_by_member_or_email_fills_the_person(self, store: StateStore) -> None:
        """A link known by member or email alone takes the person id of a later upsert."""
        save_flow(store)
        commit_links(
            store, make_link(1, person_id=None), make_link(2, person_id=None, member_id=None)
        )
        commit_links(store, make_link(1), make_link(2, member_id=None))
        assert sorted(store.links_for_persons(PAIR, AUDIENCE, [1, 2])) == [1, 2]
        assert store.count_links(PAIR, AUDIENCE) == 2

    def test_conflicting_upsert_is_refused_and_the_batch_leaves_nothing(
        self, store: StateStore
    ) -> None:
        """An upsert whose keys belong to two links is refused; its whole batch is dropped."""
        save_flow(store)
        run = store.start_run("f1")
        commit_links(store, make_link(1), make_link(2))
        before = snapshot(store)
        batch = full_batch("f1", run.run_id, make_link(3), make_link(4))
        batch.upsert_link(make_link(1, email="contact2@example.com"))
        with pytest.raises(LinkConflictError) as info:
            store.commit_batch(batch)
        assert (info.value.email, info.value.field) == ("contact2@example.com", "email")
        assert snapshot(store) == before

    def test_a_persons_link_absorbs_a_member_alone_at_its_new_address(
        self, store: StateStore
    ) -> None:
        """A person moving to the address of a person-less link takes that link's member."""
        save_flow(store)
        member_alone = make_link(
            9, person_id=None, member_status="subscribed", mailchimp_fingerprint="mc-9"
        )
        commit_links(store, make_link(1, pipedrive_fingerprint="pd-1"), make_link(2), member_alone)
        commit_links(store, make_link(1, email=member_alone.email, member_id=None))
        assert store.count_links(PAIR, AUDIENCE) == 2
        assert store.links_for_emails(PAIR, AUDIENCE, ["contact1@example.com"]) == {}
        moved = store.links_for_persons(PAIR, AUDIENCE, [1])[1]
        assert (moved.email, moved.member_id, moved.member_status) == (
            member_alone.email,
            "m9",
            "subscribed",
        )
        assert (moved.pipedrive_fingerprint, moved.mailchimp_fingerprint) == ("pd-1", "mc-9")

    def test_a_member_alone_at_another_address_is_not_absorbed(self, store: StateStore) -> None:
        """A person-less link found by member id at another address is still a conflict."""
        save_flow(store)
        commit_links(store, make_link(1), make_link(9, person_id=None))
        before = snapshot(store)
        with pytest.raises(LinkConflictError) as info:
            commit_links(store, make_link(1, email="contact5@example.com", member_id="m9"))
        assert info.value.field == "member_id"
        assert snapshot(store) == before

    def test_links_are_scoped_by_account_pair_and_audience(self, store: StateStore) -> None:
        """The same person may be linked in two audiences and two account pairs independently."""
        save_flow(store)
        commit_links(
            store,
            make_link(1),
            make_link(1, audience_id="audience-2", member_id="other"),
            make_link(1, account_pair="pair-2"),
        )
        assert store.links_for_persons(PAIR, AUDIENCE, [1])[1].member_id == "m1"
        assert store.links_for_persons(PAIR, "audience-2", [1])[1].member_id == "other"
        assert store.count_links("pair-2", AUDIENCE) == 1
        assert store.count_links(PAIR, "audience-3") == 0

    def test_upserts_of_one_contact_in_one_batch_merge(self, store: StateStore) -> None:
        """Two upserts of one contact in one batch apply in order to a single link."""
        save_flow(store)
        commit_links(
            store,
            make_link(1, member_id=None, pipedrive_fingerprint="pd-1"),
            make_link(1, email="changed@example.com", mailchimp_fingerprint="mc-1"),
        )
        links = list(store.iter_links(PAIR, AUDIENCE))
        assert len(links) == 1
        assert links[0].email == "changed@example.com"
        assert (links[0].member_id, links[0].pipedrive_fingerprint) == ("m1", "pd-1")
        assert links[0].mailchimp_fingerprint == "mc-1"

    def test_unchanged_upsert_keeps_updated_at(self, store: StateStore, clock: ManualClock) -> None:
        """Upserting a link with nothing new leaves it untouched; a change moves updated_at."""
        save_flow(store)
        commit_links(store, make_link(1))
        created = clock.now()
        clock.advance(MINUTE)
        commit_links(store, make_link(1))
        assert store.links_for_persons(PAIR, AUDIENCE, [1])[1].updated_at == created
        commit_links(store, make_link(1).with_fingerprint("mailchimp", "mc-9"))
        link = store.links_for_persons(PAIR, AUDIENCE, [1])[1]
        assert (link.created_at, link.updated_at) == (created, clock.now())

    def test_member_status_is_stored_and_returned_by_every_lookup(self, store: StateStore) -> None:
        """A link's member status reads back from every lookup and listing."""
        save_flow(store)
        commit_links(store, make_link(1, member_status="subscribed"), make_link(2))
        email = "contact1@example.com"
        found = [
            store.links_for_persons(PAIR, AUDIENCE, [1])[1],
            store.links_for_members(PAIR, AUDIENCE, ["m1"])["m1"],
            store.links_for_emails(PAIR, AUDIENCE, [email])[email],
            next(iter(store.iter_links(PAIR, AUDIENCE))),
        ]
        assert [link.member_status for link in found] == ["subscribed"] * 4
        assert store.links_for_persons(PAIR, AUDIENCE, [2])[2].member_status is None

    def test_member_status_follows_the_upsert_rule(
        self, store: StateStore, clock: ManualClock
    ) -> None:
        """None keeps the stored status, a new status replaces it, and a moved link keeps it."""
        save_flow(store)
        commit_links(store, make_link(1, member_status="subscribed"))
        created = clock.now()
        clock.advance(MINUTE)
        commit_links(store, make_link(1, mailchimp_fingerprint="mc-1"))
        kept = store.links_for_persons(PAIR, AUDIENCE, [1])[1]
        assert (kept.member_status, kept.mailchimp_fingerprint) == ("subscribed", "mc-1")
        clock.advance(MINUTE)
        commit_links(store, make_link(1, member_status="subscribed"))
        assert store.links_for_persons(PAIR, AUDIENCE, [1])[1].updated_at == created + MINUTE
        commit_links(store, make_link(1, member_status="unsubscribed"))
        changed = store.links_for_persons(PAIR, AUDIENCE, [1])[1]
        assert (changed.member_status, changed.updated_at) == ("unsubscribed", clock.now())
        commit_links(store, make_link(1, email="moved@example.com", member_id="m1-new"))
        moved = store.links_for_emails(PAIR, AUDIENCE, ["moved@example.com"])["moved@example.com"]
        assert (moved.person_id, moved.member_status) == (1, "unsubscribed")
        commit_links(store, make_link(1, email="moved@example.com", member_status="forgotten"))
        assert store.links_for_persons(PAIR, AUDIENCE, [1])[1].member_status == "forgotten"

    def test_iter_links_pages_in_email_order_and_count_links(self, store: StateStore) -> None:
        """iter_links walks every link of an audience in code-point order of emails, by pages."""
        save_flow(store)
        emails = ["a.b@x.io", "ab@x.io", "a-b@x.io", "b@x.io", "zoë@x.io", "zoe@x.io", "a_b@x.io"]
        commit_links(store, *(make_link(n, email=email) for n, email in enumerate(emails, 1)))
        walked = [link.email for link in store.iter_links(PAIR, AUDIENCE, page_size=2)]
        assert walked == sorted(emails)
        assert store.count_links(PAIR, AUDIENCE) == 7
        assert list(store.iter_links(PAIR, "empty")) == []

    def test_bad_lookup_keys_are_refused(self, store: StateStore) -> None:
        """Lookup keys of the wrong type raise ConfigurationError naming the key."""
        with pytest.raises(ConfigurationError, match="person id"):
            store.links_for_persons(PAIR, AUDIENCE, ["1"])  # type: ignore[list-item]
        with pytest.raises(ConfigurationError, match="email"):
            store.links_for_emails(PAIR, AUDIENCE, [None])  # type: ignore[list-item]
        with pytest.raises(ConfigurationError, match="page_size"):
            list(store.iter_links(PAIR, AUDIENCE, page_size=0))

    def test_writes_proceed_while_links_are_iterated(self, handles: OpenStore) -> None:
        """Walking links page by page does not block writers, and yields each link at most once.

        Whether links added during the walk show up is the store's choice.
        """
        reader, writer = handles(), handles()
        save_flow(writer)
        commit_links(writer, *(make_link(n) for n in range(1, 7)))
        walk = reader.iter_links(PAIR, AUDIENCE, page_size=2)
        first = [next(walk), next(walk)]
        commit_links(writer, make_link(1, mailchimp_fingerprint="mc-new"), make_link(99))
        emails = [link.email for link in first + list(walk)]
        assert len(emails) == len(set(emails))
        assert set(emails) >= {f"contact{n}@example.com" for n in range(1, 7)}

    def test_threads_sharing_a_handle_commit_every_batch(self, store: StateStore) -> None:
        """Threads committing through one handle at once lose no batch."""
        save_flow(store)

        def commit(index: int) -> None:
            for n in range(index * 100 + 1, index * 100 + 21):
                commit_links(store, make_link(n))

        race(4, commit)
        assert store.count_links(PAIR, AUDIENCE) == 80

    # -- checkpoints ---------------------------------------------------------------------

    def test_checkpoints_round_trip_json_and_overwrite(self, store: StateStore) -> None:
        """Checkpoints keep any JSON value by name; a later value replaces an earlier one."""
        save_flow(store)
        values = {"cursor": "abc", "since": None, "page": 3, "state": {"ids": [1, 2], "ok": True}}
        batch = Batch("f1")
        for name, value in values.items():
            batch.set_checkpoint(name, value)
        store.commit_batch(batch)
        assert store.get_checkpoints("f1") == values
        batch = Batch("f1")
        batch.set_checkpoint("cursor", "def")
        store.commit_batch(batch)
        assert store.get_checkpoints("f1") == {**values, "cursor": "def"}
        assert store.get_checkpoints("other") == {}

    def test_batch_of_unknown_flow_is_refused(self, store: StateStore) -> None:
        """A batch for a flow the store does not hold raises FlowNotFoundError, writing nothing."""
        batch = Batch("ghost")
        batch.upsert_link(make_link(1))
        batch.set_checkpoint("cursor", 1)
        with pytest.raises(FlowNotFoundError):
            store.commit_batch(batch)
        assert store.count_links(PAIR, AUDIENCE) == 0

    # -- memberships -------------------------------------------------------------------

    def test_tracked_reads_back_memberships_of_the_flow(self, store: StateStore) -> None:
        """Tracked keys read back with whether they match; others and other flows are absent."""
        save_flow(store)
        save_flow(store, "f2")
        batch = Batch("f1")
        batch.track("person:1")
        batch.track("member:ada@example.org", matching=False)
        store.commit_batch(batch)
        keys = ["person:1", "member:ada@example.org", "person:2", "person:1"]
        assert store.tracked("f1", keys) == {"person:1": True, "member:ada@example.org": False}
        assert store.tracked("f2", keys) == {}
        assert store.tracked("ghost", keys) == {}
        assert store.tracked("f1", []) == {}

    def test_tracking_again_takes_the_last_word(self, store: StateStore) -> None:
        """A key tracked twice in a batch keeps the last value; a later batch replaces it."""
        save_flow(store)
        batch = Batch("f1")
        batch.track("person:1")
        batch.track("person:1", matching=False)
        store.commit_batch(batch)
        assert store.tracked("f1", ["person:1"]) == {"person:1": False}
        track(store, "person:1")
        assert store.tracked("f1", ["person:1"]) == {"person:1": True}

    def test_end_pass_marks_what_the_pass_did_not_see_as_not_matching(
        self, store: StateStore, clock: ManualClock
    ) -> None:
        """Ending a pass turns off every membership of the flow last seen before it started."""
        save_flow(store)
        save_flow(store, "f2")
        track(store, "old-seen", "old-unseen", "old-off")
        track(store, "old-off", matching=False)
        track(store, "old-unseen", flow_id="f2")
        clock.advance(MINUTE)
        started = clock.now()
        track(store, "at-start")  # seen exactly when the pass started: not before it
        clock.advance(MINUTE)
        track(store, "during-pass")
        clock.advance(MINUTE)
        batch = Batch("f1")
        batch.track("old-seen")
        batch.track("new-off", matching=False)
        batch.end_pass(started)
        store.commit_batch(batch)
        keys = ["old-seen", "old-unseen", "old-off", "at-start", "during-pass", "new-off"]
        assert store.tracked("f1", keys) == {
            "old-seen": True,
            "old-unseen": False,
            "old-off": False,
            "at-start": True,
            "during-pass": True,
            "new-off": False,
        }
        assert store.tracked("f2", ["old-unseen"]) == {"old-unseen": True}

    def test_end_pass_spares_the_batch_own_tracks(
        self, store: StateStore, clock: ManualClock
    ) -> None:
        """A batch that ends a pass started at its own commit time keeps what it tracks."""
        save_flow(store)
        track(store, "seen-before", "tracked-now")
        clock.advance(MINUTE)
        batch = Batch("f1")
        batch.track("tracked-now")
        batch.track("new")
        batch.end_pass(clock.now())
        store.commit_batch(batch)
        assert store.tracked("f1", ["seen-before", "tracked-now", "new"]) == {
            "seen-before": False,
            "tracked-now": True,
            "new": True,
        }

    def test_a_pass_can_be_ended_by_a_batch_with_nothing_else(
        self, store: StateStore, clock: ManualClock
    ) -> None:
        """end_pass alone in a batch still turns off the memberships the pass did not see."""
        save_flow(store)
        track(store, "person:1")
        clock.advance(MINUTE)
        batch = Batch("f1")
        batch.end_pass(clock.now())
        store.commit_batch(batch)
        assert store.tracked("f1", ["person:1"]) == {"person:1": False}

    def test_tracked_answers_lookups_of_many_keys_in_full(self, store: StateStore) -> None:
        """A lookup of more keys than one query takes still finds every membership."""
        save_flow(store)
        for first in range(0, 2500, 500):
            track(store, *(person_key(n) for n in range(first, first + 500)))
        found = store.tracked("f1", [person_key(n) for n in range(2600)])
        assert sorted(found) == sorted(person_key(n) for n in range(2500))
        assert set(found.values()) == {True}

    def test_bad_membership_keys_are_refused(self, store: StateStore) -> None:
        """A membership key that is not a non-empty str raises ConfigurationError."""
        with pytest.raises(ConfigurationError, match="membership key"):
            store.tracked("f1", [""])
        with pytest.raises(ConfigurationError, match="membership key"):
            store.tracked("f1", [42])  # type: ignore[list-item]

    # -- processed events ------------------------------------------------------------

    def test_event_is_processed_once(self, store: StateStore) -> None:
        """mark_event_processed returns True the first time and False after, per source."""
        assert store.is_event_processed("pipedrive", "e1") is False
        assert store.mark_event_processed("pipedrive", "e1") is True
        assert store.mark_event_processed("pipedrive", "e1") is False
        assert store.mark_event_processed("mailchimp", "e1") is True
        assert store.is_event_processed("pipedrive", "e1") is True

    def test_purge_events_forgets_only_old_events(
        self, store: StateStore, clock: ManualClock
    ) -> None:
        """purge_events forgets events processed before the cut-off and counts them."""
        store.mark_event_processed("pipedrive", "old")
        clock.advance(MINUTE)
        store.mark_event_processed("pipedrive", "new")
        assert store.purge_events(clock.now()) == 1
        assert store.is_event_processed("pipedrive", "old") is False
        assert store.is_event_processed("pipedrive", "new") is True
        assert store.mark_event_processed("pipedrive", "old") is True

    def test_threads_marking_one_event_get_exactly_one_true(self, handles: OpenStore) -> None:
        """Of several workers marking the same event at once, exactly one is told to process it."""
        stores = [handles() for _ in range(6)]
        results = race(6, lambda i: stores[i].mark_event_processed("mailchimp", "hook-1"))
        assert sorted(map(repr, results)) == ["False"] * 5 + ["True"]

    def test_batch_marks_events(self, store: StateStore) -> None:
        """Events marked in a batch are processed once it commits, even if seen before."""
        save_flow(store)
        store.mark_event_processed("pipedrive", "1")
        batch = Batch("f1")
        batch.mark_event("pipedrive", "1")
        batch.mark_event("pipedrive", "2")
        store.commit_batch(batch)
        assert store.is_event_processed("pipedrive", "2") is True
        assert store.mark_event_processed("pipedrive", "2") is False

    # -- retry rows ----------------------------------------------------------------------

    def test_retry_rows_count_attempts_and_keep_first_failure(
        self, store: StateStore, clock: ManualClock
    ) -> None:
        """A row retried again counts one more attempt, keeps first_failed_at, takes the rest."""
        save_flow(store)
        first = clock.now()
        for error in ("timeout", "503"):
            batch = Batch("f1")
            batch.retry_later("person:1", payload={"n": error}, error=error, next_attempt_at=first)
            store.commit_batch(batch)
            clock.advance(MINUTE)
        (row,) = store.due_retries("f1")
        assert (row.row_key, row.attempts, row.error) == ("person:1", 2, "503")
        assert row.payload == {"n": "503"}
        assert (row.first_failed_at, row.next_attempt_at) == (first, first)

    def test_due_retries_respect_time_limit_and_order(
        self, store: StateStore, clock: ManualClock
    ) -> None:
        """Only rows due now are listed, soonest due first, at most `limit` of them."""
        save_flow(store)
        now = clock.now()
        batch = Batch("f1")
        for key, offset in (("b", -1), ("a", -2), ("c", 0), ("later", 5)):
            batch.retry_later(key, payload=None, error="", next_attempt_at=now + offset * MINUTE)
        store.commit_batch(batch)
        assert [row.row_key for row in store.due_retries("f1")] == ["a", "b", "c"]
        assert [row.row_key for row in store.due_retries("f1", limit=2)] == ["a", "b"]
        assert store.count_retries("f1") == 4
        clock.advance(10 * MINUTE)
        assert len(store.due_retries("f1")) == 4

    def test_retry_done_removes_row(self, store: StateStore, clock: ManualClock) -> None:
        """retry_done removes a waiting row; for an unknown row it does nothing."""
        save_flow(store)
        batch = Batch("f1")
        batch.retry_later("a", payload=1, error="x", next_attempt_at=clock.now())
        batch.retry_later("b", payload=2, error="x", next_attempt_at=clock.now())
        store.commit_batch(batch)
        batch = Batch("f1")
        batch.retry_done("a")
        batch.retry_done("never-failed")
        store.commit_batch(batch)
        assert [row.row_key for row in store.due_retries("f1")] == ["b"]

    # -- runs and outcomes ---------------------------------------------------------------

    def test_run_lifecycle_and_counts(self, store: StateStore, clock: ManualClock) -> None:
        """A run starts running, finishes with status, counts and error, and reads back."""
        save_flow(store)
        run = store.start_run("f1")
        assert (run.status, run.started_at, run.finished_at) == ("running", clock.now(), None)
        assert store.get_run(run.run_id) == run
        clock.advance(MINUTE)
        done = store.finish_run(
            run.run_id, status="failed", counts={"created": 3, "api_calls": 9}, error="401"
        )
        assert (done.status, done.finished_at, done.error) == ("failed", clock.now(), "401")
        assert done.counts == {"created": 3, "api_calls": 9}
        assert store.get_run(run.run_id) == done
        assert store.get_run(run.run_id + 1000) is None

    def test_finishing_twice_or_unknown_run_is_refused(self, store: StateStore) -> None:
        """Finishing a finished run or an unknown run raises StoreError; bad counts are refused."""
        save_flow(store)
        run = store.start_run("f1")
        with pytest.raises(ConfigurationError, match="counts"):
            store.finish_run(run.run_id, status="succeeded", counts={"created": "3"})  # type: ignore[dict-item]
        store.finish_run(run.run_id, status="succeeded")
        with pytest.raises(StoreError, match="already finished"):
            store.finish_run(run.run_id, status="succeeded")
        with pytest.raises(StoreError, match="no run"):
            store.finish_run(run.run_id + 1000, status="succeeded")
        with pytest.raises(FlowNotFoundError):
            store.start_run("ghost")

    def test_outcomes_stream_in_order_and_filter_by_action(self, store: StateStore) -> None:
        """A run's outcomes come back in the order recorded, across batches and pages."""
        save_flow(store)
        run = store.start_run("f1")
        actions = ["created", "skipped", "updated", "created", "failed", "created", "unchanged"]
        for chunk in (actions[:4], actions[4:]):
            batch = Batch("f1", run_id=run.run_id)
            for action in chunk:
                batch.record_outcome(Outcome(action=action, email=f"{action}@example.com"))
            store.commit_batch(batch)
        seen = [outcome.action for outcome in store.iter_outcomes(run.run_id, page_size=3)]
        assert seen == actions
        created = list(store.iter_outcomes(run.run_id, action="created", page_size=2))
        assert len(created) == 3
        assert {outcome.email for outcome in created} == {"created@example.com"}
        assert list(store.iter_outcomes(run.run_id + 1000)) == []

    def test_list_runs_newest_first_with_limit(self, store: StateStore) -> None:
        """list_runs returns a flow's runs newest first, at most `limit`, not other flows' runs."""
        save_flow(store)
        save_flow(store, "f2")
        ids = [store.start_run("f1").run_id for _ in range(4)]
        store.start_run("f2")
        assert [run.run_id for run in store.list_runs("f1")] == ids[::-1]
        assert [run.run_id for run in store.list_runs("f1", limit=2)] == ids[:1:-1]

    def test_purge_runs_removes_finished_old_runs_with_outcomes(
        self, store: StateStore, clock: ManualClock
    ) -> None:
        """purge_runs deletes finished runs started before the cut-off; running ones stay."""
        save_flow(store)
        old, running = store.start_run("f1"), store.start_run("f1")
        batch = Batch("f1", run_id=old.run_id)
        batch.record_outcome(Outcome(action="created", person_id=1))
        store.commit_batch(batch)
        store.finish_run(old.run_id, status="succeeded")
        clock.advance(MINUTE)
        recent = store.start_run("f1")
        store.finish_run(recent.run_id, status="succeeded")
        assert store.purge_runs(clock.now()) == 1
        assert store.get_run(old.run_id) is None
        assert list(store.iter_outcomes(old.run_id)) == []
        assert store.get_run(running.run_id) is not None
        assert store.get_run(recent.run_id) is not None

    def test_batch_with_run_of_another_flow_is_refused(self, store: StateStore) -> None:
        """A batch naming a run of another flow, or no run at all, is refused whole."""
        save_flow(store)
        save_flow(store, "f2")
        other = store.start_run("f2")
        before = snapshot(store)
        for run_id in (other.run_id, other.run_id + 1000):
            with pytest.raises(StoreError, match="run"):
                store.commit_batch(full_batch("f1", run_id, make_link(1)))
        assert snapshot(store) == before

    # -- leases --------------------------------------------------------------------------

    def test_second_holder_is_refused_until_expiry(
        self, store: StateStore, clock: ManualClock
    ) -> None:
        """A live lease refuses other holders; once it expires the next holder gets a new token."""
        save_flow(store)
        first = store.acquire_lease("f1", "worker-a", 5 * MINUTE)
        assert (first.holder, first.expires_at) == ("worker-a", clock.now() + 5 * MINUTE)
        assert store.get_lease("f1") == first
        clock.advance(4 * MINUTE)
        with pytest.raises(LeaseHeldError, match="worker-a"):
            store.acquire_lease("f1", "worker-b", MINUTE)
        clock.advance(MINUTE)
        assert store.get_lease("f1") is None
        second = store.acquire_lease("f1", "worker-b", MINUTE)
        assert second.holder == "worker-b"
        assert second.token > first.token
        assert store.get_lease("f1") == second

    def test_holder_asking_again_extends_its_lease(
        self, store: StateStore, clock: ManualClock
    ) -> None:
        """The holder of a live lease acquiring again keeps its token and gets a later expiry."""
        save_flow(store)
        first = store.acquire_lease("f1", "worker-a", MINUTE)
        clock.advance(MINUTE / 2)
        again = store.acquire_lease("f1", "worker-a", MINUTE)
        assert again.token == first.token
        assert again.expires_at == clock.now() + MINUTE

    def test_renew_extends_and_fails_after_takeover(
        self, store: StateStore, clock: ManualClock
    ) -> None:
        """renew_lease extends a held lease, even a lapsed one, but not one taken over."""
        save_flow(store)
        lease = store.acquire_lease("f1", "worker-a", MINUTE)
        clock.advance(2 * MINUTE)
        renewed = store.renew_lease(lease, MINUTE)
        assert (renewed.token, renewed.expires_at) == (lease.token, clock.now() + MINUTE)
        clock.advance(2 * MINUTE)
        store.acquire_lease("f1", "worker-b", MINUTE)
        with pytest.raises(LeaseHeldError):
            store.renew_lease(renewed, MINUTE)

    def test_release_frees_the_flow_at_once(self, store: StateStore) -> None:
        """A released lease can be taken by another holder at once; releasing twice is harmless."""
        save_flow(store)
        lease = store.acquire_lease("f1", "worker-a", MINUTE)
        store.release_lease(lease)
        store.release_lease(lease)
        assert store.get_lease("f1") is None
        taken = store.acquire_lease("f1", "worker-b", MINUTE)
        store.release_lease(lease)
        assert store.get_lease("f1") == taken
        with pytest.raises(LeaseHeldError):
            store.renew_lease(lease, MINUTE)

    def test_batch_with_stale_lease_is_refused_and_leaves_nothing(
        self, store: StateStore, clock: ManualClock
    ) -> None:
        """A batch carrying a lease that was taken over is refused whole (fencing)."""
        save_flow(store)
        run = store.start_run("f1")
        stale = store.acquire_lease("f1", "worker-a", MINUTE)
        clock.advance(2 * MINUTE)
        store.acquire_lease("f1", "worker-b", MINUTE)
        before = snapshot(store)
        batch = full_batch("f1", run.run_id, make_link(1), lease=stale)
        with pytest.raises(LeaseHeldError):
            store.commit_batch(batch)
        assert snapshot(store) == before

    def test_batch_with_held_or_lapsed_untaken_lease_commits(
        self, store: StateStore, clock: ManualClock
    ) -> None:
        """A batch carrying the current lease commits, even after it lapsed if no one took it."""
        save_flow(store)
        lease = store.acquire_lease("f1", "worker-a", MINUTE)
        for link in (make_link(1), make_link(2)):
            batch = Batch("f1", lease=lease)
            batch.upsert_link(link)
            store.commit_batch(batch)
            clock.advance(2 * MINUTE)
        assert store.count_links(PAIR, AUDIENCE) == 2

    def test_threads_racing_for_a_lease_get_exactly_one_winner(self, handles: OpenStore) -> None:
        """Of several workers taking a free lease at once, exactly one wins."""
        stores = [handles() for _ in range(6)]
        save_flow(stores[0])
        results = race(6, lambda i: stores[i].acquire_lease("f1", f"worker-{i}", MINUTE))
        winners = [result for result in results if isinstance(result, Lease)]
        assert len(winners) == 1
        assert all(isinstance(result, (Lease, LeaseHeldError)) for result in results)
        assert stores[-1].get_lease("f1") == winners[0]

    def test_lease_of_unknown_flow_and_bad_arguments_are_refused(self, store: StateStore) -> None:
        """A lease on a missing flow raises FlowNotFoundError; a bad ttl or holder is refused."""
        with pytest.raises(FlowNotFoundError):
            store.acquire_lease("ghost", "worker-a", MINUTE)
        save_flow(store)
        with pytest.raises(ConfigurationError, match="ttl"):
            store.acquire_lease("f1", "worker-a", timedelta(0))
        with pytest.raises(ConfigurationError, match="holder"):
            store.acquire_lease("f1", "", MINUTE)

    # -- claims --------------------------------------------------------------------------

    def test_claim_is_exclusive_until_it_expires(
        self, store: StateStore, clock: ManualClock
    ) -> None:
        """A live claim refuses other holders; once expired it is taken over with a new token."""
        first = store.claim(CLAIM_KEY, "worker-a", 5 * MINUTE)
        assert first is not None
        assert (first.key, first.holder, first.taken_over) == (CLAIM_KEY, "worker-a", False)
        assert (first.acquired_at, first.expires_at) == (clock.now(), clock.now() + 5 * MINUTE)
        clock.advance(4 * MINUTE)
        assert store.claim(CLAIM_KEY, "worker-b", MINUTE) is None
        clock.advance(MINUTE)
        second = store.claim(CLAIM_KEY, "worker-b", MINUTE)
        assert second is not None
        assert (second.holder, second.taken_over, second.acquired_at) == (
            "worker-b",
            True,
            clock.now(),
        )
        assert second.token != first.token
        assert store.claim(CLAIM_KEY, "worker-a", MINUTE) is None

    def test_a_long_expired_claim_is_still_taken_over(
        self, store: StateStore, clock: ManualClock
    ) -> None:
        """A claim left by a crashed holder long ago is still reported as taken over."""
        store.claim(CLAIM_KEY, "crashed-worker", MINUTE)
        clock.advance(timedelta(days=30))
        store.claim("create-person:other", "worker-a", MINUTE)
        taken = store.claim(CLAIM_KEY, "worker-b", MINUTE)
        assert taken is not None
        assert taken.taken_over is True

    def test_holder_claiming_again_extends_its_claim(
        self, store: StateStore, clock: ManualClock
    ) -> None:
        """The holder of a live claim claiming again keeps token and start, with a later expiry."""
        first = store.claim(CLAIM_KEY, "worker-a", MINUTE)
        clock.advance(MINUTE / 2)
        again = store.claim(CLAIM_KEY, "worker-a", MINUTE)
        assert first is not None
        assert again is not None
        assert (again.token, again.acquired_at) == (first.token, first.acquired_at)
        assert (again.expires_at, again.taken_over) == (clock.now() + MINUTE, False)
        clock.advance(MINUTE / 2)
        assert store.claim(CLAIM_KEY, "worker-b", MINUTE) is None

    def test_holder_retaking_its_own_expired_claim_takes_over_nothing(
        self, store: StateStore, clock: ManualClock
    ) -> None:
        """A holder taking its own expired claim again gets a new token, not taken over."""
        first = store.claim(CLAIM_KEY, "worker-a", MINUTE)
        clock.advance(2 * MINUTE)
        again = store.claim(CLAIM_KEY, "worker-a", MINUTE)
        assert first is not None
        assert again is not None
        assert again.taken_over is False
        assert again.token != first.token

    def test_released_claim_is_free_at_once_and_not_taken_over(
        self, store: StateStore, clock: ManualClock
    ) -> None:
        """A released claim, even an expired one, is free: the next holder takes over nothing."""
        for wait in (timedelta(0), 2 * MINUTE):
            claim = store.claim(CLAIM_KEY, "worker-a", MINUTE)
            assert claim is not None
            clock.advance(wait)
            store.release_claim(claim)
            store.release_claim(claim)
            taken = store.claim(CLAIM_KEY, "worker-b", MINUTE)
            assert taken is not None
            assert taken.taken_over is False
            store.release_claim(taken)

    def test_stale_release_leaves_the_new_holder_alone(
        self, store: StateStore, clock: ManualClock
    ) -> None:
        """Releasing a claim that was taken over, or a copy of an old token, changes nothing."""
        stale = store.claim(CLAIM_KEY, "worker-a", MINUTE)
        clock.advance(2 * MINUTE)
        current = store.claim(CLAIM_KEY, "worker-b", MINUTE)
        assert stale is not None
        assert current is not None
        store.release_claim(stale)
        store.release_claim(evolve(current, holder="worker-a"))
        store.release_claim(evolve(current, token=stale.token))
        assert store.claim(CLAIM_KEY, "worker-c", MINUTE) is None

    def test_claims_need_no_flow_and_are_independent(self, store: StateStore) -> None:
        """Claims are taken without any flow, and each key is a claim of its own."""
        one = store.claim("create-person:pair:a@example.org", "worker-a", MINUTE)
        two = store.claim("create-person:pair:b@example.org", "worker-b", MINUTE)
        assert one is not None
        assert two is not None
        assert store.claim("create-person:pair:a@example.org", "worker-b", MINUTE) is None

    def test_batch_releases_its_claim_with_the_commit(
        self, store: StateStore, clock: ManualClock
    ) -> None:
        """A claim released by a batch is free once the batch commits, with its link stored."""
        save_flow(store)
        claim = store.claim(CLAIM_KEY, "worker-a", MINUTE)
        assert claim is not None
        batch = Batch("f1")
        batch.upsert_link(make_link(1, email="ada@example.org"))
        batch.release_claim(claim)
        batch.release_claim(claim)
        assert store.claim(CLAIM_KEY, "worker-b", MINUTE) is None
        store.commit_batch(batch)
        assert store.links_for_persons(PAIR, AUDIENCE, [1])[1].email == "ada@example.org"
        taken = store.claim(CLAIM_KEY, "worker-b", MINUTE)
        assert taken is not None
        assert taken.taken_over is False
        clock.advance(2 * MINUTE)
        current = store.claim(CLAIM_KEY, "worker-c", MINUTE)
        stale_batch = Batch("f1")
        stale_batch.release_claim(taken)
        store.commit_batch(stale_batch)
        assert current is not None
        assert store.claim(CLAIM_KEY, "worker-d", MINUTE) is None

    def test_refused_batch_keeps_its_claim_and_memberships(
        self, store: StateStore, clock: ManualClock
    ) -> None:
        """A batch refused whole leaves its claim held and its memberships as they were."""
        save_flow(store)
        run = store.start_run("f1")
        commit_links(store, make_link(1), make_link(2))
        track(store, person_key(2))
        claim = store.claim(CLAIM_KEY, "worker-a", 5 * MINUTE)
        assert claim is not None
        clock.advance(MINUTE)
        before = snapshot(store)
        batch = full_batch("f1", run.run_id, make_link(3))
        batch.end_pass(clock.now())
        batch.release_claim(claim)
        batch.upsert_link(make_link(1, email="contact2@example.com"))
        with pytest.raises(LinkConflictError):
            store.commit_batch(batch)
        assert snapshot(store) == before
        assert before["memberships"] == {person_key(2): True}
        assert store.claim(CLAIM_KEY, "worker-b", MINUTE) is None

    def test_threads_racing_for_a_claim_get_exactly_one(self, handles: OpenStore) -> None:
        """Of several workers taking a free claim at once, exactly one gets it."""
        stores = [handles() for _ in range(6)]
        results = race(6, lambda i: stores[i].claim(CLAIM_KEY, f"worker-{i}", MINUTE))
        winners = [result for result in results if isinstance(result, Claim)]
        assert len(winners) == 1
        assert results.count(None) == 5
        assert winners[0].taken_over is False
        again = stores[-1].claim(CLAIM_KEY, winners[0].holder, MINUTE)
        assert again is not None
        assert again.token == winners[0].token

    def test_threads_racing_for_an_expired_claim_get_one_takeover(
        self, handles: OpenStore, clock: ManualClock
    ) -> None:
        """Of several workers taking over an expired claim at once, exactly one gets it."""
        stores = [handles() for _ in range(6)]
        crashed = stores[0].claim(CLAIM_KEY, "crashed-worker", MINUTE)
        assert crashed is not None
        clock.advance(2 * MINUTE)
        results = race(6, lambda i: stores[i].claim(CLAIM_KEY, f"worker-{i}", MINUTE))
        winners = [result for result in results if isinstance(result, Claim)]
        assert len(winners) == 1
        assert results.count(None) == 5
        assert winners[0].taken_over is True

    def test_bad_claim_arguments_are_refused(self, store: StateStore) -> None:
        """A bad key, holder or ttl, or a release of something not a claim, is refused."""
        with pytest.raises(ConfigurationError, match="claim's key"):
            store.claim("", "worker-a", MINUTE)
        with pytest.raises(ConfigurationError, match="claim's holder"):
            store.claim(CLAIM_KEY, " ", MINUTE)
        with pytest.raises(ConfigurationError, match="claim's ttl"):
            store.claim(CLAIM_KEY, "worker-a", timedelta(0))
        with pytest.raises(ConfigurationError, match="claim's ttl"):
            store.claim(CLAIM_KEY, "worker-a", 60)  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError, match="release_claim takes a Claim"):
            store.release_claim(CLAIM_KEY)  # type: ignore[arg-type]
        assert store.claim(CLAIM_KEY, "worker-a", MINUTE) is not None

    # -- handles ---------------------------------------------------------------------------

    def test_second_handle_sees_committed_state(self, handles: OpenStore) -> None:
        """What one handle commits, another handle on the same store reads."""
        writer, reader = handles(), handles()
        save_flow(writer)
        run = writer.start_run("f1")
        writer.commit_batch(full_batch("f1", run.run_id, make_link(1)))
        assert snapshot(reader) == snapshot(writer)
        assert reader.get_flow("f1") == writer.get_flow("f1")

    def test_closed_store_refuses_calls(self, store: StateStore) -> None:
        """After close(), calls raise StoreError instead of crashing."""
        store.close()
        with pytest.raises(StoreError):
            store.get_flow("f1")
        with pytest.raises(StoreError):
            store.tracked("f1", [person_key(1)])
        with pytest.raises(StoreError):
            store.claim(CLAIM_KEY, "worker-a", MINUTE)
