"""Code the storage tests run in other processes: lease and claim racers, a batch writer to kill.

A store is named by a spec, a tuple a child process can receive:
``("memory",)``, ``("sqlite", path)`` or ``("postgres", conninfo, schema)``.

Run as a script, ``python store_workers.py crash-writer '<spec as JSON>'`` commits
batches in a loop, printing each batch number once it is committed, until killed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import Any

from pdmc.errors import LeaseHeldError
from pdmc.storage import (
    Batch,
    Clock,
    Link,
    MemoryStore,
    Outcome,
    PostgresStore,
    SQLiteStore,
    StateStore,
)
from pdmc.storage.testing import CLAIM_KEY, person_key, save_flow

PAIR = "crash-pair"
AUDIENCE = "crash-audience"
FLOW = "crash"
NEW_PER_BATCH = 200  # links each batch adds
HOT = 50  # links every batch updates
_FAR_PAST = datetime(2000, 1, 1, tzinfo=UTC)


def open_database(spec: Sequence[str], clock: Clock | None = None) -> SQLiteStore | PostgresStore:
    """Open the database store a spec names, reading ``clock`` (the system clock by default)."""
    kind, *args = spec
    if kind == "sqlite":
        return SQLiteStore(args[0], clock=clock)
    return PostgresStore(args[0], schema=args[1], clock=clock)


def open_store(
    spec: Sequence[str], clock: Clock | None = None
) -> MemoryStore | SQLiteStore | PostgresStore:
    """Open the store a spec names, reading ``clock`` (the system clock by default)."""
    return MemoryStore(clock=clock) if spec[0] == "memory" else open_database(spec, clock)


def race_for_lease(spec: Sequence[str], holder: str, barrier: Barrier, results: Queue[Any]) -> None:
    """Open the store, wait for the other racers, try to take flow f1's lease, report."""
    with open_store(spec) as store:
        barrier.wait()
        try:
            lease = store.acquire_lease("f1", holder, timedelta(minutes=5))
        except LeaseHeldError:
            results.put(("refused", holder))
        except Exception as exc:  # noqa: BLE001 - the parent asserts on what happened
            results.put(("error", repr(exc)))
        else:
            results.put(("won", lease.holder))


def race_for_claim(spec: Sequence[str], holder: str, barrier: Barrier, results: Queue[Any]) -> None:
    """Open the store, wait for the other racers, try to take CLAIM_KEY, report."""
    with open_store(spec) as store:
        barrier.wait()
        try:
            claim = store.claim(CLAIM_KEY, holder, timedelta(minutes=5))
        except Exception as exc:  # noqa: BLE001 - the parent asserts on what happened
            results.put(("error", repr(exc)))
        else:
            results.put(("refused", holder) if claim is None else ("won", claim))


def open_at_once(spec: Sequence[str], barrier: Barrier, results: Queue[Any]) -> None:
    """Wait for the other openers, open the store (creating its schema), report its version."""
    barrier.wait()
    try:
        with open_database(spec) as store:
            results.put(store.schema_version())
    except Exception as exc:  # noqa: BLE001 - the parent asserts on what happened
        results.put(repr(exc))


def write_batch(store: StateStore, run_id: int, number: int) -> None:
    """Commit batch ``number``: new links, updates of the hot links, checkpoint, retry, event."""
    batch = Batch(FLOW, run_id=run_id)
    for j in range(NEW_PER_BATCH):
        person = number * 1000 + j
        batch.upsert_link(
            Link(
                account_pair=PAIR,
                audience_id=AUDIENCE,
                email=f"b{number}-{j}@example.com",
                person_id=person,
                member_id=f"m{person}",
                pipedrive_fingerprint=f"fp{number}",
            )
        )
        batch.record_outcome(Outcome(action="created", person_id=person))
        batch.track(person_key(person))
    for h in range(1, HOT + 1):
        batch.upsert_link(
            Link(
                account_pair=PAIR,
                audience_id=AUDIENCE,
                email=f"hot{h}@example.com",
                person_id=h,
                mailchimp_fingerprint=f"fp{number}",
            )
        )
    batch.set_checkpoint("batch", number)
    batch.retry_later(f"row-{number}", payload=number, error="timeout", next_attempt_at=_FAR_PAST)
    batch.retry_done(f"row-{number - 1}")
    batch.mark_event("crash", str(number))
    store.commit_batch(batch)


def check_consistent(store: StateStore) -> int:
    """Assert every committed batch is wholly present and no other; return the last one."""
    done: int = store.get_checkpoints(FLOW).get("batch", 0)
    hot = store.links_for_persons(PAIR, AUDIENCE, range(1, HOT + 1))
    assert len(hot) == (HOT if done else 0)
    assert {link.mailchimp_fingerprint for link in hot.values()} <= {f"fp{done}"}
    for number in range(1, done + 2):
        persons = range(number * 1000, number * 1000 + NEW_PER_BATCH)
        links = store.links_for_persons(PAIR, AUDIENCE, persons)
        assert len(links) == (NEW_PER_BATCH if number <= done else 0), number
        assert {link.pipedrive_fingerprint for link in links.values()} <= {f"fp{number}"}
        tracked = store.tracked(FLOW, [person_key(person) for person in persons])
        assert len(tracked) == (NEW_PER_BATCH if number <= done else 0), number
    assert store.count_links(PAIR, AUDIENCE) == done * NEW_PER_BATCH + (HOT if done else 0)
    assert [row.row_key for row in store.due_retries(FLOW)] == ([f"row-{done}"] if done else [])
    assert store.is_event_processed("crash", str(done)) == (done > 0)
    assert not store.is_event_processed("crash", str(done + 1))
    runs = store.list_runs(FLOW, limit=1000)
    assert sum(len(list(store.iter_outcomes(run.run_id))) for run in runs) == done * NEW_PER_BATCH
    return done


def crash_writer(spec: Sequence[str]) -> None:
    """Commit batches forever, printing each number once committed."""
    store = open_store(spec)
    if store.get_flow(FLOW) is None:
        save_flow(store, FLOW)
    number = store.get_checkpoints(FLOW).get("batch", 0)
    run = store.start_run(FLOW)
    print("ready", flush=True)  # noqa: T201 - the parent reads these lines
    while True:
        number += 1
        write_batch(store, run.run_id, number)
        print(number, flush=True)  # noqa: T201 - the parent reads these lines


if __name__ == "__main__":
    if sys.argv[1] == "crash-writer":
        crash_writer(json.loads(sys.argv[2]))
