"""Several processes on one store: lease, claim and schema races, and SIGKILL mid-commit."""

from __future__ import annotations

import json
import multiprocessing
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pdmc.storage import Claim
from pdmc.storage.testing import CLAIM_KEY, ManualClock, save_flow
from tests.storage import store_workers
from tests.storage.store_workers import check_consistent, open_database, write_batch

WORKERS = Path(store_workers.__file__)
RACERS = 4


def _run_in_processes(target, *args):
    """Start RACERS spawned processes running target(*args, barrier, queue); return results."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(RACERS), context.Queue()
    processes = [
        context.Process(target=target, args=(*(arg(i) for arg in args), barrier, results))
        for i in range(RACERS)
    ]
    for process in processes:
        process.start()
    try:
        return [results.get(timeout=120) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=60)
        results.close()
        results.join_thread()


def test_processes_racing_for_a_lease_get_exactly_one_winner(database_spec):
    """Of several processes taking the same free lease at the same moment, exactly one wins."""
    with open_database(database_spec) as store:
        save_flow(store)
    outcomes = _run_in_processes(
        store_workers.race_for_lease, lambda _: database_spec, lambda i: f"worker-{i}"
    )
    assert sorted(kind for kind, _ in outcomes) == ["refused"] * (RACERS - 1) + ["won"]
    winner = next(holder for kind, holder in outcomes if kind == "won")
    with open_database(database_spec) as store:
        lease = store.get_lease("f1")
        assert lease is not None
        assert lease.holder == winner


@pytest.mark.parametrize("crashed_before", [False, True])
def test_processes_racing_for_a_claim_get_exactly_one(database_spec, crashed_before):
    """Of several processes taking one claim (free, or a crashed holder's) at once, one wins."""
    if crashed_before:
        with open_database(database_spec, ManualClock(datetime(2000, 1, 1, tzinfo=UTC))) as store:
            assert store.claim(CLAIM_KEY, "crashed-worker", timedelta(minutes=5)) is not None
    outcomes = _run_in_processes(
        store_workers.race_for_claim, lambda _: database_spec, lambda i: f"worker-{i}"
    )
    assert sorted(kind for kind, _ in outcomes) == ["refused"] * (RACERS - 1) + ["won"]
    (winner,) = [claim for kind, claim in outcomes if kind == "won"]
    assert isinstance(winner, Claim)
    assert winner.taken_over is crashed_before
    with open_database(database_spec) as store:
        assert store.claim(CLAIM_KEY, "late-worker", timedelta(minutes=5)) is None
        again = store.claim(CLAIM_KEY, winner.holder, timedelta(minutes=5))
        assert again is not None
        assert again.token == winner.token


def test_processes_creating_one_store_at_once_all_succeed(database_spec):
    """Several processes opening a brand-new store at once all get it at the current version."""
    versions = _run_in_processes(store_workers.open_at_once, lambda _: database_spec)
    with open_database(database_spec) as store:
        current = store.schema_version()
    assert versions == [current] * RACERS


def _start_writer(spec):
    writer = subprocess.Popen(  # noqa: S603 - our own script, our own arguments
        [sys.executable, str(WORKERS), "crash-writer", json.dumps(spec)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "ready"
    return writer


@pytest.mark.slow
def test_sigkill_during_batch_commits_leaves_the_store_consistent(database_spec):
    """A writer killed with SIGKILL at random moments leaves whole batches only, and resumes."""
    chance = random.Random(20250101)  # noqa: S311 - picks kill moments, not secrets
    reached = 0
    for _ in range(5):
        writer = _start_writer(database_spec)
        time.sleep(chance.uniform(0.05, 0.4))
        writer.send_signal(signal.SIGKILL)
        printed = [int(line) for line in writer.communicate()[0].split()]
        assert writer.returncode == -signal.SIGKILL
        with open_database(database_spec) as store:
            done = check_consistent(store)
        # A batch may commit and the writer die before printing its number, never the reverse.
        assert done >= max(printed, default=reached)
        reached = done
    assert reached > 0
    with open_database(database_spec) as store:
        write_batch(store, store.start_run(store_workers.FLOW).run_id, reached + 1)
        assert check_consistent(store) == reached + 1
