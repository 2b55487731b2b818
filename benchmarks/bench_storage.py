"""How fast each state store takes the engine's batches: upserts and lookups of 100,000 links.

Run ``python benchmarks/bench_storage.py``. For each store it times, in batches of
500 as the sync engine uses them:

* insert: new links committed one batch at a time (a first sync);
* update: every link's fingerprint changed (a run that wrote every contact);
* sync batch: a batch after writing 500 contacts: 500 link updates, 500 outcomes, a
  checkpoint;
* sync batch + track: the same with the 500 contacts' memberships, as the engine
  commits a batch of a scheduled flow's pass (here the flow's first pass);
* end pass: one batch that ends that pass, over the flow's 100,000 memberships (all
  seen, so none turns off: the usual case), timed once;
* lookup by email / by person id / tracked: one ``links_for_*`` or ``tracked`` call per
  500 keys.

PostgreSQL is measured on a throw-away server started from the installed binaries
(``apt-get install postgresql``) with its default, durable settings; it is left out
when they are missing. SQLite runs on a file in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pdmc.storage import Batch, Link, MemoryStore, Outcome, SQLiteStore, StateStore
from pdmc.storage.testing import save_flow

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository, for tests/
from tests.storage.pg_server import PgServer, find_binaries

PAIR = "bench-pair"
AUDIENCE = "bench-audience"
FLOW = "bench"
_Input = TypeVar("_Input")


def _link(n: int, fingerprint: str) -> Link:
    return Link(
        account_pair=PAIR,
        audience_id=AUDIENCE,
        email=f"contact{n}@example.com",
        person_id=n + 1,
        member_id=f"member-{n}",
        member_status="subscribed",
        mailchimp_fingerprint=fingerprint,
    )


def _membership(n: int) -> str:
    return f"person:{n + 1}"


def _batches(total: int, size: int) -> Iterator[range]:
    for start in range(0, total, size):
        yield range(start, min(start + size, total))


def _time_batches(
    total: int, size: int, prepare: Callable[[range], _Input], step: Callable[[_Input], object]
) -> dict[str, float]:
    """Time ``step`` on each batch that ``prepare`` builds (untimed, as the engine's work)."""
    seconds = []
    for keys in _batches(total, size):
        given = prepare(keys)
        started = time.perf_counter()
        step(given)
        seconds.append(time.perf_counter() - started)
    return {
        "rows": total,
        "rows_per_s": total / sum(seconds),
        "batch_ms_mean": statistics.mean(seconds) * 1000,
        "batch_ms_p95": (
            statistics.quantiles(seconds, n=20)[-1] if len(seconds) > 1 else seconds[0]
        )
        * 1000,
    }


def _links_batch(
    fingerprint: str, run_id: int | None = None, *, track: bool = False
) -> Callable[[range], Batch]:
    """Build the batch of one chunk: its links, and for a sync batch outcomes and a checkpoint.

    With ``track``, the batch also records the chunk's memberships.
    """

    def prepare(keys: range) -> Batch:
        batch = Batch(FLOW, run_id=run_id)
        for n in keys:
            batch.upsert_link(_link(n, fingerprint))
            if run_id is not None:
                batch.record_outcome(Outcome(action="updated", person_id=n + 1))
            if track:
                batch.track(_membership(n))
        if run_id is not None:
            batch.set_checkpoint("persons", {"cursor": keys.stop})
        return batch

    return prepare


def _end_pass(started_at: datetime) -> Callable[[range], Batch]:
    def prepare(keys: range) -> Batch:  # noqa: ARG001 - one batch ends the whole pass
        batch = Batch(FLOW)
        batch.end_pass(started_at)
        return batch

    return prepare


def measure(store: StateStore, total: int, size: int) -> dict[str, dict[str, float]]:
    """Time every operation on an empty store; return the figures by operation."""
    save_flow(store, FLOW)
    started = store.start_run(FLOW)
    run = started.run_id
    pair, audience = PAIR, AUDIENCE

    def by_email(keys: range) -> list[str]:
        return [f"Contact{n}@Example.com" for n in keys]

    def by_person(keys: range) -> list[int]:
        return [n + 1 for n in keys]

    def by_membership(keys: range) -> list[str]:
        return [_membership(n) for n in keys]

    def found_all(found: Mapping[Any, object], keys: Sequence[object]) -> None:
        assert len(found) == len(keys), "a lookup missed links or memberships"

    return {
        "insert": _time_batches(total, size, _links_batch("v1"), store.commit_batch),
        "update": _time_batches(total, size, _links_batch("v2"), store.commit_batch),
        "sync batch": _time_batches(total, size, _links_batch("v3", run), store.commit_batch),
        "sync batch + track": _time_batches(
            total, size, _links_batch("v4", run, track=True), store.commit_batch
        ),
        "end pass": _time_batches(total, total, _end_pass(started.started_at), store.commit_batch),
        "lookup by email": _time_batches(
            total,
            size,
            by_email,
            lambda keys: found_all(store.links_for_emails(pair, audience, keys), keys),
        ),
        "lookup by person id": _time_batches(
            total,
            size,
            by_person,
            lambda keys: found_all(store.links_for_persons(pair, audience, keys), keys),
        ),
        "lookup tracked": _time_batches(
            total,
            size,
            by_membership,
            lambda keys: found_all(store.tracked(FLOW, keys), keys),
        ),
    }


@contextmanager
def open_stores(names: Sequence[str], folder: Path) -> Iterator[dict[str, StateStore]]:
    """Open the stores to measure; PostgreSQL only when its binaries are installed."""
    with ExitStack() as stack:
        stores: dict[str, StateStore] = {}
        for name in names:
            if name == "memory":
                stores[name] = stack.enter_context(MemoryStore())
            elif name == "sqlite":
                stores[name] = stack.enter_context(SQLiteStore(folder / "bench.sqlite3"))
            elif (bindir := find_binaries()) is None:
                print("postgres: skipped, no server binaries (apt-get install postgresql)")
            else:
                from pdmc.storage import PostgresStore  # noqa: PLC0415 - needs psycopg

                server = stack.enter_context(PgServer(bindir))
                stores[name] = stack.enter_context(PostgresStore(server.conninfo))
        yield stores


def main() -> None:
    """Measure the stores and print one table (and JSON, when asked)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--links", type=int, default=100_000, help="links per store")
    parser.add_argument("--batch", type=int, default=500, help="rows per batch")
    parser.add_argument("--stores", default="memory,sqlite,postgres", help="comma-separated")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    results: dict[str, dict[str, dict[str, float]]] = {}
    with (
        tempfile.TemporaryDirectory() as folder,
        open_stores(args.stores.split(","), Path(folder)) as stores,
    ):
        for name, store in stores.items():
            results[name] = measure(store, args.links, args.batch)

    print(
        f"{'store':<9} {'operation':<20} {'rows':>8} {'rows/s':>10} {'ms/batch':>9} {'p95 ms':>7}"
    )
    for name, operations in results.items():
        for operation, figures in operations.items():
            print(
                f"{name:<9} {operation:<20} {figures['rows']:>8,.0f} "
                f"{figures['rows_per_s']:>10,.0f} {figures['batch_ms_mean']:>9.2f} "
                f"{figures['batch_ms_p95']:>7.2f}"
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
